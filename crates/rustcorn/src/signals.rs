//! Turns SIGTERM and SIGINT into a cancelled token: a graceful [`Shutdown`] for the standalone servers (serve
//! sync/async, upstream, load), and the stop of `bench run`, which then writes what it has.

use anyhow::Context;
use server_kit::lifecycle::Shutdown;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// A shutdown token cancelled by the first SIGTERM or SIGINT. Install it before any runtime starts.
pub fn shutdown_on_signals() -> anyhow::Result<Shutdown> {
    cancel_on_signals("shutting down gracefully")
}

/// A token cancelled by the first SIGTERM or SIGINT, which then logs `stopping` (what the command does next).
pub fn cancel_on_signals(stopping: &'static str) -> anyhow::Result<Shutdown> {
    let shutdown = Shutdown::new();
    let mut signals = Signals::new([SIGTERM, SIGINT]).context("cannot install SIGTERM/SIGINT handlers")?;
    let trigger = shutdown.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Cancel first: the stop must not depend on the log line below reaching a live stderr.
                trigger.cancel();
                tracing::info!(signal, "{stopping}");
            }
        })
        .context("cannot start the signal thread")?;
    Ok(shutdown)
}
