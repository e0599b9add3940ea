//! The shared-memory scoreboard (Apache style): an anonymous `MAP_SHARED` mapping created by the master before it
//! forks, one [`Slot`] per live worker process. The worker writes its heartbeat, requests served and state; the
//! master reads them to kill hung workers, to see readiness, and to count requests per worker.

use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering};

use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use nix::time::{clock_gettime, ClockId};

/// Slots in the scoreboard. Each worker process holds one from fork to reaping, so a worker being replaced (SIGHUP,
/// max-requests, timeout) and its replacement hold two at once: twice the most workers, plus room for stragglers.
pub const SLOT_COUNT: usize = 2 * crate::MAX_WORKERS + 16;

/// Room for the message a worker leaves when it fails to boot, so the master can give the reason when it halts.
const BOOT_ERROR_BYTES: usize = 192;

/// Where a worker process is in its life, as it last wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum SlotState {
    /// Nobody holds the slot (anonymous mappings start zeroed, so this must be 0).
    Free = 0,
    /// Forked; building its runtime and clients.
    Booting = 1,
    /// Serving the listener.
    Ready = 2,
    /// Stopping by itself (max-requests reached or SIGTERM): it accepts no more connections.
    Stopping = 3,
}

impl SlotState {
    fn from_raw(raw: u32) -> SlotState {
        match raw {
            1 => SlotState::Booting,
            2 => SlotState::Ready,
            3 => SlotState::Stopping,
            _ => SlotState::Free,
        }
    }
}

/// One worker process's row. Only atomics, so that two processes may read and write it at once; aligned to a cache
/// line so that workers heartbeating side by side do not share one.
#[repr(C, align(64))]
pub struct Slot {
    pid: AtomicI32,
    state: AtomicU32,
    /// CLOCK_MONOTONIC milliseconds (system-wide, so master and workers agree) of the last heartbeat.
    heartbeat_ms: AtomicU64,
    requests: AtomicU64,
    /// Connections the worker holds open now: what the balanced accept gate compares between siblings.
    connections: AtomicU32,
    boot_error_len: AtomicU32,
    boot_error: [AtomicU8; BOOT_ERROR_BYTES],
}

impl Slot {
    /// Master, before fork: a fresh row for a worker about to be born.
    pub fn prepare(&self, now_ms: u64) {
        self.pid.store(0, Ordering::Relaxed);
        self.requests.store(0, Ordering::Relaxed);
        self.connections.store(0, Ordering::Relaxed);
        self.boot_error_len.store(0, Ordering::Relaxed);
        self.heartbeat_ms.store(now_ms, Ordering::Relaxed);
        self.state.store(SlotState::Booting as u32, Ordering::Release);
    }

    /// Master, after reaping the worker: the slot can be given to another worker.
    pub fn release(&self) {
        self.pid.store(0, Ordering::Relaxed);
        self.state.store(SlotState::Free as u32, Ordering::Release);
    }

    pub fn set_pid(&self, pid: i32) {
        self.pid.store(pid, Ordering::Relaxed);
    }

    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> SlotState {
        SlotState::from_raw(self.state.load(Ordering::Acquire))
    }

    /// Worker: moves to `state`, except that a stopping worker never goes back to ready.
    pub fn set_state(&self, state: SlotState) {
        let _ = self.state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
            (current != SlotState::Stopping as u32).then_some(state as u32)
        });
    }

    pub fn heartbeat(&self, now_ms: u64) {
        self.heartbeat_ms.store(now_ms, Ordering::Relaxed);
    }

    /// Milliseconds since the last heartbeat, as seen at `now_ms`.
    pub fn heartbeat_age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.heartbeat_ms.load(Ordering::Relaxed))
    }

    /// Worker: counts one response; returns how many this process has served.
    pub fn add_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Worker: one more connection open.
    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Worker: one connection fewer (never below zero).
    pub fn connection_closed(&self) {
        let _ = self.connections.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| open.checked_sub(1));
    }

    pub fn connections(&self) -> u32 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Worker: leaves the reason it could not boot (truncated to the room there is).
    pub fn record_boot_error(&self, message: &str) {
        let mut length = message.len().min(BOOT_ERROR_BYTES);
        while !message.is_char_boundary(length) {
            length -= 1;
        }
        for (cell, byte) in self.boot_error.iter().zip(&message.as_bytes()[..length]) {
            cell.store(*byte, Ordering::Relaxed);
        }
        self.boot_error_len.store(length as u32, Ordering::Release);
    }

    /// Master: the reason the worker left, if it left one.
    pub fn boot_error(&self) -> Option<String> {
        let length = (self.boot_error_len.load(Ordering::Acquire) as usize).min(BOOT_ERROR_BYTES);
        if length == 0 {
            return None;
        }
        let bytes: Vec<u8> = self.boot_error[..length].iter().map(|cell| cell.load(Ordering::Relaxed)).collect();
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The mapping itself, owned by the master; forked workers inherit it at the same address.
pub struct Scoreboard {
    slots: NonNull<Slot>,
    bytes: NonZeroUsize,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot map the shared scoreboard")]
pub struct MapError(#[source] nix::Error);

impl Scoreboard {
    pub fn new() -> Result<Scoreboard, MapError> {
        const BYTES: usize = SLOT_COUNT * std::mem::size_of::<Slot>();
        let bytes = NonZeroUsize::new(BYTES).expect("the scoreboard has slots");
        // SAFETY: a fresh anonymous mapping aliases nothing; it is zero-filled, which is a valid `Slot` (all
        // atomics zero, state Free), and mmap returns page-aligned memory, more than `Slot`'s alignment.
        let pointer =
            unsafe { mmap_anonymous(None, bytes, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED) }
                .map_err(MapError)?;
        Ok(Scoreboard { slots: pointer.cast(), bytes })
    }

    pub fn slots(&self) -> &[Slot] {
        // SAFETY: the mapping holds SLOT_COUNT initialised slots and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.slots.as_ptr(), SLOT_COUNT) }
    }

    pub fn slot(&self, index: usize) -> &Slot {
        &self.slots()[index]
    }

    /// Every slot, for the rest of the life of the worker this process has become: its own, and its siblings'
    /// for the accept gate.
    ///
    /// # Safety
    /// Call only in a forked worker process, which never unmaps the scoreboard: it leaves through
    /// `std::process::exit` without dropping the master's state it inherited.
    pub unsafe fn slots_for_worker_process(&self) -> &'static [Slot] {
        // SAFETY: the mapping holds SLOT_COUNT initialised slots; the caller guarantees it outlives every use in
        // this process.
        unsafe { std::slice::from_raw_parts(self.slots.as_ptr(), SLOT_COUNT) }
    }
}

impl Drop for Scoreboard {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `new` with this length and no slot reference outlives `self`.
        if let Err(error) = unsafe { munmap(self.slots.cast(), self.bytes.get()) } {
            tracing::warn!(%error, "cannot unmap the scoreboard");
        }
    }
}

/// CLOCK_MONOTONIC in milliseconds: one clock for every process on the machine, unlike `Instant`.
pub fn monotonic_ms() -> u64 {
    match clock_gettime(ClockId::CLOCK_MONOTONIC) {
        Ok(now) => (now.tv_sec() as u64) * 1000 + (now.tv_nsec() as u64) / 1_000_000,
        // CLOCK_MONOTONIC cannot fail on Linux; if it ever did, a stale time only delays a timeout kill.
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_scoreboard_is_all_free() {
        let board = Scoreboard::new().unwrap();
        assert!(board.slots().iter().all(|slot| slot.state() == SlotState::Free && slot.requests() == 0));
        assert_eq!(std::mem::size_of::<Slot>() % 64, 0);
    }

    #[test]
    fn heartbeat_age_and_requests_are_counted() {
        let board = Scoreboard::new().unwrap();
        let slot = board.slot(3);
        slot.prepare(1_000);
        assert_eq!(slot.state(), SlotState::Booting);
        assert_eq!(slot.heartbeat_age_ms(1_250), 250);
        slot.heartbeat(1_200);
        assert_eq!(slot.heartbeat_age_ms(1_250), 50);
        assert_eq!(slot.add_request(), 1);
        assert_eq!(slot.add_request(), 2);
        assert_eq!(slot.requests(), 2);
    }

    #[test]
    fn a_stopping_worker_never_turns_ready_again() {
        let board = Scoreboard::new().unwrap();
        let slot = board.slot(0);
        slot.prepare(0);
        slot.set_state(SlotState::Stopping);
        slot.set_state(SlotState::Ready);
        assert_eq!(slot.state(), SlotState::Stopping);
    }

    #[test]
    fn boot_errors_are_kept_and_truncated_on_a_char_boundary() {
        let board = Scoreboard::new().unwrap();
        let slot = board.slot(1);
        slot.prepare(0);
        assert_eq!(slot.boot_error(), None);
        slot.record_boot_error("bad --upstream");
        assert_eq!(slot.boot_error().as_deref(), Some("bad --upstream"));
        let long = "é".repeat(BOOT_ERROR_BYTES);
        slot.record_boot_error(&long);
        let kept = slot.boot_error().unwrap();
        assert!(kept.len() <= BOOT_ERROR_BYTES && kept.chars().all(|c| c == 'é'));
    }

    #[test]
    fn the_mapping_is_shared_with_a_forked_child() {
        let board = Scoreboard::new().unwrap();
        // SAFETY: the child only touches the shared atomics and leaves with _exit, running no destructors.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                board.slot(5).add_request();
                unsafe { nix::libc::_exit(0) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(board.slot(5).requests(), 1);
            }
        }
    }

    #[test]
    fn monotonic_ms_moves_forward() {
        let first = monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(monotonic_ms() > first);
    }
}
