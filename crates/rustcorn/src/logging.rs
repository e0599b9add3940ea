//! `tracing` to stderr, filtered by `--log-level`; stdout stays free for the `Listening at:` line and results.

use tracing_subscriber::EnvFilter;

pub fn init(level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|error| {
        eprintln!("rustcorn: warning: bad --log-level {level:?} ({error}); using info");
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}
