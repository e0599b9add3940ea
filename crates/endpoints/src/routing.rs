//! Maps a request's method and target to a [`Route`], validating query parameters; every refusal is a ready
//! [`Response`] (404, 405, 400) so servers need no error handling of their own for it.

use crate::work::{DEFAULT_CPU_ITERATIONS, DEFAULT_MEMORY_N};
use crate::Response;

/// Largest `?iterations=` accepted: about a second of work per request on one core.
pub const MAX_CPU_ITERATIONS: u64 = 1_000_000_000;
/// Largest `?n=` accepted: 10 M integers, 80 MB per request.
pub const MAX_MEMORY_N: u64 = 10_000_000;

/// Per-server defaults for the endpoints' work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// Iterations of `/cpu-intensive` when the request does not say (`--cpu-iterations`).
    pub cpu_iterations: u64,
    /// Integers built by `/memory-intensive` when the request does not say.
    pub memory_n: u64,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self { cpu_iterations: DEFAULT_CPU_ITERATIONS, memory_n: DEFAULT_MEMORY_N }
    }
}

/// A request the endpoints accept, with its parameters resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    CpuIntensive { iterations: u64 },
    MemoryIntensive { n: u64 },
    SyncGoogle,
    AsyncGoogle,
}

impl Route {
    /// The path this route is served at, for logs and labels.
    pub fn path(&self) -> &'static str {
        match self {
            Route::Health => "/health",
            Route::CpuIntensive { .. } => "/cpu-intensive",
            Route::MemoryIntensive { .. } => "/memory-intensive",
            Route::SyncGoogle => "/sync-google",
            Route::AsyncGoogle => "/async-google",
        }
    }
}

/// Routes `method` and `target` (origin-form: path with optional query). HEAD routes like GET.
pub fn route(method: &str, target: &str, config: &AppConfig) -> Result<Route, Response> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let route = match path {
        "/health" => Route::Health,
        "/cpu-intensive" => Route::CpuIntensive {
            iterations: query_number(query, "iterations", config.cpu_iterations, MAX_CPU_ITERATIONS)?,
        },
        "/memory-intensive" => Route::MemoryIntensive { n: query_number(query, "n", config.memory_n, MAX_MEMORY_N)? },
        "/sync-google" => Route::SyncGoogle,
        "/async-google" => Route::AsyncGoogle,
        _ => return Err(Response::error(404, "Not Found")),
    };
    if method != "GET" && method != "HEAD" {
        return Err(Response::error(405, "Method Not Allowed"));
    }
    Ok(route)
}

fn query_number(query: &str, name: &str, default: u64, max: u64) -> Result<u64, Response> {
    let Some(raw) = form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value)
    else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(value) if value <= max => Ok(value),
        Ok(_) => Err(Response::error(400, &format!("query parameter '{name}' must be at most {max}"))),
        Err(_) => Err(Response::error(400, &format!("query parameter '{name}' must be a non-negative integer"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(method: &str, target: &str) -> Result<Route, u16> {
        route(method, target, &AppConfig::default()).map_err(|response| response.status)
    }

    #[test]
    fn defaults_come_from_the_config() {
        assert_eq!(routed("GET", "/cpu-intensive"), Ok(Route::CpuIntensive { iterations: DEFAULT_CPU_ITERATIONS }));
        assert_eq!(routed("GET", "/memory-intensive"), Ok(Route::MemoryIntensive { n: DEFAULT_MEMORY_N }));
        let config = AppConfig { cpu_iterations: 7, memory_n: 3 };
        assert_eq!(route("GET", "/cpu-intensive", &config), Ok(Route::CpuIntensive { iterations: 7 }));
    }

    #[test]
    fn query_overrides_defaults() {
        assert_eq!(routed("GET", "/cpu-intensive?iterations=42"), Ok(Route::CpuIntensive { iterations: 42 }));
        assert_eq!(routed("GET", "/memory-intensive?x=1&n=5"), Ok(Route::MemoryIntensive { n: 5 }));
    }

    #[test]
    fn bad_query_values_are_400() {
        assert_eq!(routed("GET", "/cpu-intensive?iterations=abc"), Err(400));
        assert_eq!(routed("GET", "/cpu-intensive?iterations=-1"), Err(400));
        assert_eq!(routed("GET", "/cpu-intensive?iterations=99999999999999999999999"), Err(400));
        assert_eq!(routed("GET", "/memory-intensive?n=10000001"), Err(400));
    }

    #[test]
    fn unknown_path_is_404_and_wrong_method_405() {
        assert_eq!(routed("GET", "/nope"), Err(404));
        assert_eq!(routed("POST", "/health"), Err(405));
        assert_eq!(routed("POST", "/nope"), Err(404));
        assert_eq!(routed("HEAD", "/health"), Ok(Route::Health));
    }
}
