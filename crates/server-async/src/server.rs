//! The accept loop of the async model: one hyper HTTP/1.1 connection task per accepted socket, the heartbeat task,
//! and the graceful drain on shutdown (after hyper-util's `examples/server_graceful.rs`).

use std::sync::Arc;
use std::time::Duration;

use endpoints::lifecycle::{Shutdown, WorkerHooks, HEARTBEAT_INTERVAL};
use endpoints::limits::{MAX_HEADERS, MAX_HEADER_BYTES};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::handler::Handler;
use crate::server_io::ServerIo;
use crate::Config;

/// Pause after a failed accept (typically EMFILE) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

pub(crate) async fn serve(listener: TcpListener, config: Config, shutdown: Shutdown) {
    let heartbeat = tokio::spawn(beat(Arc::clone(&config.hooks)));
    let http = http_builder(&config);
    let hooks = Arc::clone(&config.hooks);
    let worker_pid = std::process::id();
    let graceful_timeout = config.graceful_timeout;
    let handler = Arc::new(Handler::new(config));
    let graceful = GracefulShutdown::new();

    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
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
        let io = TokioIo::new(ServerIo::new(stream, Arc::clone(&hooks), worker_pid));
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(connections = graceful.count(), "stopped accepting; draining in-flight requests");

    if tokio::time::timeout(graceful_timeout, graceful.shutdown()).await.is_err() {
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
