//! Requests per worker process in one phase, from the best source the target had: the prefork master's `--stats`
//! (Rust prefork targets: per worker position, respawns included, warm-up included) or the load generator's count
//! of the `x-worker-pid` header (every target, measured part only). The report's chart and verdict and the
//! article's claims read the spread from here. [`crate::ObservedWorkers`] counts, per phase, the processes
//! that served and the ones that could have.

use crate::PhaseResult;

/// Where a phase's per-worker counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerCountSource {
    /// The prefork master's `--stats` file ([`PhaseResult::worker_requests`]).
    MasterStats,
    /// The load generator's responses per `x-worker-pid` ([`loadgen::LoadReport::responses_per_worker`]).
    WorkerPidHeader,
}

/// One worker's share of a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerShare {
    /// Its pid (with `--stats`: the last process in that worker position); None for a worker the load
    /// generator never heard from, known only from the target's worker count.
    pub pid: Option<u32>,
    pub requests: u64,
}

/// Requests per worker in one phase, in worker order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLoad {
    pub source: WorkerCountSource,
    pub workers: Vec<WorkerShare>,
}

impl WorkerLoad {
    /// Fewest over most requests per worker: 1.0 is an even spread, 0.0 an idle worker.
    pub fn balance(&self) -> Option<f64> {
        loadgen::per_worker::balance(self.workers.iter().map(|worker| worker.requests))
    }

    pub fn fewest(&self) -> u64 {
        self.workers.iter().map(|worker| worker.requests).min().unwrap_or(0)
    }

    pub fn most(&self) -> u64 {
        self.workers.iter().map(|worker| worker.requests).max().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.workers.iter().map(|worker| worker.requests).sum()
    }
}

impl PhaseResult {
    /// Requests per worker in this phase: the master's `--stats` when the target wrote them, else the
    /// `x-worker-pid` counts. A worker that answered nothing sends no header, so when fewer pids answered than the
    /// workers this phase observed listening (else the target's `declared_workers`), the missing ones are counted
    /// as idle workers with 0 requests. None when neither source has a count.
    pub fn worker_load(&self, declared_workers: Option<u32>) -> Option<WorkerLoad> {
        if let Some(processes) = self.worker_requests.as_ref().filter(|processes| !processes.is_empty()) {
            let positions = processes.iter().map(|process| process.index).max().unwrap_or(0) as usize + 1;
            let mut workers = vec![WorkerShare { pid: None, requests: 0 }; positions];
            for process in processes {
                let worker = &mut workers[process.index as usize];
                worker.requests += process.requests;
                worker.pid = Some(process.pid);
            }
            return Some(WorkerLoad { source: WorkerCountSource::MasterStats, workers });
        }
        let counted = &self.load.responses_per_worker.workers;
        if counted.is_empty() {
            return None;
        }
        let mut workers: Vec<WorkerShare> =
            counted.iter().map(|worker| WorkerShare { pid: Some(worker.pid), requests: worker.responses }).collect();
        let observed =
            self.observed_workers.as_ref().map(|workers| workers.listening).filter(|&listening| listening > 0);
        let declared = observed.or(declared_workers).unwrap_or(0) as usize;
        if workers.len() < declared {
            workers.resize(declared, WorkerShare { pid: None, requests: 0 });
        }
        Some(WorkerLoad { source: WorkerCountSource::WorkerPidHeader, workers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkerRequests;
    use loadgen::{WorkerCount, WorkerCounts};

    fn phase(stats: Option<Vec<WorkerRequests>>, header: &[(u32, u64)]) -> PhaseResult {
        let mut phase = crate::testing::results().targets[0].phases[0].clone();
        phase.worker_requests = stats;
        phase.load.responses_per_worker = WorkerCounts {
            workers: header.iter().map(|&(pid, responses)| WorkerCount { pid, responses }).collect(),
            ..WorkerCounts::default()
        };
        phase
    }

    #[test]
    fn master_stats_win_and_add_up_per_worker_position() {
        let stats = vec![
            WorkerRequests { index: 0, pid: 10, requests: 5 },
            WorkerRequests { index: 1, pid: 11, requests: 0 },
            WorkerRequests { index: 0, pid: 12, requests: 7 },
        ];
        let load = phase(Some(stats), &[(99, 1)]).worker_load(Some(2)).unwrap();
        assert_eq!(load.source, WorkerCountSource::MasterStats);
        assert_eq!(
            load.workers,
            [WorkerShare { pid: Some(12), requests: 12 }, WorkerShare { pid: Some(11), requests: 0 }]
        );
        assert_eq!((load.fewest(), load.most(), load.total()), (0, 12, 12));
        assert_eq!(load.balance(), Some(0.0));
    }

    #[test]
    fn header_counts_name_an_idle_worker_from_the_worker_count() {
        let load = phase(None, &[(20, 53_904)]).worker_load(Some(2)).unwrap();
        assert_eq!(load.source, WorkerCountSource::WorkerPidHeader);
        assert_eq!(load.workers.len(), 2);
        assert_eq!((load.fewest(), load.most()), (0, 53_904));
        let respawned = phase(None, &[(20, 10), (21, 5), (22, 5)]).worker_load(Some(2)).unwrap();
        assert_eq!(respawned.workers.len(), 3, "more pids than workers: none is invented");
        assert_eq!(phase(None, &[(20, 10)]).worker_load(None).unwrap().balance(), Some(1.0));
    }

    #[test]
    fn observed_workers_leave_out_a_master_that_served_none() {
        use crate::ObservedWorkers;
        let seen = |serving: &[u32], listening: &[u32]| {
            let observed = ObservedWorkers::count(1, serving, listening);
            (observed.serving, observed.listening)
        };
        assert_eq!(seen(&[1, 1], &[1]), (1, 1), "a single process serves and listens");
        assert_eq!(seen(&[2, 3], &[1, 2, 3]), (2, 2), "gunicorn: the master listens, its 2 workers serve");
        assert_eq!(seen(&[3], &[1, 2, 3]), (1, 2), "one of 2 workers took the whole load");
        assert_eq!(seen(&[2, 3], &[2, 3]), (2, 2), "granian: the master holds no socket");
        assert_eq!(seen(&[2, 3, 4], &[1, 2, 4]), (3, 2), "worker 3 killed and replaced by 4");
        assert_eq!(seen(&[], &[1]), (0, 1), "a lone root is counted even when nothing answered");
    }

    #[test]
    fn no_count_from_either_source_is_none() {
        assert_eq!(phase(None, &[]).worker_load(Some(2)), None);
        assert_eq!(phase(Some(vec![]), &[]).worker_load(Some(2)), None);
    }
}
