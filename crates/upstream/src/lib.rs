//! The local stand-in for google.com that `/sync-google` and `/async-google` call: a tokio + hyper 1 server that
//! answers every GET after a fixed delay (plus optional jitter) with a pre-built body. It is the ground truth of the
//! harness: each request is held for the delay to within the kernel's wake-up latency, and the holds it gave are
//! recorded ([`HoldRecord`]). Used by `rustcorn upstream`, the bench driver and the tests; it must never be the
//! bottleneck, so it does no per-request logging and allocates per request only what hyper and the hold need.
//! With [`Config::tls`] it speaks HTTPS with a certificate from a CA made at start ([`LocalCa`]), as google.com
//! costs its callers a TLS handshake per connection.

mod hold;
mod record;
mod responder;
mod spin;
mod tls;

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
pub use server_kit::Shutdown;

use hold::HoldTimer;
pub use record::HoldRecord;
use responder::Responder;
pub use responder::IN_FLIGHT_HEADER;
use tls::HandshakeRecorder;
pub use tls::{LocalCa, Negotiated, TlsError, TlsRecord, SERVER_NAMES};

/// How the upstream answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Time every GET waits before it is answered (google.com's round trip, roughly).
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per request.
    pub jitter: Duration,
    /// Size of the response body in bytes.
    pub body_bytes: usize,
    /// 1: one current_thread runtime (thousands of sleeping requests need no more); N > 1: tokio's multi-thread.
    pub threads: usize,
    /// After shutdown is requested, how long in-flight requests get to finish before connections are dropped.
    pub graceful_timeout: Duration,
    /// Serve HTTPS with this CA's server certificate; None: plain HTTP.
    pub tls: Option<LocalCa>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            delay: Duration::from_millis(100),
            jitter: Duration::ZERO,
            body_bytes: 15_000,
            threads: 1,
            graceful_timeout: Duration::from_secs(30),
            tls: None,
        }
    }
}

/// What the upstream did while it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Responses produced (each after its delay), whatever their status.
    pub requests_served: u64,
    /// True when the graceful timeout ran out with requests still in flight.
    pub drain_timed_out: bool,
    /// The hold each GET and HEAD was given, and over HTTPS the handshakes.
    pub holds: HoldRecord,
}

pub use server_kit::ServeError;

/// Serves `listener` until `shutdown` is cancelled, then stops accepting, lets in-flight requests finish (for at
/// most `config.graceful_timeout`) and returns. Builds its own tokio runtime; call it from a plain thread.
pub fn run(listener: TcpListener, config: Config, shutdown: Shutdown) -> Result<Summary, ServeError> {
    let runtime = build_runtime(config.threads).map_err(ServeError::Runtime)?;
    listener.set_nonblocking(true).map_err(ServeError::Listener)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(ServeError::Listener)?;
        Ok(serve(listener, config, shutdown).await)
    })
}

fn build_runtime(threads: usize) -> io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        // A current_thread runtime runs on this thread.
        exact_timer_wakeups();
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .on_thread_start(exact_timer_wakeups)
            .enable_all()
            .build()
    }
}

/// Asks the kernel to fire this thread's timers on time: by default it may defer them by up to 50 µs (the timer
/// slack) to batch wake-ups, which every held request would carry as lateness.
fn exact_timer_wakeups() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and changes only the calling thread's timer slack.
    let result = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    if result != 0 {
        tracing::debug!(error = %io::Error::last_os_error(), "timer slack unchanged: holds may run up to 50 µs late");
    }
}

async fn serve(listener: tokio::net::TcpListener, config: Config, shutdown: Shutdown) -> Summary {
    let started = Instant::now();
    let timer = HoldTimer::start()
        .inspect_err(|error| tracing::warn!(%error, "no timerfd: holds run on tokio's timer, up to 1 ms long"))
        .ok();
    let responder = Arc::new(Responder::new(&config, timer));
    let tls = config.tls.as_ref().map(|ca| (ca.acceptor(), Arc::new(HandshakeRecorder::default())));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).keep_alive(true);

    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Typically EMFILE under extreme load: back off briefly instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let responder = Arc::clone(&responder);
        let service = service_fn(move |request| Arc::clone(&responder).handle(request));
        let watcher = graceful.watcher();
        let http = http.clone();
        match &tls {
            None => {
                tokio::spawn(log_end(watcher.watch(http.serve_connection(TokioIo::new(stream), service))));
            }
            Some((acceptor, handshakes)) => {
                let (acceptor, handshakes) = (acceptor.clone(), Arc::clone(handshakes));
                tokio::spawn(async move {
                    // The handshake runs on the connection's own task, so a slow one never holds up the accept
                    // loop; the hold starts later, when hyper has read the request head off the TLS stream.
                    let stream = match acceptor.accept(stream).await {
                        Ok(stream) => stream,
                        Err(error) => {
                            handshakes.failed();
                            tracing::debug!(%error, "TLS handshake failed");
                            return;
                        }
                    };
                    handshakes.completed(stream.get_ref().1);
                    log_end(watcher.watch(http.serve_connection(TokioIo::new(stream), service))).await;
                });
            }
        }
    }
    drop(listener);

    let drain_timed_out = tokio::time::timeout(config.graceful_timeout, graceful.shutdown()).await.is_err();
    if drain_timed_out {
        tracing::warn!(timeout = ?config.graceful_timeout, "graceful shutdown timed out; dropping connections");
    }
    let mut holds = responder.holds(started.elapsed());
    holds.tls = tls.map(|(_, handshakes)| handshakes.summary());
    Summary { requests_served: responder.requests_served(), drain_timed_out, holds }
}

async fn log_end<E: std::fmt::Display>(connection: impl std::future::Future<Output = Result<(), E>>) {
    if let Err(error) = connection.await {
        tracing::debug!(%error, "upstream connection ended with an error");
    }
}
