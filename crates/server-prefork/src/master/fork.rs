//! Forking a worker: the master's side records it on the scoreboard, the child's side runs the worker and exits.

use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use nix::unistd::{fork, ForkResult, Pid};
use rand::Rng;

use super::{Master, WorkerProcess};
use crate::scoreboard::{monotonic_ms, SLOT_COUNT};
use crate::worker::{self, Launch, EXIT_SERVE_ERROR};
use crate::{Accept, WorkerApp};

impl<A: WorkerApp> Master<'_, A> {
    /// Forks one worker for `index`. In the child this never returns: the worker runs and exits.
    pub(super) fn spawn_worker(&mut self, index: usize) -> Option<Pid> {
        let Some(listener) = &self.listener else { return None };
        let listener_fd = listener.as_raw_fd();
        let Some(slot_index) = (0..SLOT_COUNT).find(|slot| self.workers.iter().all(|worker| worker.slot != *slot))
        else {
            tracing::warn!("no free scoreboard slot; will retry");
            return None;
        };
        self.scoreboard.slot(slot_index).prepare(monotonic_ms());
        let budget = self.request_budget();
        // SAFETY: the master is single-threaded (checked in `start`), so the child starts with a consistent heap and
        // no lock held by a vanished thread.
        match unsafe { fork() } {
            Ok(ForkResult::Parent { child }) => {
                self.scoreboard.slot(slot_index).set_pid(child.as_raw());
                self.workers.push(WorkerProcess {
                    pid: child,
                    index,
                    slot: slot_index,
                    spawned_at: Instant::now(),
                    ready: false,
                    retiring_since: None,
                    killed: false,
                });
                Some(child)
            }
            Ok(ForkResult::Child) => self.become_worker(slot_index, listener_fd, budget),
            Err(error) => {
                tracing::error!(%error, "cannot fork a worker; will retry");
                self.scoreboard.slot(slot_index).release();
                None
            }
        }
    }

    /// The child's side of `fork`: run the worker and exit, never unwinding back into the master's loop.
    pub(super) fn become_worker(&self, slot_index: usize, listener_fd: i32, max_requests: Option<u64>) -> ! {
        let launch = Launch {
            master_pid: self.pid,
            signals: &self.signals,
            inherited_listener: listener_fd,
            reuse_port: (self.config.accept == Accept::ReusePort).then_some((self.address, self.config.backlog)),
            // SAFETY: this is the worker process, which leaves below through `exit` and never unmaps the scoreboard.
            slots: unsafe { self.scoreboard.slots_for_worker_process() },
            slot_index,
            balanced: self.config.accept == Accept::Balanced,
            max_requests,
            hang_after_requests: self.config.hang_after_requests,
            graceful_timeout: self.config.graceful_timeout,
        };
        let app = self.app;
        let code = std::panic::catch_unwind(AssertUnwindSafe(|| worker::run(app, launch))).unwrap_or(EXIT_SERVE_ERROR);
        std::process::exit(code)
    }

    /// --max-requests plus a random jitter in 0..=--max-requests-jitter, so workers do not all recycle at once.
    pub(super) fn request_budget(&self) -> Option<u64> {
        let base = self.config.max_requests;
        (base > 0).then(|| base + rand::thread_rng().gen_range(0..=self.config.max_requests_jitter))
    }
}
