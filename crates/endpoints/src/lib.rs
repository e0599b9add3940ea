//! The four benchmark endpoints (`/cpu-intensive`, `/memory-intensive`, `/sync-google`, `/async-google`) and
//! `/health`, free of any server: a server model routes a request line with [`route`], runs the [`Route`] its own
//! way (inline, on a blocking pool, awaited) and writes the [`Response`] back.

pub mod http1;
mod response;
mod routing;
mod upstream_client;
mod work;

pub use response::{reason_phrase, Response, CONTENT_TYPE_JSON};
pub use routing::{route, AppConfig, Route, MAX_CPU_ITERATIONS, MAX_MEMORY_N};
pub use upstream_client::{UpstreamCa, UpstreamClient, UpstreamError, DEFAULT_UPSTREAM_URL};
pub use work::{cpu_intensive, health, memory_intensive, DEFAULT_CPU_ITERATIONS, DEFAULT_MEMORY_N};

/// The article's messages, word for word ("Gunicorn & Uvicorn", 2024-05-30): the Python app sends the same ones.
pub const CPU_INTENSIVE_MESSAGE: &str = "CPU-intensive task completed";
pub const MEMORY_INTENSIVE_MESSAGE: &str = "Memory-intensive task completed";
pub const SYNC_GOOGLE_MESSAGE: &str = "Sync request to google.com completed";
pub const ASYNC_GOOGLE_MESSAGE: &str = "Async request to google.com completed";

/// The header every response carries so that tests and the report can tell workers apart.
pub const WORKER_PID_HEADER: &str = "x-worker-pid";
