//! Runs a routed request on the connection thread itself: in this model every endpoint, the upstream fetches
//! included, blocks the thread that serves the connection, as a gunicorn sync worker does.

use std::time::Instant;

use endpoints::{cpu_intensive, health, memory_intensive, Response, Route, UpstreamClient};

/// The message `/async-google` answers with, the seed's string.
const ASYNC_GOOGLE_MESSAGE: &str = "Async Google request completed";

pub fn respond(route: Route, upstream: &UpstreamClient) -> Response {
    match route {
        Route::Health => health(),
        Route::CpuIntensive { iterations } => cpu_intensive(iterations),
        Route::MemoryIntensive { n } => memory_intensive(n),
        Route::SyncGoogle => upstream.sync_google(),
        Route::AsyncGoogle => async_google_blocking(upstream),
    }
}

/// `/async-google` in the sync model. There is no event loop here, so the fetch blocks the connection thread
/// just like `/sync-google`; only the message differs. This is what a WSGI twin of the seed app does: an
/// `async def` endpoint cannot be async under a sync worker, so the comparison shows what the model costs.
fn async_google_blocking(upstream: &UpstreamClient) -> Response {
    let started = Instant::now();
    let fetched = upstream.sync_google();
    if fetched.is_success() {
        Response::completed(ASYNC_GOOGLE_MESSAGE, started.elapsed().as_secs_f64())
    } else {
        fetched
    }
}
