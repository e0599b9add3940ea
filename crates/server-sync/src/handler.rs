//! Runs a routed request on the connection thread itself: in this model every endpoint, the upstream fetches
//! included, blocks the thread that serves the connection, as a gunicorn sync worker does.

use endpoints::{cpu_intensive, health, memory_intensive, Response, Route, UpstreamClient};
use server_kit::lifecycle::Shutdown;

/// `abandon` is cancelled when a graceful stop runs out of time: the CPU loop gives up then.
pub fn respond(route: Route, upstream: &UpstreamClient, abandon: &Shutdown) -> Response {
    match route {
        Route::Health => health(),
        Route::CpuIntensive { iterations } => cpu_intensive(iterations, abandon),
        Route::MemoryIntensive { n } => memory_intensive(n),
        Route::SyncGoogle => upstream.sync_google(),
        // No event loop here: the fetch blocks the connection thread like /sync-google; only the message differs.
        Route::AsyncGoogle => upstream.async_google_blocking(),
    }
}
