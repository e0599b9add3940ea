//! The master (gunicorn's arbiter): binds, forks workers, and loops wait -> handle signals -> reap -> kill timed-out
//! workers -> keep the worker count. Single-threaded; all its state lives in [`Master`].

mod fork;
mod reload;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{getpid, Pid};

use crate::scoreboard::{monotonic_ms, Scoreboard, SlotState};
use crate::signals::MasterSignals;
use crate::stats::{ProcessStats, WorkerStats};
use crate::{Accept, Config, Error, WorkerApp, MAX_WORKERS};
use reload::Reload;

/// Longest the master sleeps between looks at the scoreboard; SIGCHLD and the other signals wake it at once.
const TICK: Duration = Duration::from_millis(100);
/// A worker that exits with an error this soon after its fork failed to boot (see [`failed_to_boot`]).
const BOOT_GRACE: Duration = Duration::from_secs(1);
/// Failed boots in a row after which the master halts instead of fork-looping.
const MAX_FAILED_BOOTS: u32 = 5;

/// One forked worker process, from fork until it is reaped.
struct WorkerProcess {
    pid: Pid,
    /// The worker position it fills (0..workers): a replacement takes its predecessor's index, so requests can be
    /// counted per position over respawns and recycles.
    index: usize,
    slot: usize,
    spawned_at: Instant,
    /// Seen ready on the scoreboard.
    ready: bool,
    /// Set once it was told to stop (or stopped by itself): it no longer counts toward the worker count, and its
    /// death is expected.
    retiring_since: Option<Instant>,
    killed: bool,
}

impl WorkerProcess {
    fn is_live(&self) -> bool {
        self.retiring_since.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopKind {
    Graceful,
    Quick,
}

pub struct Master<'a, A: WorkerApp> {
    config: &'a Config,
    app: &'a A,
    pid: Pid,
    /// The shared listening socket (with SO_REUSEPORT: a bound, not listening, placeholder that holds the port).
    /// Taken when stopping, so the socket closes once the workers close theirs.
    listener: Option<TcpListener>,
    address: SocketAddr,
    signals: MasterSignals,
    scoreboard: Scoreboard,
    workers: Vec<WorkerProcess>,
    /// Wanted worker count: `-w`, moved by SIGTTIN/SIGTTOU.
    num_workers: usize,
    reload: Reload,
    failed_boots: u32,
    stats: WorkerStats,
}

impl<'a, A: WorkerApp> Master<'a, A> {
    /// Checks the config and that no thread exists yet, binds, maps the scoreboard and takes the signals.
    pub fn start(config: &'a Config, app: &'a A) -> Result<Master<'a, A>, Error> {
        if config.workers == 0 || config.workers > MAX_WORKERS {
            return Err(Error::Config(format!("-w must be between 1 and {MAX_WORKERS}, not {}", config.workers)));
        }
        let threads = thread_count();
        if threads > 1 {
            return Err(Error::NotSingleThreaded(threads));
        }
        let listener = bind(config)?;
        let address = listener.local_addr().map_err(|source| Error::Bind { addr: config.bind, source })?;
        let scoreboard = Scoreboard::new()?;
        let signals = MasterSignals::install().map_err(Error::Signals)?;
        tracing::info!(pid = %getpid(), %address, workers = config.workers, "master booted");
        Ok(Master {
            config,
            app,
            pid: getpid(),
            listener: Some(listener),
            address,
            signals,
            scoreboard,
            workers: Vec::new(),
            num_workers: config.workers,
            reload: Reload::default(),
            failed_boots: 0,
            stats: WorkerStats::default(),
        })
    }

    /// Supervises until told to stop, stops the workers, and reports the requests each served.
    pub fn run(mut self, on_listening: impl FnOnce(&TcpListener)) -> Result<WorkerStats, Error> {
        let outcome = self.supervise(on_listening);
        self.stop(outcome.as_ref().is_ok_and(|stop| *stop == StopKind::Graceful));
        tracing::info!(requests_per_worker = ?self.stats.per_index(), total = self.stats.total_requests, "master exiting");
        let written = match &self.config.stats_path {
            Some(path) => self.stats.write_json(path).map_err(|source| Error::Stats { path: path.clone(), source }),
            None => Ok(()),
        };
        outcome?;
        written?;
        Ok(self.stats)
    }

    fn supervise(&mut self, on_listening: impl FnOnce(&TcpListener)) -> Result<StopKind, Error> {
        let mut on_listening = Some(on_listening);
        self.manage_workers();
        loop {
            for signal in self.signals.wait(TICK) {
                if let Some(stop) = self.handle_signal(signal) {
                    return Ok(stop);
                }
            }
            self.reap_workers()?;
            self.observe_workers();
            self.murder_workers();
            self.manage_workers();
            self.advance_reload();
            if self.all_ready() {
                if let (Some(announce), Some(listener)) = (on_listening.take(), &self.listener) {
                    announce(listener);
                }
            }
        }
    }

    fn handle_signal(&mut self, signal: Signal) -> Option<StopKind> {
        if signal != Signal::SIGCHLD {
            tracing::info!("handling signal: {signal}");
        }
        match signal {
            Signal::SIGTERM => return Some(StopKind::Graceful),
            Signal::SIGINT | Signal::SIGQUIT => return Some(StopKind::Quick),
            Signal::SIGHUP => self.start_reload(),
            Signal::SIGTTIN if self.num_workers < MAX_WORKERS => self.num_workers += 1,
            Signal::SIGTTIN => tracing::warn!("already at the most workers ({MAX_WORKERS}); SIGTTIN ignored"),
            Signal::SIGTTOU if self.num_workers > 1 => self.num_workers -= 1,
            Signal::SIGTTOU => tracing::warn!("one worker left; SIGTTOU ignored"),
            _ => {}
        }
        None
    }

    /// Reaps every exited child without blocking; an error means workers keep failing to boot.
    fn reap_workers(&mut self) -> Result<(), Error> {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(error) => {
                    tracing::warn!(%error, "waitpid failed");
                    return Ok(());
                }
                Ok(status) => self.worker_exited(status)?,
            }
        }
    }

    /// Accounts for one dead child: frees its slot, records its requests, and counts it if it failed to boot.
    fn worker_exited(&mut self, status: WaitStatus) -> Result<(), Error> {
        let Some(pid) = status.pid() else { return Ok(()) };
        let Some(position) = self.workers.iter().position(|worker| worker.pid == pid) else {
            tracing::debug!(%pid, ?status, "reaped a child that was not a worker");
            return Ok(());
        };
        let worker = self.workers.swap_remove(position);
        let slot = self.scoreboard.slot(worker.slot);
        debug_assert_eq!(slot.pid(), pid.as_raw(), "the scoreboard slot belongs to the reaped worker");
        let exit = describe_exit(status);
        let boot_error = slot.boot_error();
        // The slot may say more than the master has seen: a worker can be ready, or stop by itself (max-requests),
        // and die before the master's next look at the scoreboard.
        let state = slot.state();
        let expected = worker.retiring_since.is_some() || state == SlotState::Stopping;
        let booted = worker.ready || state == SlotState::Ready;
        self.stats.record(ProcessStats { pid: pid.as_raw(), index: worker.index, requests: slot.requests(), exit });
        slot.release();
        let record = self.stats.processes.last().map(|process| process.exit.as_str()).unwrap_or_default();
        if expected {
            tracing::info!(%pid, "worker {record}");
            return Ok(());
        }
        tracing::error!(%pid, "worker {record} unexpectedly");
        if !failed_to_boot(booted, status, worker.spawned_at.elapsed()) {
            return Ok(());
        }
        self.failed_boots += 1;
        if self.failed_boots < MAX_FAILED_BOOTS {
            return Ok(());
        }
        let reason = match boot_error {
            Some(message) => format!("worker {pid} {record}: {message}"),
            None => format!("worker {pid} {record} before it was ready or within {BOOT_GRACE:?} of its start"),
        };
        Err(Error::WorkersFailedToBoot { attempts: self.failed_boots, reason })
    }

    /// Reads the scoreboard: who became ready, who stopped by itself (max-requests) and so needs a replacement.
    fn observe_workers(&mut self) {
        let now = Instant::now();
        for worker in &mut self.workers {
            let state = self.scoreboard.slot(worker.slot).state();
            if state == SlotState::Ready && !worker.ready {
                worker.ready = true;
            }
            if state == SlotState::Stopping && worker.is_live() {
                worker.ready = true;
                worker.retiring_since = Some(now);
            }
            if worker.ready && now.duration_since(worker.spawned_at) >= BOOT_GRACE {
                self.failed_boots = 0;
            }
        }
    }

    /// Kills (SIGKILL) live workers whose heartbeat is older than --timeout, and stopping workers that outlast
    /// --graceful-timeout.
    fn murder_workers(&mut self) {
        let now_ms = monotonic_ms();
        let timeout_ms = self.config.timeout.as_millis() as u64;
        for worker in &mut self.workers {
            if worker.killed {
                continue;
            }
            match worker.retiring_since {
                None if timeout_ms > 0 => {
                    let age_ms = self.scoreboard.slot(worker.slot).heartbeat_age_ms(now_ms);
                    if age_ms <= timeout_ms {
                        continue;
                    }
                    tracing::error!(pid = %worker.pid, age_ms, "WORKER TIMEOUT: no heartbeat; killing it");
                }
                Some(since) if since.elapsed() > self.config.graceful_timeout => {
                    tracing::warn!(pid = %worker.pid, "worker outlasted --graceful-timeout; killing it");
                }
                _ => continue,
            }
            send(worker.pid, Signal::SIGKILL);
            worker.killed = true;
            worker.retiring_since.get_or_insert_with(Instant::now);
        }
    }

    /// Forks a worker for every index below the wanted count that has no live worker; retires live workers whose
    /// index is past it (SIGTTOU), newest index first.
    fn manage_workers(&mut self) {
        for index in 0..self.num_workers {
            if !self.workers.iter().any(|worker| worker.is_live() && worker.index == index) {
                self.spawn_worker(index);
            }
        }
        let now = Instant::now();
        for worker in self.workers.iter_mut().filter(|worker| worker.is_live() && worker.index >= self.num_workers) {
            tracing::info!(pid = %worker.pid, index = worker.index, "retiring a worker beyond the worker count");
            send(worker.pid, Signal::SIGTERM);
            worker.retiring_since = Some(now);
        }
    }

    /// Closes the listener, tells every worker to stop (SIGTERM graceful, SIGQUIT quick), waits for them up to
    /// --graceful-timeout (a SIGINT/SIGQUIT meanwhile turns a graceful stop quick), then kills what is left and
    /// reaps every child.
    fn stop(&mut self, graceful: bool) {
        drop(self.listener.take());
        let mut signal = if graceful { Signal::SIGTERM } else { Signal::SIGQUIT };
        self.signal_all(signal);
        let deadline = Instant::now() + self.config.graceful_timeout;
        loop {
            // Every worker is retiring now, so no exit counts as a failed boot: nothing to propagate.
            let _ = self.reap_workers();
            let left = deadline.saturating_duration_since(Instant::now());
            if self.workers.is_empty() || left.is_zero() {
                break;
            }
            let hurried = self
                .signals
                .wait(left.min(TICK))
                .into_iter()
                .any(|received| matches!(received, Signal::SIGINT | Signal::SIGQUIT) && signal == Signal::SIGTERM);
            if hurried {
                signal = Signal::SIGQUIT;
                self.signal_all(signal);
            }
        }
        if !self.workers.is_empty() {
            tracing::warn!(left = self.workers.len(), "workers still running after --graceful-timeout; killing them");
            self.signal_all(Signal::SIGKILL);
        }
        self.reap_all_blocking();
    }

    fn signal_all(&mut self, signal: Signal) {
        let now = Instant::now();
        for worker in &mut self.workers {
            send(worker.pid, signal);
            worker.retiring_since.get_or_insert(now);
        }
    }

    fn reap_all_blocking(&mut self) {
        loop {
            match waitpid(None, None) {
                Ok(status) => {
                    let _ = self.worker_exited(status);
                }
                Err(Errno::EINTR) => continue,
                Err(_) => return,
            }
        }
    }
}

/// A worker failed to boot when it died before it was ready, or when it exited by itself with an error soon after
/// (its server could not start). A ready worker killed by a signal (kill -9, the OOM killer) did boot.
fn failed_to_boot(booted: bool, status: WaitStatus, lived: Duration) -> bool {
    let exited_with_error = matches!(status, WaitStatus::Exited(_, code) if code != 0);
    !booted || (exited_with_error && lived < BOOT_GRACE)
}

fn send(pid: Pid, signal: Signal) {
    match kill(pid, signal) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(error) => tracing::warn!(%pid, %error, "cannot send {signal}"),
    }
}

/// "exited with 0", "killed by SIGKILL", as gunicorn words it in its logs.
fn describe_exit(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with {code}"),
        WaitStatus::Signaled(_, signal, _) => format!("killed by {signal}"),
        other => format!("ended ({other:?})"),
    }
}

/// Binds the shared listener, or with SO_REUSEPORT a placeholder that reserves the port (bound, never listening,
/// so the kernel routes no connection to it) and tells the workers which port to bind when the config says port 0.
fn bind(config: &Config) -> Result<TcpListener, Error> {
    let bound = if config.accept == Accept::ReusePort {
        server_kit::listener::reserve_port(config.bind)
    } else {
        server_kit::listener::bind(config.bind, config.backlog, false)
    };
    bound.map_err(|source| Error::Bind { addr: config.bind, source })
}

/// Threads in this process, from /proc/self/status (1 when it cannot be read: the check is a safety net).
fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| line.strip_prefix("Threads:").and_then(|count| count.trim().parse().ok()))
        })
        .unwrap_or(1)
}

#[cfg(test)]
mod tests;
