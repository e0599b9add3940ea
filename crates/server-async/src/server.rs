//! The accept loop of the async model: one hyper HTTP/1.1 connection task per accepted socket, the heartbeat task,
//! and the graceful drain on shutdown (after hyper-util's `examples/server_graceful.rs`, but see
//! [`drive_connection`] for why accepted connections are not handed to hyper-util's `GracefulShutdown`).

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use endpoints::lifecycle::{Shutdown, WorkerHooks, HEARTBEAT_INTERVAL};
use endpoints::limits::{MAX_HEADERS, MAX_HEADER_BYTES};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulConnection;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use crate::accept::Acceptor;
use crate::handler::Handler;
use crate::server_io::ServerIo;
use crate::Config;

/// Pause after a failed accept (typically EMFILE) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// On a graceful stop, how long a connection whose client has sent nothing yet gets to send its first request.
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);
/// How often such a connection is checked for its first bytes during that grace.
const FIRST_READ_CHECK: Duration = Duration::from_millis(5);

pub(crate) async fn serve(listener: Acceptor, config: Config, shutdown: Shutdown) {
    let heartbeat = tokio::spawn(beat(Arc::clone(&config.hooks)));
    let http = http_builder(&config);
    let hooks = Arc::clone(&config.hooks);
    let worker_pid = std::process::id();
    let graceful_timeout = config.graceful_timeout;
    let handler = Arc::new(Handler::new(config));
    let connections = TaskTracker::new();

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
        let handler = Arc::clone(&handler);
        let service = service_fn(move |request| Arc::clone(&handler).handle(request));
        let io = ServerIo::new(stream, Arc::clone(&hooks), worker_pid);
        let has_read = io.has_read();
        let connection = http.serve_connection(TokioIo::new(io), service);
        connections.spawn(drive_connection(connection, shutdown.clone(), has_read));
    }
    drop(listener);
    connections.close();
    tracing::info!(connections = connections.len(), "stopped accepting; draining in-flight requests");

    if tokio::time::timeout(graceful_timeout, connections.wait()).await.is_err() {
        tracing::warn!(timeout = ?graceful_timeout, "graceful shutdown timed out; dropping connections");
    }
    heartbeat.abort();
}

/// HTTP/1.1 with keep-alive and the shared request limits: hyper answers an over-long head or too many headers
/// with 431 and garbage with 400 by itself (given a JSON body by [`ServerIo`]), and closes a connection whose head
/// is not complete in time. Not vectored, so that [`ServerIo`] finds each response head at the start of a write.
fn http_builder(config: &Config) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .keep_alive(true)
        .writev(false)
        .header_read_timeout(config.header_timeout)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEADER_BYTES);
    http
}

/// Serves one connection until it ends; on shutdown lets it finish the request in progress, then close.
/// hyper closes a connection at once when asked to shut down before it has read anything, which would drop a
/// request whose client connected just before the stop (the prefork master stops workers while clients keep
/// connecting). So a connection that has read nothing yet gets [`FIRST_REQUEST_GRACE`] to deliver its first bytes.
async fn drive_connection<C>(connection: C, shutdown: Shutdown, has_read: Arc<AtomicBool>)
where
    C: GracefulConnection,
    C::Error: Display,
{
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return log_connection_end(result),
        () = shutdown.cancelled() => {}
    }
    let grace_ends = Instant::now() + FIRST_REQUEST_GRACE;
    while !has_read.load(Ordering::Acquire) && Instant::now() < grace_ends {
        tokio::select! {
            result = connection.as_mut() => return log_connection_end(result),
            () = tokio::time::sleep(FIRST_READ_CHECK) => {}
        }
    }
    connection.as_mut().graceful_shutdown();
    log_connection_end(connection.await);
}

fn log_connection_end<E: Display>(result: Result<(), E>) {
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Ticks on the runtime itself, so an event loop blocked by a handler stops beating: the prefork master relies on
/// exactly that to find a stuck worker.
async fn beat(hooks: Arc<dyn WorkerHooks>) {
    let mut interval = tokio::time::interval(HEARTBEAT_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        hooks.heartbeat();
    }
}
