//! The accept loop of the async model: one connection task per accepted socket (`connection.rs`), the heartbeat
//! task, and the graceful stop (see [`drive_connection`]).

use std::future::{self, Future};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use server_kit::lifecycle::{Shutdown, WorkerHooks, HEARTBEAT_INTERVAL};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use crate::accept::Acceptor;
use crate::connection::{self, OpenConnection, Shared};
use crate::handler::Handler;
use crate::memory::{Open, OpenConnections};
use crate::state::{ConnState, Phase};
use crate::stop::{StopBroadcast, StopWatch};
use crate::Config;

/// Pause after a failed accept (typically EMFILE) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// On a graceful stop, how long a connection whose client has sent nothing yet gets to send its first request:
/// one accepted just before the stop may have its request on the way (the prefork master stops workers while
/// clients keep connecting). Every other idle or half-received connection is closed at once.
const FIRST_REQUEST_GRACE: Duration = Duration::from_millis(500);
/// How often such a connection is checked for its first bytes during that grace.
const FIRST_READ_CHECK: Duration = Duration::from_millis(5);

pub(crate) async fn serve(listener: Acceptor, config: Config, shutdown: Shutdown) {
    let open = OpenConnections::default();
    let heartbeat = tokio::spawn(beat(Arc::clone(&config.hooks), open.clone()));
    let graceful_timeout = config.graceful_timeout;
    let abandon = Shutdown::new();
    // On its own thread, from the stop on: a CPU-bound handler blocks this event loop, so neither the stop nor a
    // timer of the loop could be noticed until it returned.
    let _abandon_timer = AbandonTimer::start(shutdown.clone(), abandon.clone(), graceful_timeout);
    let shared = Arc::new(Shared {
        handler: Handler::new(&config, abandon),
        hooks: Arc::clone(&config.hooks),
        header_timeout: config.header_timeout,
        worker_pid: std::process::id(),
    });
    let connections = TaskTracker::new();
    let stop = Arc::new(StopBroadcast::default());

    loop {
        let stream = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let counted = OpenConnection::new(Arc::clone(&shared.hooks));
        let state = Arc::new(ConnState::default());
        let connection = connection::serve(stream, Arc::clone(&shared), Arc::clone(&state));
        connections.spawn(drive_connection(connection, stop.watch(), state, (open.enter(), counted)));
    }
    stop.stop();
    drop(listener);
    connections.close();
    tracing::info!(connections = connections.len(), "stopped accepting; draining requests in progress");

    if tokio::time::timeout(graceful_timeout, connections.wait()).await.is_err() {
        tracing::warn!(timeout = ?graceful_timeout, "graceful shutdown timed out; dropping connections");
    }
    heartbeat.abort();
}

/// Serves one connection until it ends. On a graceful stop, a request being processed is finished (then the
/// connection closes); an idle or half-received connection is closed at once, except that one which has sent
/// nothing at all gets [`FIRST_REQUEST_GRACE`] to deliver its first bytes (a request racing the stop is served,
/// and one half-received does not hold the stop for the whole header timeout).
async fn drive_connection(
    connection: impl Future<Output = ()>,
    mut stop: StopWatch,
    state: Arc<ConnState>,
    _open: (Open, OpenConnection),
) {
    tokio::pin!(connection);
    let served_to_the_end = future::poll_fn(|cx| match connection.as_mut().poll(cx) {
        Poll::Ready(()) => Poll::Ready(true),
        Poll::Pending => stop.poll_stopped(cx).map(|()| false),
    })
    .await;
    if served_to_the_end {
        return;
    }
    let read_before_the_stop = state.has_read();
    let grace_ends = Instant::now() + FIRST_REQUEST_GRACE;
    while !state.has_read() && Instant::now() < grace_ends {
        tokio::select! {
            biased;
            () = connection.as_mut() => return,
            () = tokio::time::sleep(FIRST_READ_CHECK) => {}
        }
    }
    match state.phase() {
        Phase::Processing => {}
        // Its first request arrived during the grace: it raced the stop, and is served.
        Phase::Receiving if !read_before_the_stop => {}
        // Nothing worth finishing: dropping the connection closes it.
        Phase::Idle | Phase::Receiving => return,
    }
    state.close_after_response();
    connection.await;
}

/// Ticks on the runtime itself, so an event loop blocked by a handler stops beating: the prefork master relies on
/// exactly that to find a stuck worker. Each tick also lets memory freed after a flood of connections go back.
async fn beat(hooks: Arc<dyn WorkerHooks>, open: OpenConnections) {
    let mut interval = tokio::time::interval(HEARTBEAT_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        hooks.heartbeat();
        open.release_memory_after_a_flood();
    }
}

/// Cancels `abandon` once the graceful timeout has passed since `shutdown`, unless dropped first (the server
/// finished in time).
struct AbandonTimer {
    /// Dropping it wakes the timer thread early, which then leaves without cancelling.
    _stop: std::sync::mpsc::Sender<()>,
}

impl AbandonTimer {
    fn start(shutdown: Shutdown, abandon: Shutdown, graceful_timeout: Duration) -> Option<AbandonTimer> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let spawned = std::thread::Builder::new().name("graceful-timeout".into()).spawn(move || {
            server_kit::lifecycle::wait_until_cancelled(&shutdown);
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(graceful_timeout) {
                tracing::warn!("graceful timeout: abandoning the requests still running");
                abandon.cancel();
            }
        });
        match spawned {
            Ok(_) => Some(AbandonTimer { _stop: stop }),
            Err(error) => {
                tracing::warn!(%error, "cannot start the graceful-timeout thread");
                None
            }
        }
    }
}
