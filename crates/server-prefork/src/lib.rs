//! A gunicorn-style master that forks async or sync workers and supervises them: `rustcorn serve prefork` calls
//! [`run`] with a [`Config`] and a [`WorkerApp`] (how a worker process boots and serves; [`models`] has the async
//! and sync ones). The master binds once, forks before any thread exists, and stays single-threaded.

mod gate;
mod master;
pub mod models;
mod scoreboard;
mod signals;
mod stats;
mod worker;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use server_kit::lifecycle::{Shutdown, WorkerHooks};

pub use stats::{IndexStats, ProcessStats, WorkerStats};
pub use worker::{EXIT_BOOT_ERROR, EXIT_SERVE_ERROR};

/// Most workers one master runs (`-w` and SIGTTIN stop there); the scoreboard is sized from it.
pub const MAX_WORKERS: usize = 128;

/// The master's settings (`rustcorn serve prefork` flags, minus the worker model's own).
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub backlog: i32,
    /// How the workers take connections from the listening socket.
    pub accept: Accept,
    pub workers: usize,
    /// A worker whose heartbeat is older than this is killed (SIGKILL) and replaced; zero disables the check.
    pub timeout: Duration,
    /// How long stopping workers may take to finish in-flight requests before they are killed.
    pub graceful_timeout: Duration,
    /// Recycle a worker after this many requests (plus a random 0..=jitter); zero disables it.
    pub max_requests: u64,
    pub max_requests_jitter: u64,
    /// Where to write per-worker request counts (JSON) when the master exits.
    pub stats_path: Option<PathBuf>,
    /// Test-only: a worker stops heartbeating and blocks after serving this many requests.
    pub hang_after_requests: Option<u64>,
}

impl Config {
    /// gunicorn's defaults for everything but the address and the worker count.
    pub fn new(bind: SocketAddr, workers: usize) -> Config {
        Config {
            bind,
            backlog: server_kit::listener::DEFAULT_BACKLOG,
            accept: Accept::Balanced,
            workers,
            timeout: Duration::from_secs(30),
            graceful_timeout: Duration::from_secs(30),
            max_requests: 0,
            max_requests_jitter: 0,
            stats_path: None,
            hang_after_requests: None,
        }
    }
}

/// How the workers take connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accept {
    /// One socket shared by every worker, as in gunicorn, but a worker holding more open connections than a live
    /// sibling leaves new ones in the queue for that sibling, so a burst of keep-alive connections is shared out.
    #[default]
    Balanced,
    /// gunicorn exactly: one shared socket, and whichever worker wakes first accepts every connection waiting.
    Shared,
    /// A SO_REUSEPORT socket per worker: the kernel hashes each new connection to one of them. Connections queued
    /// on a worker's socket are reset when that worker exits.
    ReusePort,
}

/// How a worker process boots and serves, called in the child after fork. Anything that starts threads (a tokio
/// runtime, reqwest's blocking client) must be created here, never in the master.
pub trait WorkerApp {
    type Booted;
    type Error: std::error::Error + 'static;

    /// Builds what the model needs. An error here is a boot failure: repeated ones make the master halt.
    fn boot(&self, hooks: Arc<dyn WorkerHooks>) -> Result<Self::Booted, Self::Error>;

    /// Serves `listener` until `shutdown` is cancelled and in-flight requests are done.
    fn serve(&self, booted: Self::Booted, listener: TcpListener, shutdown: Shutdown) -> Result<(), Self::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid prefork configuration: {0}")]
    Config(String),
    #[error("the prefork master must fork before any thread exists, but this process already has {0} threads")]
    NotSingleThreaded(usize),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Scoreboard(#[from] scoreboard::MapError),
    #[error("cannot take over the master's signals")]
    Signals(#[source] nix::Error),
    #[error("workers failed to boot {attempts} times in a row; last: {reason}")]
    WorkersFailedToBoot { attempts: u32, reason: String },
    #[error("cannot write the worker stats to {path}")]
    Stats {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Binds, forks `config.workers` workers running `app`, and supervises them until a stop signal (SIGTERM: graceful,
/// SIGINT/SIGQUIT: quick) or repeated boot failures. `on_listening` is called once, when every worker is ready.
/// Returns the per-worker request counts (also written to `config.stats_path`).
pub fn run<A: WorkerApp>(
    config: &Config,
    app: &A,
    on_listening: impl FnOnce(&TcpListener),
) -> Result<WorkerStats, Error> {
    master::Master::start(config, app)?.run(on_listening)
}
