//! `tracing` to stderr, filtered by `--log-level`; stdout stays free for the `Listening at:` line and results.
//! Nothing printed here may panic: a server whose stderr is a closed pipe (`rustcorn serve ... 2>&1 | head -1`)
//! must still serve and still stop on SIGTERM, so a failed write is dropped, never reported with `eprintln!`.

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;

pub fn init(level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|error| {
        warn(format_args!("bad --log-level {level:?} ({error}); using info"));
        EnvFilter::new("info")
    });
    // `log_internal_errors(false)`: tracing-subscriber would otherwise report a failed write with `eprintln!`,
    // which panics on a broken stderr and takes the calling thread (the signal thread, say) with it.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: in a log file or a pipe they are noise around every line.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .log_internal_errors(false)
        .init();
}

/// `rustcorn: warning: ...` on stderr, dropped silently when stderr is gone.
pub fn warn(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "rustcorn: warning: {message}");
}

/// Writes `text` and a newline to stderr; a broken stderr is ignored (the exit status still tells).
pub fn print_stderr(text: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
