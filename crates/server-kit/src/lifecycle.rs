//! What a supervisor (the prefork master's worker side) hands a server model: a shutdown token and hooks for the
//! scoreboard. A standalone server uses [`NoHooks`].

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

pub use tokio_util::sync::CancellationToken as Shutdown;

/// How often a server's main loop calls [`WorkerHooks::heartbeat`] while it is alive, busy or idle.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(500);

/// While [`WorkerHooks::may_accept`] says no and a connection waits, how long a server pauses before asking
/// again: a sibling is expected to take the connection first, so this only bounds the wait when it is slow to.
pub const ACCEPT_GATE_RECHECK: Duration = Duration::from_millis(1);

/// Called by a server model as it works. Implementations must be cheap: `request_served` runs once per response.
pub trait WorkerHooks: Send + Sync + 'static {
    /// One response has been written.
    fn request_served(&self);
    /// The server's main loop is alive; called about every [`HEARTBEAT_INTERVAL`].
    fn heartbeat(&self);
    /// A connection was accepted; [`WorkerHooks::connection_closed`] follows when it is dropped.
    fn connection_opened(&self) {}
    fn connection_closed(&self) {}
    /// Whether to accept a waiting connection now. False leaves it in the shared listen queue for a sibling
    /// worker that holds fewer connections (the prefork master's balanced accept); called before each accept.
    fn may_accept(&self) -> bool {
        true
    }
}

/// Hooks are shown by name only, so that a server's config can derive `Debug`.
impl std::fmt::Debug for dyn WorkerHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkerHooks")
    }
}

/// Hooks for a server that nobody supervises.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl WorkerHooks for NoHooks {
    fn request_served(&self) {}
    fn heartbeat(&self) {}
}

/// Blocks the calling plain thread (never a runtime's) until `shutdown` is cancelled, without polling: the token's
/// waker unparks the thread.
pub fn wait_until_cancelled(shutdown: &Shutdown) {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut cancelled = pin!(shutdown.cancelled());
    while cancelled.as_mut().poll(&mut context).is_pending() {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_ends_when_another_thread_cancels() {
        let shutdown = Shutdown::new();
        let waiter = {
            let shutdown = shutdown.clone();
            std::thread::spawn(move || wait_until_cancelled(&shutdown))
        };
        shutdown.cancel();
        waiter.join().expect("the waiter returns");
        wait_until_cancelled(&shutdown);
    }
}
