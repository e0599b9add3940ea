//! The request handler of the upstream: holds each request for the configured delay (released by the
//! [`HoldTimer`], to the microsecond rather than tokio's millisecond), answers with the shared body, and counts
//! requests in flight and served and records each hold it gave.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use rand::Rng;

use crate::hold::HoldTimer;
use crate::record::{HoldRecord, HoldRecorder};
use crate::Config;

/// Response header carrying how many requests the upstream held (this one included) when it answered, so tests can
/// show that requests overlapped by counting instead of timing.
pub const IN_FLIGHT_HEADER: &str = "x-in-flight";

pub(crate) struct Responder {
    delay: Duration,
    jitter: Duration,
    /// Built once; every response clones the handle, not the bytes.
    body: Bytes,
    in_flight: AtomicUsize,
    served: AtomicU64,
    /// None when no timerfd could be made: then tokio's timer holds, rounded up to its millisecond tick.
    timer: Option<Arc<HoldTimer>>,
    holds: HoldRecorder,
}

impl Responder {
    pub(crate) fn new(config: &Config, timer: Option<Arc<HoldTimer>>) -> Self {
        Self {
            delay: config.delay,
            jitter: config.jitter,
            body: Bytes::from(vec![b'x'; config.body_bytes]),
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            timer,
            holds: HoldRecorder::default(),
        }
    }

    pub(crate) fn requests_served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// The holds given so far; `ran` is how long the upstream has been serving.
    pub(crate) fn holds(&self, ran: Duration) -> HoldRecord {
        let spun = self.timer.as_ref().map_or(Duration::ZERO, |timer| timer.spun());
        self.holds.summary(self.delay, self.jitter, spun, ran)
    }

    /// Answers one request; hyper's `service_fn` calls it with a clone of the shared responder.
    pub(crate) async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        // hyper polls the handler as soon as the request head is parsed: the hold starts here.
        let received = Instant::now();
        tracing::debug!(path = request.uri().path(), "upstream request received");
        Ok(self.answer(request.method(), received).await)
    }

    async fn answer(&self, method: &Method, received: Instant) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            return self.finish(StatusCode::METHOD_NOT_ALLOWED, Bytes::new(), self.in_flight.load(Ordering::Relaxed));
        }
        // Counted while the request sleeps; the guard keeps the count right when the client goes away mid-delay.
        let in_flight = InFlight::enter(&self.in_flight);
        let asked = self.delay + self.pick_jitter();
        match &self.timer {
            Some(timer) => timer.hold_until(received + asked).await,
            None => tokio::time::sleep_until((received + asked).into()).await,
        }
        let held = self.in_flight.load(Ordering::Relaxed);
        drop(in_flight);
        let response = self.finish(StatusCode::OK, self.body.clone(), held);
        self.holds.record(asked, received.elapsed());
        response
    }

    fn pick_jitter(&self) -> Duration {
        if self.jitter.is_zero() {
            return Duration::ZERO;
        }
        rand::thread_rng().gen_range(Duration::ZERO..=self.jitter)
    }

    fn finish(&self, status: StatusCode, body: Bytes, in_flight: usize) -> Response<Full<Bytes>> {
        self.served.fetch_add(1, Ordering::Relaxed);
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        headers.insert(IN_FLIGHT_HEADER, HeaderValue::from(in_flight));
        response
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn responder(delay_ms: u64, jitter_ms: u64) -> Responder {
        let config = Config {
            delay: Duration::from_millis(delay_ms),
            jitter: Duration::from_millis(jitter_ms),
            body_bytes: 321,
            ..Config::default()
        };
        Responder::new(&config, None)
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        let responder = responder(0, 5);
        for _ in 0..1000 {
            assert!(responder.pick_jitter() <= Duration::from_millis(5));
        }
        assert_eq!(self::responder(0, 0).pick_jitter(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn get_is_answered_with_the_body_and_counted() {
        let responder = responder(100, 0);
        let response = responder.answer(&Method::GET, Instant::now()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[IN_FLIGHT_HEADER], "1");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        assert_eq!(body.len(), 321);
        assert_eq!(responder.requests_served(), 1);
        assert_eq!(responder.in_flight.load(Ordering::Relaxed), 0);
        // Paused time moves tokio's clock, not the hold's: the lengths are checked end to end
        // (crates/rustcorn/tests/upstream.rs).
        assert_eq!(responder.holds(Duration::ZERO).hold.samples, 1, "the hold is recorded");
    }

    #[tokio::test(start_paused = true)]
    async fn other_methods_are_405() {
        let responder = responder(100, 0);
        assert_eq!(responder.answer(&Method::POST, Instant::now()).await.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(responder.holds(Duration::ZERO).hold.samples, 0, "only held requests are recorded");
    }
}
