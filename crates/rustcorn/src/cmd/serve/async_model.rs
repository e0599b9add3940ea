//! `rustcorn serve async`: flags of the tokio model and the call into `server_async::run`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use server_async::{BlockingMode, DEFAULT_BLOCKING_THREADS};

use super::{announce_listening, CommonArgs};
use crate::ranges::{self, MAX_DURATION};
use crate::signals::shutdown_on_signals;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Runtime threads: 1 is one event loop (Uvicorn's model), N > 1 tokio's multi-thread runtime (1..=1024).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(ranges::RUNTIME_THREADS))]
    threads: u32,
    /// Size of the blocking pool that runs /sync-google (FastAPI's threadpool has 40; 1..=4096).
    #[arg(long, default_value_t = DEFAULT_BLOCKING_THREADS as u32,
        value_parser = clap::value_parser!(u32).range(ranges::BLOCKING_THREADS))]
    blocking_threads: u32,
    /// Where /sync-google's blocking call runs: on the blocking pool, or inline on the event loop.
    #[arg(long, value_enum, default_value_t = Blocking::Pool)]
    blocking: Blocking,
    /// Requests in flight beyond which new ones get 503 at once (uvicorn's --limit-concurrency; 1..=1000000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(ranges::LIMIT_CONCURRENCY))]
    limit_concurrency: Option<u32>,
    /// On SIGTERM/SIGINT, how long requests in progress get to finish; then their work is abandoned (0s..=24h).
    #[arg(long, default_value = "30s", value_parser = ranges::duration(Duration::ZERO, MAX_DURATION))]
    graceful_timeout: Duration,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Blocking {
    /// tokio's blocking pool (`spawn_blocking`), like FastAPI's threadpool for `def` handlers.
    Pool,
    /// The event-loop thread itself: nothing else is served on it until the call returns.
    Inline,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Installed before the runtime exists, so a signal during startup already means a graceful stop.
    let shutdown = shutdown_on_signals()?;
    let upstream = args.common.upstream_client()?;
    let listener = args.common.bind_listener()?;
    let config = server_async::Config {
        header_timeout: args.common.header_timeout,
        threads: args.threads as usize,
        blocking_threads: args.blocking_threads as usize,
        blocking: match args.blocking {
            Blocking::Pool => BlockingMode::Pool,
            Blocking::Inline => BlockingMode::Inline,
        },
        limit_concurrency: args.limit_concurrency.map(|limit| limit as usize),
        graceful_timeout: args.graceful_timeout,
        ..server_async::Config::new(args.common.app_config(), upstream)
    };
    tracing::info!(threads = config.threads, blocking_threads = config.blocking_threads, "serving (async model)");
    tracing::debug!(?config, "async server configuration");
    announce_listening(&listener);
    server_async::run(listener, config, shutdown).context("async server failed")?;
    Ok(ExitCode::SUCCESS)
}
