//! Thread-per-connection HTTP/1.1 server on `std::net` and `httparse`: gunicorn sync workers modelled in Rust.
//! [`run`] serves an already bound listener with at most `max_threads` connections at once; used by
//! `rustcorn serve sync` and by the prefork workers (`-k sync`).

mod connection;
mod handler;
mod server;

use std::sync::Arc;
use std::time::Duration;

use endpoints::{AppConfig, UpstreamClient};
use server_kit::lifecycle::{NoHooks, WorkerHooks};
use server_kit::limits::DEFAULT_HEADER_TIMEOUT;

pub use server::run;
pub use server_kit::lifecycle::Shutdown;

/// Connections served at once unless configured otherwise (`--max-threads`).
pub const DEFAULT_MAX_THREADS: usize = 64;
/// Idle time allowed between two requests on a kept-alive connection (`--keep-alive-timeout`).
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Responses on one connection before the server closes it (`--max-keepalive-requests`): Apache's
/// `MaxKeepAliveRequests` default, so that under overload kept-alive connections take turns at the threads.
pub const DEFAULT_MAX_KEEPALIVE_REQUESTS: u64 = 100;
/// gunicorn's default graceful timeout (`--graceful-timeout`).
pub const DEFAULT_GRACEFUL_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything [`run`] needs besides the listener and the shutdown token.
#[derive(Debug, Clone)]
pub struct Config {
    pub app: AppConfig,
    pub upstream: UpstreamClient,
    /// Deadline for a whole request head, counted from the connection's accept (first request) or from the
    /// request's first byte (later ones); not reset by each byte, so a slowloris client is closed in time.
    /// A request body gets the same amount of time once its head is read.
    pub header_timeout: Duration,
    pub hooks: Arc<dyn WorkerHooks>,
    /// Connections served at once; the rest wait in the kernel's listen backlog (gunicorn's sync queueing).
    /// Zero is taken as one.
    pub max_threads: usize,
    /// Keep connections open between requests. `false` closes after every response, which is exactly
    /// gunicorn's sync worker (it ignores its `keepalive` setting).
    pub keep_alive: bool,
    /// Idle time between requests after which a kept-alive connection is closed.
    pub keep_alive_timeout: Duration,
    /// Responses on one connection, the last one saying `Connection: close`, after which it is closed (Apache's
    /// `MaxKeepAliveRequests`); 0 keeps it open as long as the client does. A busy kept-alive client is never idle,
    /// so without a bound it holds its thread for life and connections in the backlog wait forever.
    pub max_keepalive_requests: u64,
    /// After shutdown is requested, how long requests in progress get to finish; then their work is abandoned
    /// (the CPU loop stops) and [`run`] returns without waiting for them.
    pub graceful_timeout: Duration,
}

impl Config {
    /// A config with the CLI's defaults: 64 threads, keep-alive on (5 s, at most 100 requests per connection), the
    /// default header timeout, no hooks.
    pub fn new(app: AppConfig, upstream: UpstreamClient) -> Self {
        Self {
            app,
            upstream,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            hooks: Arc::new(NoHooks),
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: true,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_keepalive_requests: DEFAULT_MAX_KEEPALIVE_REQUESTS,
            graceful_timeout: DEFAULT_GRACEFUL_TIMEOUT,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot set up the listening socket")]
    Listener(#[source] std::io::Error),
    #[error("cannot start connection thread {index}")]
    SpawnThread {
        index: usize,
        #[source]
        source: std::io::Error,
    },
}
