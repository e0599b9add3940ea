//! The worker side of the fork: what a child process does from `fork()` to `exit`: tie its life to the master's,
//! take its own signals, boot the [`WorkerApp`] and serve, reporting to its scoreboard slot through
//! [`ScoreboardHooks`].

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{FromRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::{getpid, getppid, Pid};
use server_kit::lifecycle::{Shutdown, WorkerHooks};
use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};

use crate::gate;
use crate::scoreboard::{monotonic_ms, Slot, SlotState};
use crate::signals::MasterSignals;
use crate::WorkerApp;

/// Exit status of a worker that could not boot (gunicorn's `WORKER_BOOT_ERROR`).
pub const EXIT_BOOT_ERROR: i32 = 3;
/// Exit status of a worker whose server failed or panicked after booting.
pub const EXIT_SERVE_ERROR: i32 = 1;

/// What the master hands a worker at fork time.
pub struct Launch<'a> {
    pub master_pid: Pid,
    pub signals: &'a MasterSignals,
    /// The master's listening socket (or, with SO_REUSEPORT, its bound-only placeholder), inherited by fork.
    pub inherited_listener: RawFd,
    /// With SO_REUSEPORT: the address and backlog to bind this worker's own socket to.
    pub reuse_port: Option<(SocketAddr, i32)>,
    /// The whole scoreboard, mapped for the worker's life, and which slot is this worker's.
    pub slots: &'static [Slot],
    pub slot_index: usize,
    /// Ask the balanced accept gate before each accept (see [`crate::gate`]).
    pub balanced: bool,
    /// This worker's request budget (--max-requests plus its jitter), if any.
    pub max_requests: Option<u64>,
    /// Test-only: stop heartbeating and block after this many requests.
    pub hang_after_requests: Option<u64>,
    /// How long a graceful stop may take once the master is gone and cannot enforce it.
    pub graceful_timeout: Duration,
}

/// Runs the worker to its end and returns its exit status. Never returns into the master's code: the caller exits.
pub fn run<A: WorkerApp>(app: &A, launch: Launch<'_>) -> i32 {
    let pid = getpid();
    if let Err(reason) = join_master(&launch) {
        tracing::warn!(%pid, reason, "worker exits at once");
        return 0;
    }
    announce_boot(pid);
    match boot_and_serve(app, launch) {
        Ok(()) => {
            tracing::info!(%pid, "worker exiting");
            0
        }
        Err(Failure::Boot(message)) => {
            tracing::error!(%pid, "worker failed to boot: {message}");
            EXIT_BOOT_ERROR
        }
        Err(Failure::Serve(message)) => {
            tracing::error!(%pid, "worker failed: {message}");
            EXIT_SERVE_ERROR
        }
    }
}

enum Failure {
    Boot(String),
    Serve(String),
}

/// Dies with the master (PR_SET_PDEATHSIG, then a parent check for a master that died before it was set) and
/// takes back the signals the master had blocked.
fn join_master(launch: &Launch<'_>) -> Result<(), &'static str> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(|_| "cannot set the parent-death signal")?;
    if getppid() != launch.master_pid {
        return Err("the master is already gone");
    }
    launch.signals.release_in_worker().map_err(|_| "cannot release the master's signals")
}

/// gunicorn's per-worker line, on stdout beside `Listening at:`.
fn announce_boot(pid: Pid) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "Booting worker with pid: {pid}");
    let _ = stdout.flush();
}

fn boot_and_serve<A: WorkerApp>(app: &A, launch: Launch<'_>) -> Result<(), Failure> {
    let slot = &launch.slots[launch.slot_index];
    let shutdown = Shutdown::new();
    let fail_boot = |message: String| {
        slot.record_boot_error(&message);
        Failure::Boot(message)
    };
    let listener = take_listener(&launch).map_err(|error| fail_boot(format!("cannot listen: {error}")))?;
    watch_signals(slot, shutdown.clone(), launch.graceful_timeout)
        .map_err(|error| fail_boot(format!("cannot install the worker's signal handlers: {error}")))?;
    let siblings = launch.balanced.then_some(launch.slots);
    let hooks = Arc::new(ScoreboardHooks {
        siblings,
        ..ScoreboardHooks::new(slot, shutdown.clone(), launch.max_requests, launch.hang_after_requests)
    });
    let booted = app.boot(hooks).map_err(|error| fail_boot(error_chain(&error)))?;
    slot.heartbeat(monotonic_ms());
    slot.set_state(SlotState::Ready);
    app.serve(booted, listener, shutdown).map_err(|error| Failure::Serve(error_chain(&error)))
}

/// The inherited listener, or with SO_REUSEPORT a socket of this worker's own on the same address.
fn take_listener(launch: &Launch<'_>) -> std::io::Result<TcpListener> {
    // SAFETY: the descriptor was open in the master at fork time, and the master's own handle to it is never used
    // or dropped in this process (the worker leaves through `std::process::exit`), so this is its only owner here.
    let inherited = unsafe { TcpListener::from_raw_fd(launch.inherited_listener) };
    match launch.reuse_port {
        None => Ok(inherited),
        Some((addr, backlog)) => {
            drop(inherited);
            server_kit::listener::bind(addr, backlog, true)
        }
    }
}

/// SIGTERM: graceful stop (no new connections, in-flight requests finish); SIGQUIT/SIGINT: exit now.
/// A watchdog ends a graceful stop that outlasts `graceful_timeout`, for when no master is left to enforce it.
fn watch_signals(slot: &'static Slot, shutdown: Shutdown, graceful_timeout: Duration) -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGQUIT, SIGINT])?;
    std::thread::Builder::new().name("worker-signals".into()).spawn(move || {
        for signal in signals.forever() {
            if signal != SIGTERM {
                std::process::exit(0);
            }
            if !shutdown.is_cancelled() {
                slot.set_state(SlotState::Stopping);
                shutdown.cancel();
                start_watchdog(graceful_timeout);
            }
        }
    })?;
    Ok(())
}

fn start_watchdog(graceful_timeout: Duration) {
    let spawned = std::thread::Builder::new().name("graceful-watchdog".into()).spawn(move || {
        std::thread::sleep(graceful_timeout);
        tracing::warn!(pid = %getpid(), "graceful stop took longer than --graceful-timeout; exiting");
        std::process::exit(EXIT_SERVE_ERROR);
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the graceful-stop watchdog");
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The [`WorkerHooks`] a worker gives its server model: heartbeat, request and connection counts go to the
/// scoreboard slot; reaching the request budget starts a graceful stop (the master boots a replacement as soon as
/// it sees it); with the balanced accept, the gate reads the siblings' slots.
pub struct ScoreboardHooks {
    slot: &'static Slot,
    /// Every slot, when accepts are balanced between siblings.
    siblings: Option<&'static [Slot]>,
    shutdown: Shutdown,
    max_requests: Option<u64>,
    hang_after_requests: Option<u64>,
    /// Set when the test-only request limit is reached: the next heartbeat blocks instead of beating.
    hung: AtomicBool,
}

impl ScoreboardHooks {
    pub fn new(
        slot: &'static Slot,
        shutdown: Shutdown,
        max_requests: Option<u64>,
        hang_after_requests: Option<u64>,
    ) -> ScoreboardHooks {
        ScoreboardHooks {
            slot,
            siblings: None,
            shutdown,
            max_requests,
            hang_after_requests,
            hung: AtomicBool::new(false),
        }
    }

    /// Test-only: block the calling thread (the event loop, or a sync worker's thread) for good.
    fn hang(&self) -> ! {
        tracing::warn!(pid = %getpid(), "hanging on purpose (--test-hang-after-requests)");
        loop {
            std::thread::park();
        }
    }
}

impl WorkerHooks for ScoreboardHooks {
    /// Counts the response and heartbeats too: a sync worker's thread may stay on one kept-alive connection for
    /// many requests without passing through its accept loop, where it heartbeats.
    fn request_served(&self) {
        let served = self.slot.add_request();
        if self.hang_after_requests.is_some_and(|limit| served >= limit) {
            // The hang itself waits for the next heartbeat, so that this response still goes out.
            self.hung.store(true, Ordering::Relaxed);
            return;
        }
        self.slot.heartbeat(monotonic_ms());
        if self.max_requests == Some(served) {
            tracing::info!(pid = %getpid(), served, "max requests reached; restarting the worker");
            self.slot.set_state(SlotState::Stopping);
            self.shutdown.cancel();
        }
    }

    fn heartbeat(&self) {
        if self.hung.load(Ordering::Relaxed) {
            self.hang();
        }
        self.slot.heartbeat(monotonic_ms());
    }

    fn connection_opened(&self) {
        self.slot.connection_opened();
    }

    fn connection_closed(&self) {
        self.slot.connection_closed();
    }

    fn may_accept(&self) -> bool {
        self.siblings.is_none_or(|slots| gate::may_accept(self.slot, slots, monotonic_ms()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoreboard::Scoreboard;

    fn leaked_slot() -> &'static Slot {
        let board: &'static Scoreboard = Box::leak(Box::new(Scoreboard::new().unwrap()));
        let slot = board.slot(0);
        slot.prepare(0);
        slot
    }

    #[test]
    fn max_requests_stops_the_worker_once_reached() {
        let slot = leaked_slot();
        let shutdown = Shutdown::new();
        let hooks = ScoreboardHooks::new(slot, shutdown.clone(), Some(3), None);
        hooks.request_served();
        hooks.request_served();
        assert!(!shutdown.is_cancelled());
        hooks.request_served();
        assert!(shutdown.is_cancelled());
        assert_eq!(slot.state(), SlotState::Stopping);
        assert_eq!(slot.requests(), 3);
    }

    #[test]
    fn heartbeats_reach_the_slot() {
        let slot = leaked_slot();
        let hooks = ScoreboardHooks::new(slot, Shutdown::new(), None, None);
        let now = monotonic_ms();
        assert_eq!(slot.heartbeat_age_ms(now), now, "prepared at time 0");
        hooks.heartbeat();
        assert!(slot.heartbeat_age_ms(monotonic_ms()) < now);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot build the client")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn error_chain_joins_sources() {
        let error = Outer(std::io::Error::other("no route"));
        assert_eq!(error_chain(&error), "cannot build the client: no route");
    }
}
