//! `rustcorn serve prefork`: gunicorn's flags (-w, -k, --timeout, --max-requests...) turned into a
//! `server_prefork::Config` and worker model, then the call into `server_prefork::run`. No thread may start here:
//! the master forks its workers after this returns control to it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use server_async::{BlockingMode, DEFAULT_BLOCKING_THREADS};
use server_prefork::models::{AsyncSettings, Model, SyncSettings, Worker};

use super::{announce_listening, CommonArgs};
use crate::ranges::{self, MAX_DURATION};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Worker processes to fork (SIGTTIN / SIGTTOU add or remove one while running; 1..=128).
    #[arg(short = 'w', long, default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=server_prefork::MAX_WORKERS as i64))]
    workers: u32,
    /// Worker model: `sync` (gunicorn's sync worker, one request at a time by default) or `async` (UvicornWorker).
    #[arg(short = 'k', long = "worker-class", value_enum, default_value_t = WorkerClass::Sync)]
    worker_class: WorkerClass,
    /// How workers take connections. `balanced`: one shared socket, and a worker holding more open connections
    /// than a live sibling leaves new ones to that sibling, so a burst of keep-alive connections is shared out.
    /// `shared`: gunicorn exactly, one shared socket and the first worker to wake accepts every waiting connection
    /// (a burst can all land on one worker). `reuse-port`: a SO_REUSEPORT socket per worker, the kernel hashes
    /// connections to them (connections queued on a worker's socket are reset when that worker exits).
    #[arg(long, value_enum, default_value_t = AcceptMode::Balanced, verbatim_doc_comment)]
    accept: AcceptMode,
    /// Same as --accept reuse-port.
    #[arg(long, conflicts_with = "accept")]
    reuse_port: bool,
    /// Kill (SIGKILL) and replace a worker silent for this long (seconds, or a duration like 500ms); 0 disables
    /// (0s..=24h).
    #[arg(long, default_value = "30s", value_parser = parse_seconds)]
    timeout: Duration,
    /// Time stopping workers get to finish in-flight requests before they are killed (0s..=24h).
    #[arg(long, default_value = "30s", value_parser = parse_seconds)]
    graceful_timeout: Duration,
    /// Restart a worker after this many requests (0: never), to bound leaks as gunicorn does (0..=1e12).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(ranges::MAX_REQUESTS))]
    max_requests: u64,
    /// Add a random 0..=J to each worker's --max-requests so that workers do not restart together (0..=1e12).
    #[arg(long, default_value_t = 0, value_name = "J",
        value_parser = clap::value_parser!(u64).range(ranges::MAX_REQUESTS))]
    max_requests_jitter: u64,
    /// Write the requests served per worker (JSON) to FILE when the master exits.
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,

    /// Async worker (-k async): runtime threads per worker; 1 is one event loop (UvicornWorker; 1..=1024).
    #[arg(long, help_heading = "Async worker (-k async)",
        value_parser = clap::value_parser!(u32).range(ranges::RUNTIME_THREADS))]
    threads: Option<u32>,
    /// Async worker: size of the blocking pool that runs /sync-google (FastAPI's threadpool has 40; 1..=4096).
    #[arg(long, help_heading = "Async worker (-k async)",
        value_parser = clap::value_parser!(u32).range(ranges::BLOCKING_THREADS))]
    blocking_threads: Option<u32>,
    /// Async worker: where /sync-google's blocking call runs.
    #[arg(long, help_heading = "Async worker (-k async)", value_enum)]
    blocking: Option<Blocking>,
    /// Async worker: requests in flight per worker beyond which new ones get 503 at once (1..=1000000).
    #[arg(long, help_heading = "Async worker (-k async)",
        value_parser = clap::value_parser!(u32).range(ranges::LIMIT_CONCURRENCY))]
    limit_concurrency: Option<u32>,

    /// Sync worker (-k sync): connections served at once per worker; 1 is gunicorn's sync worker (1..=4096).
    #[arg(long, help_heading = "Sync worker (-k sync)",
        value_parser = clap::value_parser!(u32).range(ranges::MAX_THREADS))]
    max_threads: Option<u32>,
    /// Sync worker: close the connection after every response, as gunicorn's sync worker does.
    #[arg(long, help_heading = "Sync worker (-k sync)")]
    no_keepalive: bool,
    /// Sync worker: idle time between two requests after which a kept-alive connection is closed (1ms..=24h).
    #[arg(long, help_heading = "Sync worker (-k sync)",
        value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    keep_alive_timeout: Option<Duration>,
    /// Sync worker: Apache's MaxKeepAliveRequests: after this many responses on one connection the last one says
    /// `Connection: close` and the connection is closed, so kept-alive clients take turns at the workers; 0 is
    /// unlimited (default 100; 0..=1e12).
    #[arg(long, help_heading = "Sync worker (-k sync)", value_name = "N",
        value_parser = clap::value_parser!(u64).range(ranges::MAX_KEEPALIVE_REQUESTS))]
    max_keepalive_requests: Option<u64>,

    /// Test-only: each worker stops heartbeating and blocks after serving N requests.
    #[arg(long, hide = true, value_name = "N")]
    test_hang_after_requests: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WorkerClass {
    Sync,
    Async,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AcceptMode {
    Balanced,
    Shared,
    ReusePort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Blocking {
    /// tokio's blocking pool, like FastAPI's threadpool for `def` handlers.
    Pool,
    /// The event-loop thread itself: nothing else is served on it until the call returns.
    Inline,
}

/// gunicorn takes plain seconds (`--timeout 30`); a duration with a unit (`500ms`, `2s`) works too. At most 24h.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text).map_err(|error| format!("{error} (e.g. 30 or 30s or 500ms)"))?,
    };
    ranges::within(duration, Duration::ZERO, MAX_DURATION)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let worker = args.worker()?;
    let config = args.master_config();
    tracing::info!(workers = config.workers, worker_class = ?args.worker_class, "starting the prefork master");
    server_prefork::run(&config, &worker, announce_listening).context("the prefork master failed")?;
    Ok(ExitCode::SUCCESS)
}

impl Args {
    fn master_config(&self) -> server_prefork::Config {
        server_prefork::Config {
            backlog: self.common.backlog,
            accept: match (self.reuse_port, self.accept) {
                (true, _) | (_, AcceptMode::ReusePort) => server_prefork::Accept::ReusePort,
                (false, AcceptMode::Balanced) => server_prefork::Accept::Balanced,
                (false, AcceptMode::Shared) => server_prefork::Accept::Shared,
            },
            timeout: self.timeout,
            graceful_timeout: self.graceful_timeout,
            max_requests: self.max_requests,
            max_requests_jitter: self.max_requests_jitter,
            stats_path: self.stats.clone(),
            hang_after_requests: self.test_hang_after_requests,
            ..server_prefork::Config::new(self.common.bind, self.workers as usize)
        }
    }

    /// The worker model, refusing flags that belong to the other one.
    fn worker(&self) -> anyhow::Result<Worker> {
        let model = match self.worker_class {
            WorkerClass::Sync => {
                reject_flags("-k sync", &self.async_flags_given())?;
                Model::Sync(self.sync_settings())
            }
            WorkerClass::Async => {
                reject_flags("-k async", &self.sync_flags_given())?;
                Model::Async(self.async_settings())
            }
        };
        Ok(Worker {
            app: self.common.app_config(),
            upstream_url: self.common.upstream.clone(),
            upstream_ca: self.common.upstream_ca()?,
            header_timeout: self.common.header_timeout,
            model,
        })
    }

    fn sync_settings(&self) -> SyncSettings {
        SyncSettings {
            max_threads: self.max_threads.unwrap_or(1) as usize,
            keep_alive: !self.no_keepalive,
            keep_alive_timeout: self.keep_alive_timeout.unwrap_or(server_sync::DEFAULT_KEEP_ALIVE_TIMEOUT),
            max_keepalive_requests: self.max_keepalive_requests.unwrap_or(server_sync::DEFAULT_MAX_KEEPALIVE_REQUESTS),
            graceful_timeout: self.graceful_timeout,
        }
    }

    fn async_settings(&self) -> AsyncSettings {
        AsyncSettings {
            threads: self.threads.unwrap_or(1) as usize,
            blocking_threads: self.blocking_threads.map_or(DEFAULT_BLOCKING_THREADS, |threads| threads as usize),
            blocking: match self.blocking.unwrap_or(Blocking::Pool) {
                Blocking::Pool => BlockingMode::Pool,
                Blocking::Inline => BlockingMode::Inline,
            },
            limit_concurrency: self.limit_concurrency.map(|limit| limit as usize),
            graceful_timeout: self.graceful_timeout,
        }
    }

    fn async_flags_given(&self) -> Vec<&'static str> {
        let given = [
            (self.threads.is_some(), "--threads"),
            (self.blocking_threads.is_some(), "--blocking-threads"),
            (self.blocking.is_some(), "--blocking"),
            (self.limit_concurrency.is_some(), "--limit-concurrency"),
        ];
        given.into_iter().filter_map(|(present, flag)| present.then_some(flag)).collect()
    }

    fn sync_flags_given(&self) -> Vec<&'static str> {
        let given = [
            (self.max_threads.is_some(), "--max-threads"),
            (self.no_keepalive, "--no-keepalive"),
            (self.keep_alive_timeout.is_some(), "--keep-alive-timeout"),
            (self.max_keepalive_requests.is_some(), "--max-keepalive-requests"),
        ];
        given.into_iter().filter_map(|(present, flag)| present.then_some(flag)).collect()
    }
}

fn reject_flags(worker_class: &str, flags: &[&str]) -> anyhow::Result<()> {
    match flags {
        [] => Ok(()),
        [flag] => anyhow::bail!("{flag} does not apply to {worker_class}"),
        _ => anyhow::bail!("{} do not apply to {worker_class}", flags.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_take_plain_seconds_or_durations() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("86401").is_err());
        assert!(parse_seconds("18446744073709551615").is_err());
    }
}
