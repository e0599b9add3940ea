//! Responses counted per server worker process, by the `x-worker-pid` header that every rustcorn server and the
//! Python peers send: how evenly a multi-process server shared the load, also for targets that cannot report it
//! themselves. Each load thread's recorder keeps one [`WorkerCounts`] (reserved up front, so counting allocates
//! nothing and takes no lock); the run adds them up at the end.

use serde::{Deserialize, Serialize};

/// The response header naming the worker process that answered.
pub const WORKER_PID_HEADER: &str = "x-worker-pid";

/// Distinct worker pids counted one by one; responses from further pids (a server recycling workers very often)
/// are counted together in [`WorkerCounts::other_workers`].
pub const MAX_COUNTED_WORKERS: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerCounts {
    /// One entry per worker pid, in pid order once the run is assembled.
    pub workers: Vec<WorkerCount>,
    /// Responses from pids seen after [`MAX_COUNTED_WORKERS`] others.
    pub other_workers: u64,
    /// Responses without a readable `x-worker-pid` header.
    pub without_pid: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerCount {
    pub pid: u32,
    pub responses: u64,
}

impl WorkerCounts {
    /// Room for every counted pid, so that [`WorkerCounts::record`] never allocates.
    pub(crate) fn reserved() -> WorkerCounts {
        WorkerCounts { workers: Vec::with_capacity(MAX_COUNTED_WORKERS), ..WorkerCounts::default() }
    }

    /// Counts one response from `pid` (None: the header was missing or unreadable).
    pub(crate) fn record(&mut self, pid: Option<u32>) {
        match pid {
            Some(pid) => self.add_responses(pid, 1),
            None => self.without_pid += 1,
        }
    }

    /// Adds another thread's or agent's counts.
    pub(crate) fn add(&mut self, other: &WorkerCounts) {
        for worker in &other.workers {
            self.add_responses(worker.pid, worker.responses);
        }
        self.other_workers += other.other_workers;
        self.without_pid += other.without_pid;
    }

    /// Puts the workers in pid order, for output that does not depend on which thread saw whom first.
    pub(crate) fn sorted(mut self) -> WorkerCounts {
        self.workers.sort_by_key(|worker| worker.pid);
        self
    }

    /// Fewest over most responses among the workers seen (see [`balance`]).
    pub fn balance(&self) -> Option<f64> {
        balance(self.workers.iter().map(|worker| worker.responses))
    }

    fn add_responses(&mut self, pid: u32, responses: u64) {
        // A linear search: a target has a handful of workers, and the busiest one is usually met first.
        if let Some(worker) = self.workers.iter_mut().find(|worker| worker.pid == pid) {
            worker.responses += responses;
        } else if self.workers.len() < MAX_COUNTED_WORKERS {
            self.workers.push(WorkerCount { pid, responses });
        } else {
            self.other_workers += responses;
        }
    }
}

/// Fewest over most of per-worker counts: 1.0 is an even spread, 0.0 a worker left idle. None without a
/// count above zero.
pub fn balance(counts: impl IntoIterator<Item = u64>) -> Option<f64> {
    let (fewest, most) = counts.into_iter().fold(None, |range, count| match range {
        None => Some((count, count)),
        Some((fewest, most)) => Some((count.min(fewest), count.max(most))),
    })?;
    (most > 0).then(|| fewest as f64 / most as f64)
}

/// The pid in an `x-worker-pid` header value; None when it is not a number. Read digit by digit: on the hot path
/// callgrind counts that at about 110 instructions a response, against 150 for `str::parse` with its UTF-8 check.
pub(crate) fn parse_pid(value: &[u8]) -> Option<u32> {
    let digits = value.trim_ascii();
    if digits.is_empty() || digits.len() > 10 {
        return None;
    }
    let mut pid: u64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        pid = pid * 10 + u64::from(byte - b'0');
    }
    u32::try_from(pid).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_pid_without_growing_past_the_reservation() {
        let mut counts = WorkerCounts::reserved();
        let capacity = counts.workers.capacity();
        for pid in [7, 3, 7, 7] {
            counts.record(Some(pid));
        }
        counts.record(None);
        for pid in 1000..1000 + MAX_COUNTED_WORKERS as u32 {
            counts.record(Some(pid));
        }
        assert_eq!(counts.workers.capacity(), capacity, "no allocation while counting");
        assert_eq!(counts.workers.len(), MAX_COUNTED_WORKERS);
        assert_eq!(counts.other_workers, 2, "the pids past the bound are counted together");
        assert_eq!(counts.without_pid, 1);
        let counts = counts.sorted();
        assert_eq!(counts.workers[0], WorkerCount { pid: 3, responses: 1 });
        assert_eq!(counts.workers[1], WorkerCount { pid: 7, responses: 3 });
    }

    #[test]
    fn threads_add_up_by_pid() {
        let mut first = WorkerCounts::reserved();
        let mut second = WorkerCounts::reserved();
        first.record(Some(10));
        second.record(Some(10));
        second.record(Some(11));
        second.record(None);
        first.add(&second);
        let total = first.sorted();
        assert_eq!(total.workers, [WorkerCount { pid: 10, responses: 2 }, WorkerCount { pid: 11, responses: 1 }]);
        assert_eq!(total.without_pid, 1);
        assert_eq!(total.balance(), Some(0.5));
        assert_eq!(WorkerCounts::default().balance(), None);
        assert_eq!(balance([53_904, 0]), Some(0.0));
        assert_eq!(balance([0, 0]), None);
    }

    #[test]
    fn pids_parse_from_header_values() {
        assert_eq!(parse_pid(b"12345"), Some(12345));
        assert_eq!(parse_pid(b" 42 "), Some(42));
        assert_eq!(parse_pid(b"worker-1"), None);
        assert_eq!(parse_pid(b""), None);
        assert_eq!(parse_pid(b"99999999999"), None);
        assert_eq!(parse_pid(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_pid(b"4294967296"), None);
        assert_eq!(parse_pid(b"+42"), None);
    }
}
