//! Turns SIGTERM and SIGINT into a graceful [`Shutdown`] for the standalone servers (serve sync/async, upstream).

use anyhow::Context;
use server_kit::lifecycle::Shutdown;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// A shutdown token cancelled by the first SIGTERM or SIGINT. Install it before any runtime starts.
pub fn shutdown_on_signals() -> anyhow::Result<Shutdown> {
    let shutdown = Shutdown::new();
    let mut signals = Signals::new([SIGTERM, SIGINT]).context("cannot install SIGTERM/SIGINT handlers")?;
    let trigger = shutdown.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Cancel first: the stop must not depend on the log line below reaching a live stderr.
                trigger.cancel();
                tracing::info!(signal, "shutting down gracefully");
            }
        })
        .context("cannot start the signal thread")?;
    Ok(shutdown)
}
