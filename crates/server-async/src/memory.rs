//! Counts a server's open connections and gives memory back to the kernel after a flood of them. Each connection
//! holds its read buffer (allocated at its first read) and its task; once thousands of them close, glibc
//! keeps the freed memory in its heap and arenas, so RSS stayed at its peak flood after flood. `malloc_trim` after
//! the count has fallen returns it (see `heavy_async_memory_comes_back_after_floods`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Connections open at once from which a later fall counts as the end of a flood. A trim walks the whole heap, so
/// ordinary connection churn never triggers one.
const FLOOD_CONNECTIONS: usize = 256;
/// A flood is over once the open count has fallen to this fraction of its peak.
const FALLEN_TO_ONE_IN: usize = 4;

#[derive(Debug, Clone, Default)]
pub(crate) struct OpenConnections(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    open: AtomicUsize,
    /// The most open at once since the last trim.
    peak: AtomicUsize,
}

/// One open connection; dropping it (the connection task ends) counts it closed.
pub(crate) struct Open(Arc<Counts>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl OpenConnections {
    pub(crate) fn enter(&self) -> Open {
        let open = self.0.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.0.peak.fetch_max(open, Ordering::Relaxed);
        Open(Arc::clone(&self.0))
    }

    /// Called about every heartbeat: trims the allocator when a flood has ended since the last call.
    pub(crate) fn release_memory_after_a_flood(&self) {
        if self.flood_ended() {
            release_free_memory();
        }
    }

    /// True once per flood: the peak was a flood and the open count has fallen well below it.
    fn flood_ended(&self) -> bool {
        let open = self.0.open.load(Ordering::Relaxed);
        let peak = self.0.peak.load(Ordering::Relaxed);
        if peak < FLOOD_CONNECTIONS || open > peak / FALLEN_TO_ONE_IN {
            return false;
        }
        self.0.peak.store(open, Ordering::Relaxed);
        true
    }
}

/// Returns the allocator's free pages to the kernel (glibc's `malloc_trim`; nothing to do elsewhere).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only touches the allocator's own free lists, under its own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_reported_once_when_it_has_ended() {
        let connections = OpenConnections::default();
        let mut open: Vec<Open> = (0..FLOOD_CONNECTIONS).map(|_| connections.enter()).collect();
        assert!(!connections.flood_ended(), "still open");
        open.truncate(FLOOD_CONNECTIONS / FALLEN_TO_ONE_IN);
        assert!(connections.flood_ended());
        assert!(!connections.flood_ended(), "reported once");
        drop(open);
        assert_eq!(connections.0.open.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn ordinary_churn_is_no_flood() {
        let connections = OpenConnections::default();
        for _ in 0..1000 {
            let open: Vec<Open> = (0..50).map(|_| connections.enter()).collect();
            drop(open);
            assert!(!connections.flood_ended());
        }
    }
}
