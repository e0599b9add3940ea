//! `rustcorn serve MODEL`: the flags every server model shares, and the dispatch to each model's module.

mod async_model;
mod prefork_model;
mod sync_model;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use endpoints::{
    AppConfig, UpstreamCa, UpstreamClient, DEFAULT_CPU_ITERATIONS, DEFAULT_MEMORY_N, DEFAULT_UPSTREAM_URL,
    MAX_CPU_ITERATIONS, MAX_MEMORY_N,
};
use server_kit::listener::{self, DEFAULT_BACKLOG};

use crate::ranges::{self, MAX_DURATION};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    model: Model,
    /// Check the flags and exit (0, or 2 with the error) without binding or serving: `rustcorn bench run` checks
    /// a suite's `serve` lines with it, so they are parsed by these very definitions before anything starts.
    #[arg(long, global = true)]
    check: bool,
}

#[derive(Debug, Subcommand)]
enum Model {
    /// Thread per connection on std::net + httparse, at most --max-threads at once (gunicorn sync workers).
    Sync(sync_model::Args),
    /// tokio, a task per connection; one event loop by default (Uvicorn), --threads N for the multi-thread runtime.
    Async(async_model::Args),
    /// gunicorn-style master forking -w N workers of the sync or async model (-k), supervised like gunicorn.
    Prefork(prefork_model::Args),
}

/// Flags shared by every server model.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, short = 'b', default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// Listen backlog: connections the kernel queues while every worker is busy (1..=65535).
    #[arg(long, default_value_t = DEFAULT_BACKLOG, value_parser = clap::value_parser!(i32).range(ranges::BACKLOG))]
    pub backlog: i32,
    /// URL that /sync-google and /async-google fetch (run `rustcorn upstream` there).
    #[arg(long, default_value = DEFAULT_UPSTREAM_URL)]
    pub upstream: String,
    /// CA certificate (PEM) an https --upstream must chain to, trusted instead of the compiled-in Mozilla roots
    /// (`rustcorn upstream --tls --ca-out FILE` writes one). Verification cannot be turned off.
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
    /// Iterations of /cpu-intensive when the request has no ?iterations= (the article's 1000 x 100; 0..=1e9, the
    /// same bound as the query's).
    #[arg(long, default_value_t = DEFAULT_CPU_ITERATIONS,
        value_parser = clap::value_parser!(u64).range(0..=MAX_CPU_ITERATIONS))]
    pub cpu_iterations: u64,
    /// Integers built by /memory-intensive when the request has no ?n= (0..=1e7, the same bound as the query's).
    #[arg(long, default_value_t = DEFAULT_MEMORY_N, value_parser = clap::value_parser!(u64).range(0..=MAX_MEMORY_N))]
    pub memory_n: u64,
    /// Time a client has to send a complete request head (or body) before its connection is closed (1ms..=24h).
    #[arg(long, default_value = "10s", value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    pub header_timeout: Duration,
}

impl CommonArgs {
    pub fn app_config(&self) -> AppConfig {
        AppConfig { cpu_iterations: self.cpu_iterations, memory_n: self.memory_n }
    }

    /// Builds the upstream clients; call it before any tokio runtime exists.
    pub fn upstream_client(&self) -> anyhow::Result<UpstreamClient> {
        UpstreamClient::new(&self.upstream, self.upstream_ca()?.as_ref()).context("bad --upstream")
    }

    /// The `--upstream-ca` file, read and parsed.
    pub fn upstream_ca(&self) -> anyhow::Result<Option<UpstreamCa>> {
        self.upstream_ca.as_deref().map(UpstreamCa::read).transpose().context("bad --upstream-ca")
    }

    pub fn bind_listener(&self) -> anyhow::Result<TcpListener> {
        listener::bind(self.bind, self.backlog, false).with_context(|| format!("cannot listen on {}", self.bind))
    }
}

/// Prints the readiness line that tests, the driver and people wait for. A closed stdout (`| head -1` gone) is
/// only warned about: the server was asked to serve, and its readiness is still visible on the socket.
pub fn announce_listening(listener: &TcpListener) {
    announce(listener, "http");
}

/// [`announce_listening`] with the URL scheme the server speaks (the upstream's is https with `--tls`).
pub fn announce(listener: &TcpListener, scheme: &str) {
    use std::io::Write;
    let printed = listener.local_addr().map(|addr| {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "Listening at: {scheme}://{addr}").and_then(|()| stdout.flush())
    });
    if let Err(error) | Ok(Err(error)) = printed {
        tracing::warn!(%error, "cannot print the Listening line");
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.check {
        return Ok(ExitCode::SUCCESS);
    }
    match args.model {
        Model::Sync(args) => sync_model::run(args),
        Model::Async(args) => async_model::run(args),
        Model::Prefork(args) => prefork_model::run(args),
    }
}
