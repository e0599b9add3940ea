//! The accept side: `max_threads` threads, each looping accept -> serve that connection -> accept, on clones of one
//! listener. Connections beyond them wait in the kernel backlog, never in a user-space queue. One thread at a time
//! waits in accept, behind the supervisor's gate ([`server_kit::lifecycle::WorkerHooks::may_accept`]). The calling
//! thread watches them and bounds a graceful stop by the graceful timeout.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use server_kit::lifecycle::{ACCEPT_GATE_RECHECK, HEARTBEAT_INTERVAL};
use server_kit::listener::wait_for_connection;
use socket2::SockRef;

use crate::connection::{self, is_timeout, ServerState, ThreadState};
use crate::{Config, Error, Shutdown};

/// Pause after an accept error that is not about one connection (e.g. out of file descriptors), so the thread
/// does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// How often the calling thread looks at the connection threads and the shutdown token.
const WATCH_INTERVAL: Duration = Duration::from_millis(50);
/// After the graceful timeout has abandoned the work in progress, how long the threads get to return before
/// [`run`] returns without them (the process is about to exit; a thread still blocked is left behind).
const ABANDON_GRACE: Duration = Duration::from_secs(1);

/// Serves `listener` until `shutdown` is cancelled, then stops accepting, lets every request in progress finish
/// (idle and half-received connections are closed at once) for at most the graceful timeout, and returns. Blocks
/// the calling thread.
pub fn run(listener: TcpListener, config: Config, shutdown: Shutdown) -> Result<(), Error> {
    listener.set_nonblocking(false).map_err(Error::Listener)?;
    // Linux's accept(2) honours SO_RCVTIMEO: blocked threads wake up to heartbeat and to notice shutdown.
    SockRef::from(&listener).set_read_timeout(Some(HEARTBEAT_INTERVAL)).map_err(Error::Listener)?;
    // A child token lets a failed start stop the threads already running without cancelling the caller's token.
    let stop = shutdown.child_token();
    let watched = listener.try_clone().map_err(Error::Listener)?;
    let shared = Arc::new(ServerState::new(config, stop.clone(), watched));
    let thread_count = shared.config.max_threads.max(1);
    tracing::debug!(threads = thread_count, "sync server starting");
    let mut threads = Vec::with_capacity(thread_count);
    for index in 0..thread_count {
        match spawn_accept_thread(index, &listener, &shared) {
            Ok(handle) => threads.push(handle),
            Err(source) => {
                stop.cancel();
                join_all(threads);
                return Err(Error::SpawnThread { index, source });
            }
        }
    }
    watch(threads, &shared);
    tracing::debug!("sync server stopped");
    Ok(())
}

/// Waits for the connection threads to end. Once shutdown is requested they have the graceful timeout to finish
/// their requests; then the work still running is abandoned, and after [`ABANDON_GRACE`] the rest is left behind.
fn watch(mut threads: Vec<JoinHandle<()>>, shared: &ServerState) {
    let mut abandon_at: Option<Instant> = None;
    loop {
        let (finished, running): (Vec<_>, Vec<_>) = threads.into_iter().partition(JoinHandle::is_finished);
        join_all(finished);
        threads = running;
        if threads.is_empty() {
            return;
        }
        if shared.shutdown.is_cancelled() {
            let abandon_at = *abandon_at.get_or_insert_with(|| Instant::now() + shared.config.graceful_timeout);
            let now = Instant::now();
            if now >= abandon_at && !shared.abandon.is_cancelled() {
                tracing::warn!(busy = threads.len(), "graceful timeout: abandoning the requests still running");
                shared.abandon.cancel();
            }
            if now >= abandon_at + ABANDON_GRACE {
                tracing::warn!(left = threads.len(), "connection threads still running; leaving them behind");
                return;
            }
        }
        thread::sleep(WATCH_INTERVAL);
    }
}

fn spawn_accept_thread(index: usize, listener: &TcpListener, shared: &Arc<ServerState>) -> io::Result<JoinHandle<()>> {
    let listener = listener.try_clone()?;
    let shared = Arc::clone(shared);
    thread::Builder::new().name(format!("sync-{index}")).spawn(move || accept_loop(&listener, &shared))
}

fn accept_loop(listener: &TcpListener, shared: &ServerState) {
    let mut state = ThreadState::new();
    while let Some(accepted) = take_turn(listener, shared) {
        let hooks = &shared.config.hooks;
        match accepted {
            Ok((stream, _peer)) => {
                let _busy = shared.enter();
                hooks.connection_opened();
                let served = panic::catch_unwind(AssertUnwindSafe(|| connection::serve(stream, shared, &mut state)));
                hooks.connection_closed();
                if served.is_err() {
                    tracing::error!("a connection handler panicked; its connection was dropped");
                }
                hooks.heartbeat();
            }
            Err(error) if is_timeout(&error) => hooks.heartbeat(),
            Err(error) if is_about_one_connection(&error) => {}
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                thread::sleep(ACCEPT_ERROR_PAUSE);
                hooks.heartbeat();
            }
        }
    }
}

/// One accept by this thread, taken in turn with the server's other threads; None once shutdown is requested.
/// The kernel wakes the longest-waiting thread for each new connection, and every thread of one prefork worker
/// re-enters accept at about the same moment (each heartbeat), so with all of them waiting a burst would go to one
/// worker's threads only. One waiter per worker, asking the gate first, deals the burst out instead.
fn take_turn(listener: &TcpListener, shared: &ServerState) -> Option<io::Result<(TcpStream, SocketAddr)>> {
    loop {
        let _turn = shared.accept_turn.lock().unwrap_or_else(PoisonError::into_inner);
        if shared.shutdown.is_cancelled() {
            return None;
        }
        if shared.config.hooks.may_accept() {
            return Some(listener.accept());
        }
        // Gated: leave waiting connections to a sibling; block until one arrives or a heartbeat is due.
        if wait_for_connection(listener, HEARTBEAT_INTERVAL).unwrap_or(true) {
            thread::sleep(ACCEPT_GATE_RECHECK);
        }
        shared.config.hooks.heartbeat();
    }
}

fn join_all(threads: Vec<JoinHandle<()>>) {
    for handle in threads {
        if handle.join().is_err() {
            tracing::error!("a connection thread panicked outside any connection");
        }
    }
}

/// Errors after which the next accept may well succeed: the client gave up, or a signal interrupted the call.
fn is_about_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    )
}
