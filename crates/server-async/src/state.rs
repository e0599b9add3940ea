//! Where a connection is in its request cycle, shared by the connection (which reads the bytes, runs the request
//! and writes the response) and `server::drive_connection` (which decides, on a graceful stop, whether to wait for
//! the connection or to close it at once, and tells a connection it waits for to close after its response).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

#[derive(Debug, Default)]
pub(crate) struct ConnState {
    phase: AtomicU8,
    /// Any byte was ever read: a connection accepted just before a stop gets a moment to send its request.
    has_read: AtomicBool,
    /// The server is stopping: the connection closes after the response in progress instead of reading more.
    close_after_response: AtomicBool,
}

/// Nothing received since the last response (or since the accept).
const IDLE: u8 = 0;
/// Bytes of a request arrived, but it is not complete yet (head or body).
const RECEIVING: u8 = 1;
/// A complete request is being processed.
const PROCESSING: u8 = 2;

/// [`ConnState`]'s phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Idle,
    Receiving,
    Processing,
}

impl ConnState {
    pub(crate) fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            IDLE => Phase::Idle,
            RECEIVING => Phase::Receiving,
            _ => Phase::Processing,
        }
    }

    pub(crate) fn has_read(&self) -> bool {
        self.has_read.load(Ordering::Acquire)
    }

    /// Bytes of a request are at hand (read now, or left over from the previous request's read).
    pub(crate) fn receiving(&self) {
        // Only this connection writes the phase, so a load before the store is enough and keeps the common
        // case (already receiving) free of a locked instruction.
        if !self.has_read.load(Ordering::Relaxed) {
            self.has_read.store(true, Ordering::Release);
        }
        if self.phase.load(Ordering::Relaxed) == IDLE {
            self.phase.store(RECEIVING, Ordering::Release);
        }
    }

    pub(crate) fn set_processing(&self) {
        self.phase.store(PROCESSING, Ordering::Release);
    }

    /// The response is going out: the connection waits for its next request.
    pub(crate) fn set_idle(&self) {
        self.phase.store(IDLE, Ordering::Release);
    }

    pub(crate) fn close_after_response(&self) {
        self.close_after_response.store(true, Ordering::Release);
    }

    pub(crate) fn closing(&self) -> bool {
        self.close_after_response.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_request_cycle() {
        let state = ConnState::default();
        assert_eq!((state.phase(), state.has_read()), (Phase::Idle, false));
        state.receiving();
        assert_eq!((state.phase(), state.has_read()), (Phase::Receiving, true));
        state.set_processing();
        state.receiving();
        assert_eq!(state.phase(), Phase::Processing, "bytes of the next request do not end the processing");
        state.set_idle();
        assert_eq!((state.phase(), state.has_read()), (Phase::Idle, true));
        assert!(!state.closing());
        state.close_after_response();
        assert!(state.closing());
    }
}
