//! [`RunControl`]: how a caller steers a running load (cancel it early) and watches it (live counters for a
//! progress bar). The worker threads add to the counters in batches, so reading them costs the hot path nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

// The servers' shutdown token, so that one name serves for stopping a server and cancelling a run (the bench
// driver hands the same signal-driven token to both).
pub use server_kit::Shutdown;

/// Handed to [`crate::run`]. Cancelling `cancel` stops the run early; [`crate::run`] still returns the stats so far.
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    pub cancel: Shutdown,
    pub live: Arc<LiveCounters>,
}

/// Running totals of measured requests (warm-up excluded), updated about every 100 ms by each load thread.
#[derive(Debug, Default)]
pub struct LiveCounters {
    requests: AtomicU64,
    failures: AtomicU64,
}

impl LiveCounters {
    /// Requests finished so far (successes and failures).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Failed requests so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, requests: u64, failures: u64) {
        self.requests.fetch_add(requests, Ordering::Relaxed);
        self.failures.fetch_add(failures, Ordering::Relaxed);
    }
}

impl RunControl {
    pub fn new() -> RunControl {
        RunControl::default()
    }
}
