//! `rustcorn serve sync`: flags of the thread-per-connection model and the call into `server_sync::run`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use server_kit::lifecycle::NoHooks;
use server_sync::{Config, DEFAULT_MAX_KEEPALIVE_REQUESTS, DEFAULT_MAX_THREADS};

use super::{announce_listening, CommonArgs};
use crate::ranges::{self, MAX_DURATION};
use crate::signals::shutdown_on_signals;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Connections served at once, one thread each; further connections wait in the listen backlog (1..=4096).
    #[arg(long, default_value_t = DEFAULT_MAX_THREADS as u32,
        value_parser = clap::value_parser!(u32).range(ranges::MAX_THREADS))]
    max_threads: u32,
    /// Close the connection after every response: exactly gunicorn's sync worker, which ignores keepalive.
    #[arg(long)]
    no_keepalive: bool,
    /// Idle time between two requests after which a kept-alive connection is closed (1ms..=24h).
    #[arg(long, default_value = "5s", value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    keep_alive_timeout: Duration,
    /// Apache's MaxKeepAliveRequests: after this many responses on one connection the last one says
    /// `Connection: close` and the connection is closed, so that under overload kept-alive clients take turns at
    /// the threads instead of holding them for life; 0 is unlimited (0..=1e12).
    #[arg(long, default_value_t = DEFAULT_MAX_KEEPALIVE_REQUESTS, value_name = "N",
        value_parser = clap::value_parser!(u64).range(ranges::MAX_KEEPALIVE_REQUESTS))]
    max_keepalive_requests: u64,
    /// On SIGTERM/SIGINT, how long requests in progress get to finish; then their work is abandoned (0s..=24h).
    #[arg(long, default_value = "30s", value_parser = ranges::duration(Duration::ZERO, MAX_DURATION))]
    graceful_timeout: Duration,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown_on_signals()?;
    let config = Config {
        app: args.common.app_config(),
        upstream: args.common.upstream_client()?,
        header_timeout: args.common.header_timeout,
        hooks: Arc::new(NoHooks),
        max_threads: args.max_threads as usize,
        keep_alive: !args.no_keepalive,
        keep_alive_timeout: args.keep_alive_timeout,
        max_keepalive_requests: args.max_keepalive_requests,
        graceful_timeout: args.graceful_timeout,
    };
    let listener = args.common.bind_listener()?;
    announce_listening(&listener);
    tracing::info!(
        max_threads = config.max_threads,
        keep_alive = config.keep_alive,
        max_keepalive_requests = config.max_keepalive_requests,
        "serving (sync model)"
    );
    server_sync::run(listener, config, shutdown).context("the sync server failed")?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
