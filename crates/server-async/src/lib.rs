//! tokio server model: a current_thread runtime by default (Uvicorn's one event loop), tokio's multi-thread
//! runtime with `threads > 1`, one task per connection speaking the HTTP/1.1 both models share
//! (`endpoints::http1`, on httparse). `rustcorn serve async` and the prefork worker call [`run`].

mod accept;
mod connection;
mod handler;
mod memory;
mod server;
mod state;
mod stop;

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use endpoints::{AppConfig, UpstreamClient};
use server_kit::lifecycle::{NoHooks, Shutdown, WorkerHooks};
use server_kit::limits::DEFAULT_HEADER_TIMEOUT;

/// FastAPI runs `def` handlers on a threadpool of 40 (anyio's default); the blocking pool mirrors it.
pub const DEFAULT_BLOCKING_THREADS: usize = 40;
/// uvicorn's and gunicorn's default graceful timeout.
pub const DEFAULT_GRACEFUL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where `/sync-google`'s blocking call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockingMode {
    /// On tokio's blocking pool (`spawn_blocking`), like FastAPI's threadpool for `def` handlers.
    #[default]
    Pool,
    /// On the event-loop thread itself, which then serves nothing else until the call returns.
    Inline,
}

/// Everything [`run`] needs besides the listener and the shutdown token.
#[derive(Debug, Clone)]
pub struct Config {
    pub app: AppConfig,
    pub upstream: UpstreamClient,
    /// Time a client has to send a complete request head; then the connection is closed.
    pub header_timeout: Duration,
    pub hooks: Arc<dyn WorkerHooks>,
    /// Runtime worker threads: 1 is a current_thread runtime, N > 1 tokio's multi-thread runtime.
    pub threads: usize,
    /// Most threads tokio's blocking pool runs at once (`/sync-google` in [`BlockingMode::Pool`]).
    pub blocking_threads: usize,
    pub blocking: BlockingMode,
    /// Requests in flight beyond which new ones get 503 at once (uvicorn's `--limit-concurrency`).
    pub limit_concurrency: Option<usize>,
    /// After shutdown is requested, how long in-flight requests get before connections are dropped.
    pub graceful_timeout: Duration,
}

impl Config {
    /// The defaults of `rustcorn serve async`: one event loop, 40 blocking threads, no concurrency limit.
    pub fn new(app: AppConfig, upstream: UpstreamClient) -> Self {
        Self {
            app,
            upstream,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            hooks: Arc::new(NoHooks),
            threads: 1,
            blocking_threads: DEFAULT_BLOCKING_THREADS,
            blocking: BlockingMode::Pool,
            limit_concurrency: None,
            graceful_timeout: DEFAULT_GRACEFUL_TIMEOUT,
        }
    }
}

pub use server_kit::ServeError;

/// Serves `listener` until `shutdown` is cancelled, then stops accepting, lets in-flight requests finish (for at
/// most `config.graceful_timeout`) and returns. Builds its own runtime, so call it from a plain thread (the prefork
/// worker calls it after fork).
pub fn run(listener: TcpListener, config: Config, shutdown: Shutdown) -> Result<(), ServeError> {
    let runtime = build_runtime(config.threads, config.blocking_threads).map_err(ServeError::Runtime)?;
    let outcome = runtime.block_on(async move {
        let listener = accept::Acceptor::new(listener, Arc::clone(&config.hooks)).map_err(ServeError::Listener)?;
        server::serve(listener, config, shutdown).await;
        Ok(())
    });
    // A blocking call still running after a timed-out drain must not hold the process for its whole timeout.
    runtime.shutdown_timeout(Duration::from_secs(1));
    outcome
}

fn build_runtime(threads: usize, blocking_threads: usize) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.max_blocking_threads(blocking_threads.max(1)).thread_name("rustcorn-async").enable_all().build()
}
