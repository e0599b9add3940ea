//! The request handler of the async model: admission (`--limit-concurrency`), the framing rules hyper does not
//! apply (Host, Content-Length with Transfer-Encoding), the body limit and timeout, routing, and running each
//! endpoint where this model runs it. Every response it makes carries `x-worker-pid` and the JSON content type.
//!
//! `/cpu-intensive` and `/memory-intensive` run inline on the event loop, as an `async def` FastAPI handler does:
//! that is the point of this model (and its cost: nothing else on that loop runs meanwhile). FastAPI would put a
//! plain `def` handler on its threadpool instead; here only `/sync-google` goes to the blocking pool, because it
//! waits rather than computes.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use endpoints::{AppConfig, Response, Route, UpstreamClient, CONTENT_TYPE_JSON, WORKER_PID_HEADER};
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use server_kit::framing::FramingFacts;
use server_kit::lifecycle::{Shutdown, WorkerHooks};
use server_kit::limits::MAX_BODY_BYTES;

use crate::server_io::ConnState;
use crate::{BlockingMode, Config};

pub(crate) type HttpResponse = http::Response<Full<Bytes>>;

/// Built at compile time: `from_static` per response would check the name every time.
const WORKER_PID: HeaderName = HeaderName::from_static(WORKER_PID_HEADER);

/// Shared by every connection task of one server.
pub(crate) struct Handler {
    app: AppConfig,
    /// Behind an `Arc` so `spawn_blocking` can own a handle without copying the URL per request.
    upstream: Arc<UpstreamClient>,
    hooks: Arc<dyn WorkerHooks>,
    blocking: BlockingMode,
    admission: Admission,
    worker_pid: HeaderValue,
    /// Time a request body gets once its head is read (the header timeout, as in the sync model).
    body_timeout: Duration,
    /// Cancelled when the graceful timeout runs out: the CPU loop gives up then.
    abandon: Shutdown,
    /// `/health`'s body, built once: it is the same every time, and the path raw-overhead measurements take.
    health: Response,
}

/// What the handler decided, before it becomes an HTTP response.
struct Reply {
    response: Response,
    /// Close the connection after this response (the request body was refused unread).
    close: bool,
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Self { response, close: false }
    }
}

impl Handler {
    pub(crate) fn new(config: Config, abandon: Shutdown) -> Self {
        Self {
            app: config.app,
            upstream: Arc::new(config.upstream),
            hooks: config.hooks,
            blocking: config.blocking,
            admission: Admission::new(config.limit_concurrency),
            worker_pid: HeaderValue::from(std::process::id()),
            body_timeout: config.header_timeout,
            abandon,
            health: endpoints::health(),
        }
    }

    /// hyper's service entry point: never fails, every outcome is a response. `connection` learns when the request
    /// is being processed (a graceful stop waits for it) and when its response is going out (it need not).
    pub(crate) async fn handle(
        self: Arc<Self>,
        connection: Arc<ConnState>,
        request: Request<Incoming>,
    ) -> Result<HttpResponse, Infallible> {
        let reply = self.reply(&connection, request).await;
        connection.set_idle();
        self.hooks.request_served();
        Ok(self.to_http(reply))
    }

    async fn reply(&self, connection: &ConnState, request: Request<Incoming>) -> Reply {
        let Some(_slot) = self.admission.enter() else {
            return Response::error(503, "Service Unavailable: too many requests in flight").into();
        };
        let mut facts = framing_facts(&request);
        facts.has_content_length |= connection.take_content_length_seen();
        if let Err(error) = facts.check() {
            return Reply { response: Response::error(error.status(), &error.to_string()), close: true };
        }
        let target = request.uri().path_and_query().map_or("/", |target| target.as_str());
        let answer = endpoints::route(request.method().as_str(), target, &self.app);
        if let Err(refusal) = self.discard_body(request.into_body()).await {
            return refusal;
        }
        connection.set_processing();
        match answer {
            Ok(route) => self.run(route).await.into(),
            Err(refusal) => refusal.into(),
        }
    }

    async fn run(&self, route: Route) -> Response {
        match route {
            Route::Health => self.health.clone(),
            Route::CpuIntensive { iterations } => endpoints::cpu_intensive(iterations, &self.abandon),
            Route::MemoryIntensive { n } => endpoints::memory_intensive(n),
            Route::SyncGoogle => self.sync_google().await,
            Route::AsyncGoogle => self.upstream.async_google().await,
        }
    }

    async fn sync_google(&self) -> Response {
        match self.blocking {
            BlockingMode::Pool => {
                let upstream = Arc::clone(&self.upstream);
                tokio::task::spawn_blocking(move || upstream.sync_google())
                    .await
                    .unwrap_or_else(|_| Response::error(500, "the blocking upstream call failed"))
            }
            BlockingMode::Inline => block_this_thread_on(|| self.upstream.sync_google()),
        }
    }

    fn to_http(&self, reply: Reply) -> HttpResponse {
        let mut http = http::Response::new(Full::new(reply.response.body));
        *http.status_mut() = StatusCode::from_u16(reply.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = http.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
        headers.insert(WORKER_PID, self.worker_pid.clone());
        if reply.close {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        http
    }
}

impl Handler {
    /// Reads and drops a request body (the endpoints take none), refusing one over the limit with 413 before
    /// reading it when Content-Length already says so, and while reading when it is chunked; a body not complete
    /// within the body timeout gets 408, as in the sync model.
    async fn discard_body(&self, body: Incoming) -> Result<(), Reply> {
        if body.is_end_stream() {
            return Ok(());
        }
        let refuse = |status, detail| Reply { response: Response::error(status, detail), close: true };
        if body.size_hint().lower() > MAX_BODY_BYTES {
            return Err(refuse(413, "request body too large"));
        }
        let limit = usize::try_from(MAX_BODY_BYTES).unwrap_or(usize::MAX);
        match tokio::time::timeout(self.body_timeout, Limited::new(body, limit).collect()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) if error.is::<LengthLimitError>() => Err(refuse(413, "request body too large")),
            Ok(Err(_)) => Err(refuse(400, "cannot read the request body")),
            Err(_elapsed) => Err(refuse(408, "timed out reading the request body")),
        }
    }
}

/// What the request says about its host and body framing, for the rules both models share. One walk over the
/// few headers a request has costs less than three hashed look-ups (these names compare as small integers).
fn framing_facts<B>(request: &Request<B>) -> FramingFacts {
    let mut facts = FramingFacts {
        http11: request.version() == Version::HTTP_11,
        absolute_form: request.uri().authority().is_some(),
        ..FramingFacts::default()
    };
    // `iter` yields a repeated header once per value, so a duplicate Host is counted.
    for (name, _) in request.headers() {
        if name == HOST {
            facts.host_headers += 1;
        } else if name == CONTENT_LENGTH {
            facts.has_content_length = true;
        } else if name == TRANSFER_ENCODING {
            facts.has_transfer_encoding = true;
        }
    }
    facts
}

/// Runs a blocking call so that the calling (event-loop) thread waits for it and does nothing else meanwhile.
/// The call itself runs on a scoped helper thread only because `reqwest::blocking` refuses to run on a runtime
/// thread in debug builds; for the event loop the effect is the same as calling it directly.
fn block_this_thread_on(call: impl FnOnce() -> Response + Send) -> Response {
    std::thread::scope(|scope| match std::thread::Builder::new().spawn_scoped(scope, call) {
        Ok(helper) => helper.join().unwrap_or_else(|_| Response::error(500, "the blocking upstream call failed")),
        Err(_) => Response::error(503, "cannot start a thread for the blocking call"),
    })
}

/// Counts requests in flight and, with a limit, refuses those beyond it (uvicorn's `--limit-concurrency`).
struct Admission {
    limit: Option<usize>,
    in_flight: AtomicUsize,
}

/// A request's place in [`Admission`]; leaving it (response made or client gone) frees the place.
struct Slot<'a>(&'a AtomicUsize);

impl Admission {
    fn new(limit: Option<usize>) -> Self {
        Self { limit, in_flight: AtomicUsize::new(0) }
    }

    fn enter(&self) -> Option<Slot<'_>> {
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(&self.in_flight);
        match self.limit {
            Some(limit) if before >= limit => None,
            _ => Some(slot),
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_refuses_beyond_the_limit_and_frees_places() {
        let admission = Admission::new(Some(2));
        let first = admission.enter();
        let second = admission.enter();
        assert!(first.is_some() && second.is_some());
        assert!(admission.enter().is_none());
        drop(first);
        assert!(admission.enter().is_some());
        drop(second);
        assert_eq!(admission.in_flight.load(Ordering::Acquire), 0);
    }

    #[test]
    fn admission_without_a_limit_admits_everyone() {
        let admission = Admission::new(None);
        let slots: Vec<_> = (0..1000).map(|_| admission.enter()).collect();
        assert!(slots.iter().all(Option::is_some));
    }

    #[test]
    fn framing_facts_read_hosts_versions_and_framing_headers() {
        let request = Request::get("http://example.com/health").body(()).unwrap();
        let facts = framing_facts(&request);
        assert!(facts.absolute_form && facts.http11 && facts.host_headers == 0);
        let request = Request::get("/health")
            .header(HOST, "a")
            .header(HOST, "b")
            .header(CONTENT_LENGTH, "3")
            .header(TRANSFER_ENCODING, "chunked")
            .body(())
            .unwrap();
        let facts = framing_facts(&request);
        assert_eq!(facts.host_headers, 2);
        assert!(facts.has_content_length && facts.has_transfer_encoding && !facts.absolute_form);
    }

    #[test]
    fn blocking_call_result_and_panic_are_responses() {
        assert_eq!(block_this_thread_on(endpoints::health).status, 200);
        assert_eq!(block_this_thread_on(|| panic!("boom")).status, 500);
    }
}
