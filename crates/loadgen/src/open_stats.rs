//! [`OpenLoopStats`]: how an open-rate run's generator kept to its schedule - the most connections it held, the
//! slots that waited because its connection bound was reached, and how late it sent when a connection was free.
//! Either one marks the run `generator_behind`: its figures are then the generator's limit, never the target's.

use serde::{Deserialize, Serialize};

use crate::histogram::Latencies;

/// Send lag (p99, when a connection was free) above which the generator, not the target, set the pace.
pub const GENERATOR_LAG_LIMIT_US: u64 = 1_000;

/// Descriptors kept free beyond the connections: stdio, the runtimes' epoll and timer fds, output files.
pub(crate) const SPARE_FILES: u64 = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopStats {
    /// The bound on connections open at once, over all load threads.
    pub max_connections: u64,
    /// The most connections open at once (each holds at most one socket; an idle one is kept alive for reuse).
    pub most_open: u64,
    /// Slots of the measured window that found every connection busy with the bound reached, or fell due while
    /// the generator was waiting for one, and so went out late: the generator's limit.
    pub bound_waits: u64,
    /// Lateness of the sends that found a connection free: the generator's own lag behind its schedule.
    pub send_lag_p50_us: u64,
    pub send_lag_p99_us: u64,
    pub send_lag_max_us: u64,
    /// The soft RLIMIT_NOFILE the run had (after raising it toward the hard limit); None if it could not be read.
    pub open_file_limit: Option<u64>,
    /// True when a slot waited for the bound or the send lag's p99 passed [`GENERATOR_LAG_LIMIT_US`].
    pub generator_behind: bool,
}

/// What one load thread counted of its open-loop sends.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenLoopCounts {
    pub most_open: u64,
    pub bound_waits: u64,
    /// Lag of the window's sends that did not wait for the bound, in microseconds.
    pub send_lag: Latencies,
}

impl OpenLoopCounts {
    pub fn add(&mut self, other: &OpenLoopCounts) -> Result<(), crate::LoadError> {
        self.most_open += other.most_open;
        self.bound_waits += other.bound_waits;
        self.send_lag.add(&other.send_lag)
    }

    pub fn stats(&self, max_connections: u64, open_file_limit: Option<u64>) -> OpenLoopStats {
        let send_lag_p99_us = self.send_lag.percentile(99.0);
        OpenLoopStats {
            max_connections,
            most_open: self.most_open,
            bound_waits: self.bound_waits,
            send_lag_p50_us: self.send_lag.percentile(50.0),
            send_lag_p99_us,
            send_lag_max_us: if self.send_lag.samples() > 0 { self.send_lag.max_us } else { 0 },
            open_file_limit,
            generator_behind: is_behind(self.bound_waits, send_lag_p99_us),
        }
    }
}

impl OpenLoopStats {
    /// True when the open-file limit leaves no room for the connection bound: the bound could not be reached.
    pub fn file_limit_short(&self) -> bool {
        self.open_file_limit.is_some_and(|limit| limit < self.max_connections + SPARE_FILES)
    }

    /// Several agents' generators together: counts add, the worst lag stands, one agent behind is enough.
    pub fn merge<'a>(all: impl IntoIterator<Item = &'a OpenLoopStats>) -> Option<OpenLoopStats> {
        all.into_iter().fold(None, |merged: Option<OpenLoopStats>, stats| {
            let Some(total) = merged else { return Some(stats.clone()) };
            Some(OpenLoopStats {
                max_connections: total.max_connections + stats.max_connections,
                most_open: total.most_open + stats.most_open,
                bound_waits: total.bound_waits + stats.bound_waits,
                send_lag_p50_us: total.send_lag_p50_us.max(stats.send_lag_p50_us),
                send_lag_p99_us: total.send_lag_p99_us.max(stats.send_lag_p99_us),
                send_lag_max_us: total.send_lag_max_us.max(stats.send_lag_max_us),
                open_file_limit: total.open_file_limit.min(stats.open_file_limit),
                generator_behind: total.generator_behind || stats.generator_behind,
            })
        })
    }
}

fn is_behind(bound_waits: u64, send_lag_p99_us: u64) -> bool {
    bound_waits > 0 || send_lag_p99_us > GENERATOR_LAG_LIMIT_US
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_wait_or_a_late_p99_marks_the_generator_behind() {
        let mut counts = OpenLoopCounts::default();
        for _ in 0..100 {
            counts.send_lag.record(50);
        }
        assert!(!counts.stats(10, None).generator_behind);
        counts.bound_waits = 1;
        assert!(counts.stats(10, None).generator_behind, "one slot waiting for the bound is enough");
        let mut late = OpenLoopCounts::default();
        for lag in 0..100 {
            late.send_lag.record(if lag < 95 { 50 } else { 5_000 });
        }
        let stats = late.stats(10, Some(1024));
        assert!(stats.generator_behind && stats.send_lag_p99_us >= 4_990, "{stats:?}");
    }

    #[test]
    fn agents_merge_by_adding_counts_and_keeping_the_worst_lag() {
        let quiet = OpenLoopCounts::default().stats(10, Some(1024));
        let mut busy_counts = OpenLoopCounts { most_open: 7, bound_waits: 2, ..Default::default() };
        busy_counts.send_lag.record(300);
        let busy = busy_counts.stats(20, Some(4096));
        let merged = OpenLoopStats::merge([&quiet, &busy]).unwrap();
        assert_eq!((merged.max_connections, merged.most_open, merged.bound_waits), (30, 7, 2));
        assert!(merged.generator_behind);
        assert_eq!(merged.open_file_limit, Some(1024));
        assert_eq!(OpenLoopStats::merge([]), None);
    }
}
