//! `rustcorn upstream`: the google.com stand-in that /sync-google and /async-google call (crates/upstream).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use server_kit::listener::{self, DEFAULT_BACKLOG};

use super::serve::announce;
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
    /// At exit, write the hold times it gave (JSON: HdrHistogram summaries in microseconds) to FILE.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Serve HTTPS (rustls) with a certificate for 127.0.0.1, ::1 and localhost from a CA made at start; needs
    /// --ca-out, since clients must be given that CA to trust.
    #[arg(long, requires = "ca_out")]
    tls: bool,
    /// With --tls: write the CA certificate (PEM) that clients must trust to FILE (printed at start).
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca_out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Opened before serving, so a path that cannot be written fails now rather than after the whole run.
    let record = match &args.record {
        Some(path) => Some((
            path,
            std::fs::File::create(path).with_context(|| format!("--record: cannot create {}", path.display()))?,
        )),
        None => None,
    };
    let tls = match &args.ca_out {
        Some(path) => Some(write_ca(path)?),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
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
        tls,
    };
    announce(&listener, scheme);
    let summary = upstream::run(listener, config, shutdown).context("upstream failed")?;
    // Ignored when stdout is gone: the figures are a courtesy, and the stop already happened.
    let _ = writeln!(std::io::stdout(), "Requests served: {}", summary.requests_served);
    let (hold, late) = (&summary.holds.hold, &summary.holds.late);
    let _ = writeln!(
        std::io::stdout(),
        "Held: {} requests, p50 {} µs, p99 {} µs, max {} µs (late by p50 {} µs, p99 {} µs, max {} µs)",
        hold.samples,
        hold.median_us,
        hold.at(99.0).unwrap_or(0),
        hold.max_us,
        late.median_us,
        late.at(99.0).unwrap_or(0),
        late.max_us
    );
    let holds = &summary.holds;
    let _ = writeln!(
        std::io::stdout(),
        "Busy-polled before deadlines: {:.1} ms over {:.1} s ({:.2} % of one core)",
        holds.spun_us as f64 / 1e3,
        holds.ran_us as f64 / 1e6,
        spin_share_percent(holds)
    );
    if let Some(tls) = &summary.holds.tls {
        let _ = writeln!(std::io::stdout(), "{}", handshakes_line(tls));
    }
    if let Some((path, file)) = record {
        write_record(path, file, &summary.holds)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `TLS handshakes: 12 (10 TLSv1.3 TLS_AES_256_GCM_SHA384 X25519, 2 resumed ...), 1 failed`.
fn handshakes_line(tls: &upstream::TlsRecord) -> String {
    let total: u64 = tls.handshakes.iter().map(|negotiated| negotiated.count).sum();
    let each: Vec<String> = tls
        .handshakes
        .iter()
        .map(|n| {
            let resumed = if n.resumed { " resumed" } else { "" };
            format!("{} {} {} {}{resumed}", n.count, n.version, n.cipher_suite, n.key_exchange)
        })
        .collect();
    format!("TLS handshakes: {total} ({}), {} failed", each.join(", "), tls.failed_handshakes)
}

/// Makes the CA and the server certificate, writes the CA's PEM to `path` and prints where it is.
fn write_ca(path: &Path) -> anyhow::Result<upstream::LocalCa> {
    let ca = upstream::LocalCa::generate().context("--tls")?;
    std::fs::write(path, ca.ca_pem()).with_context(|| format!("--ca-out: cannot write {}", path.display()))?;
    // Ignored when stdout is gone, as the Listening line is: the file is there either way.
    let _ = writeln!(std::io::stdout(), "CA certificate: {}", path.display());
    Ok(ca)
}

/// The share of one core the hold timer's busy-polling took over the run, in percent.
fn spin_share_percent(holds: &upstream::HoldRecord) -> f64 {
    if holds.ran_us == 0 {
        return 0.0;
    }
    100.0 * holds.spun_us as f64 / holds.ran_us as f64
}

fn write_record(path: &Path, mut file: std::fs::File, record: &upstream::HoldRecord) -> anyhow::Result<()> {
    let mut json = serde_json::to_vec_pretty(record).context("cannot encode the hold record")?;
    json.push(b'\n');
    file.write_all(&json).with_context(|| format!("cannot write the hold record to {}", path.display()))
}
