//! `rustcorn upstream`: the google.com stand-in that /sync-google and /async-google call (crates/upstream).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use endpoints::listener::{self, DEFAULT_BACKLOG};

use super::serve::announce_listening;
use crate::ranges::{self, MAX_DURATION};
use crate::signals::shutdown_on_signals;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, short = 'b', default_value = "127.0.0.1:9000")]
    bind: SocketAddr,
    /// Time every GET waits before it is answered (0s..=24h).
    #[arg(long, default_value = "100ms", value_parser = ranges::duration(Duration::ZERO, MAX_DURATION))]
    delay: Duration,
    /// Extra delay per request, drawn uniformly from 0 to this (0s..=24h).
    #[arg(long, default_value = "0ms", value_parser = ranges::duration(Duration::ZERO, MAX_DURATION))]
    jitter: Duration,
    /// Size of every response body in bytes (0..=67108864, 64 MiB).
    #[arg(long, default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(ranges::BODY_BYTES))]
    body_bytes: u64,
    /// Runtime threads: 1 is a current_thread runtime, which carries thousands of sleeping requests (1..=1024).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(ranges::RUNTIME_THREADS))]
    threads: u16,
    /// Listen backlog (1..=65535).
    #[arg(long, default_value_t = DEFAULT_BACKLOG, value_parser = clap::value_parser!(i32).range(ranges::BACKLOG))]
    backlog: i32,
    /// On SIGTERM/SIGINT, how long in-flight requests get to finish (0s..=24h).
    #[arg(long, default_value = "30s", value_parser = ranges::duration(Duration::ZERO, MAX_DURATION))]
    graceful_timeout: Duration,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown_on_signals()?;
    let listener =
        listener::bind(args.bind, args.backlog, false).with_context(|| format!("cannot listen on {}", args.bind))?;
    let config = upstream::Config {
        delay: args.delay,
        jitter: args.jitter,
        // At most 64 MiB (checked by clap), so it fits a usize.
        body_bytes: args.body_bytes as usize,
        threads: usize::from(args.threads),
        graceful_timeout: args.graceful_timeout,
    };
    announce_listening(&listener);
    let summary = upstream::run(listener, config, shutdown).context("upstream failed")?;
    // Ignored when stdout is gone: the count is a courtesy, and the stop already happened.
    let _ = writeln!(std::io::stdout(), "Requests served: {}", summary.requests_served);
    Ok(ExitCode::SUCCESS)
}
