//! Running a routed request where the async model runs it, and admission (`--limit-concurrency`). The connection
//! (`connection.rs`) reads and frames the request, this decides its [`Response`].
//!
//! `/cpu-intensive` and `/memory-intensive` run inline on the event loop, as an `async def` FastAPI handler does:
//! that is the point of this model (and its cost: nothing else on that loop runs meanwhile). FastAPI would put a
//! plain `def` handler on its threadpool instead; here only `/sync-google` goes to the blocking pool, because it
//! waits rather than computes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use endpoints::{AppConfig, Response, Route, UpstreamClient};
use server_kit::lifecycle::Shutdown;

use crate::{BlockingMode, Config};

/// Shared by every connection task of one server.
pub(crate) struct Handler {
    pub(crate) app: AppConfig,
    /// Behind an `Arc` so `spawn_blocking` can own a handle without copying the URL per request.
    upstream: Arc<UpstreamClient>,
    blocking: BlockingMode,
    admission: Admission,
    /// Cancelled when the graceful timeout runs out: the CPU loop gives up then.
    abandon: Shutdown,
    /// `/health`'s body, built once: it is the same every time, and the path raw-overhead measurements take.
    health: Response,
}

impl Handler {
    pub(crate) fn new(config: &Config, abandon: Shutdown) -> Self {
        Self {
            app: config.app.clone(),
            upstream: Arc::new(config.upstream.clone()),
            blocking: config.blocking,
            admission: Admission::new(config.limit_concurrency),
            abandon,
            health: endpoints::health(),
        }
    }

    /// A place among the requests in flight, or None beyond `--limit-concurrency` (the request then gets 503).
    pub(crate) fn admit(&self) -> Option<Slot<'_>> {
        self.admission.enter()
    }

    /// Whether `route` answers at once; the others wait on the upstream, so responses written before them go out
    /// first.
    pub(crate) fn is_immediate(route: Route) -> bool {
        !matches!(route, Route::SyncGoogle | Route::AsyncGoogle)
    }

    pub(crate) async fn run(&self, route: Route) -> Response {
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
pub(crate) struct Slot<'a>(&'a AtomicUsize);

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
    fn blocking_call_result_and_panic_are_responses() {
        assert_eq!(block_this_thread_on(endpoints::health).status, 200);
        assert_eq!(block_this_thread_on(|| panic!("boom")).status, 500);
    }
}
