//! The master's signals without a handler thread: they are blocked and read from a signalfd, so "handling" is only
//! queueing (gunicorn's habit) and the master loop waits on one descriptor with a timeout. Forked workers undo it.

use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// The signals the master acts on; SIGCHLD only wakes it to reap.
pub const MASTER_SIGNALS: [Signal; 7] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
    Signal::SIGCHLD,
];

pub struct MasterSignals {
    mask: SigSet,
    fd: SignalFd,
}

impl MasterSignals {
    /// Blocks [`MASTER_SIGNALS`] for this (single) thread and opens the signalfd that receives them instead.
    pub fn install() -> nix::Result<MasterSignals> {
        let mut mask = SigSet::empty();
        for signal in MASTER_SIGNALS {
            mask.add(signal);
        }
        mask.thread_block()?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(MasterSignals { mask, fd })
    }

    /// Waits up to `timeout` for signals and returns every one pending, in arrival order.
    pub fn wait(&self, timeout: Duration) -> Vec<Signal> {
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(&self.fd), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) | Err(Errno::EINTR) => return Vec::new(),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot poll the signalfd");
                return Vec::new();
            }
        }
        self.drain()
    }

    fn drain(&self) -> Vec<Signal> {
        let mut received = Vec::new();
        while let Ok(Some(info)) = self.fd.read_signal() {
            if let Ok(signal) = Signal::try_from(info.ssi_signo as i32) {
                received.push(signal);
            }
        }
        received
    }

    /// In a freshly forked worker: closes the inherited signalfd and unblocks the signals, so the worker's own
    /// handlers see them. The master's `MasterSignals` value is never dropped in the worker (it leaves through
    /// `std::process::exit`), so closing the descriptor by number here closes it exactly once.
    pub fn release_in_worker(&self) -> nix::Result<()> {
        nix::unistd::close(self.fd.as_raw_fd())?;
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&self.mask), None)
    }
}
