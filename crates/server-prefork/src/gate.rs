//! The balanced accept gate ([`crate::Accept::Balanced`]): a worker takes a new connection from the shared
//! listening socket only while no live sibling holds fewer open connections, as the scoreboard shows. The socket
//! stays the one gunicorn shares, so a worker's death, a reload or a stop never drops a queued connection; only
//! which worker takes it changes. The worker side's [`crate::worker::ScoreboardHooks`] asks it before each accept.

use std::ptr;

use server_kit::lifecycle::HEARTBEAT_INTERVAL;

use crate::scoreboard::{Slot, SlotState};

/// A sibling silent for longer than two heartbeats is not waited for: its event loop is blocked (a very long
/// request, or a hang the master will kill after --timeout) and would leave the connection waiting meanwhile.
pub const SILENT_SIBLING_MS: u64 = 2 * HEARTBEAT_INTERVAL.as_millis() as u64;

/// Whether the worker in `own` may accept now: it holds no connection, or no ready, heartbeating sibling in
/// `slots` holds fewer. Ties accept, so equally loaded workers race as gunicorn's do.
pub fn may_accept(own: &Slot, slots: &[Slot], now_ms: u64) -> bool {
    let mine = own.connections();
    mine == 0
        || !slots.iter().any(|sibling| {
            !ptr::eq(sibling, own)
                && sibling.connections() < mine
                && sibling.state() == SlotState::Ready
                && sibling.heartbeat_age_ms(now_ms) <= SILENT_SIBLING_MS
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoreboard::Scoreboard;

    const NOW: u64 = 100_000;

    /// A scoreboard with one ready, heartbeating worker per entry of `connections`.
    fn board(connections: &[u32]) -> Scoreboard {
        let board = Scoreboard::new().unwrap();
        for (index, &open) in connections.iter().enumerate() {
            let slot = board.slot(index);
            slot.prepare(NOW);
            slot.set_state(SlotState::Ready);
            (0..open).for_each(|_| slot.connection_opened());
        }
        board
    }

    fn may(board: &Scoreboard, index: usize) -> bool {
        may_accept(board.slot(index), board.slots(), NOW)
    }

    #[test]
    fn the_worker_with_fewest_connections_accepts_and_ties_race() {
        let board = board(&[3, 2, 2]);
        assert!(!may(&board, 0), "a sibling holds fewer");
        assert!(may(&board, 1) && may(&board, 2), "ties accept");
        board.slot(1).connection_opened();
        assert!(!may(&board, 1) && may(&board, 2));
    }

    #[test]
    fn an_idle_worker_always_accepts() {
        let board = board(&[0, 0]);
        assert!(may(&board, 0) && may(&board, 1));
    }

    #[test]
    fn a_lone_worker_always_accepts() {
        assert!(may(&board(&[50]), 0));
    }

    #[test]
    fn booting_stopping_silent_and_free_siblings_are_not_waited_for() {
        let board = board(&[4, 0]);
        let sibling = board.slot(1);
        assert!(!may(&board, 0));
        sibling.prepare(NOW);
        assert_eq!(sibling.state(), SlotState::Booting);
        assert!(may(&board, 0), "booting");
        sibling.set_state(SlotState::Stopping);
        assert!(may(&board, 0), "stopping");
        sibling.release();
        assert!(may(&board, 0), "free");
        sibling.prepare(NOW - SILENT_SIBLING_MS - 1);
        sibling.set_state(SlotState::Ready);
        assert!(may(&board, 0), "silent for more than two heartbeats");
        sibling.heartbeat(NOW - SILENT_SIBLING_MS);
        assert!(!may(&board, 0), "heartbeating");
    }

    #[test]
    fn closing_connections_reopens_the_gate_and_never_goes_below_zero() {
        let board = board(&[1, 0]);
        assert!(!may(&board, 0));
        board.slot(0).connection_closed();
        board.slot(0).connection_closed();
        assert_eq!(board.slot(0).connections(), 0);
        assert!(may(&board, 0));
    }
}
