//! SIGHUP: the master replaces its workers one at a time, stopping each old worker only once its successor is
//! ready, so the listener always has a worker accepting.

use std::collections::VecDeque;
use std::time::Instant;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::{send, Master, WorkerProcess};
use crate::WorkerApp;

/// A SIGHUP in progress: each old worker is replaced only once its successor is ready.
#[derive(Default)]
pub(super) struct Reload {
    waiting: VecDeque<Pid>,
    /// (successor, predecessor) while the successor boots.
    in_progress: Option<(Pid, Pid)>,
}

impl<A: WorkerApp> Master<'_, A> {
    pub(super) fn start_reload(&mut self) {
        let successor = self.reload.in_progress.map(|(successor, _)| successor);
        let mut old: Vec<&WorkerProcess> =
            self.workers.iter().filter(|worker| worker.is_live() && Some(worker.pid) != successor).collect();
        old.sort_by_key(|worker| worker.spawned_at);
        self.reload.waiting = old.iter().map(|worker| worker.pid).collect();
        tracing::info!(workers = self.reload.waiting.len(), "hang up: replacing the workers one at a time");
    }

    /// One SIGHUP step at a time: boot a successor for the oldest waiting worker, and stop that worker (SIGTERM)
    /// only once its successor is ready, so the listener always has a worker accepting.
    pub(super) fn advance_reload(&mut self) {
        if let Some((successor, predecessor)) = self.reload.in_progress {
            match self.workers.iter().find(|worker| worker.pid == successor && worker.is_live()) {
                Some(worker) if !worker.ready => return,
                Some(_) => self.retire(predecessor, Signal::SIGTERM),
                None => self.reload.waiting.push_front(predecessor),
            }
            self.reload.in_progress = None;
        }
        while let Some(predecessor) = self.reload.waiting.pop_front() {
            let live = self.workers.iter().find(|worker| worker.pid == predecessor && worker.is_live());
            let Some(index) = live.map(|worker| worker.index) else { continue };
            if index >= self.num_workers {
                continue;
            }
            match self.spawn_worker(index) {
                Some(successor) => self.reload.in_progress = Some((successor, predecessor)),
                None => self.reload.waiting.push_front(predecessor),
            }
            return;
        }
    }

    pub(super) fn retire(&mut self, pid: Pid, signal: Signal) {
        if let Some(worker) = self.workers.iter_mut().find(|worker| worker.pid == pid && worker.is_live()) {
            send(pid, signal);
            worker.retiring_since = Some(Instant::now());
        }
    }

    pub(super) fn all_ready(&self) -> bool {
        (0..self.num_workers)
            .all(|index| self.workers.iter().any(|worker| worker.index == index && worker.is_live() && worker.ready))
    }
}
