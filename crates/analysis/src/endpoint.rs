//! What kind of work each endpoint is (CPU, memory, blocking I/O, async I/O), for verdict wording, the ideal lines
//! of the scaling charts and the methodology section's description of each endpoint.

/// The work an endpoint does, which decides how it should scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointKind {
    Cpu,
    Memory,
    BlockingIo,
    AsyncIo,
    Health,
    Other,
}

impl EndpointKind {
    /// Classifies a request path (query string allowed).
    pub fn of(path: &str) -> EndpointKind {
        match path_only(path) {
            "/cpu-intensive" => EndpointKind::Cpu,
            "/memory-intensive" => EndpointKind::Memory,
            "/sync-google" => EndpointKind::BlockingIo,
            "/async-google" => EndpointKind::AsyncIo,
            "/health" => EndpointKind::Health,
            _ => EndpointKind::Other,
        }
    }

    /// Short label for verdicts and tables.
    pub fn label(self) -> &'static str {
        match self {
            EndpointKind::Cpu => "CPU-bound",
            EndpointKind::Memory => "memory-bound",
            EndpointKind::BlockingIo => "blocking I/O",
            EndpointKind::AsyncIo => "async I/O",
            EndpointKind::Health => "bare overhead",
            EndpointKind::Other => "other",
        }
    }

    /// True when the endpoint spends its time waiting on the upstream: its ideal throughput follows Little's law.
    pub fn waits_on_upstream(self) -> bool {
        matches!(self, EndpointKind::BlockingIo | EndpointKind::AsyncIo)
    }

    /// What the endpoint does, for the methodology section.
    pub fn description(self) -> &'static str {
        match self {
            EndpointKind::Cpu => {
                "A nested loop of `iterations` steps (default 100,000, the article's 1000 × 100) kept from being optimised \
                 away: pure CPU, no I/O. One request occupies one core for its whole duration."
            }
            EndpointKind::Memory => {
                "Builds and touches a vector of `n` integers (default 10,000): allocation and memory bandwidth, \
                 CPU-bound in practice."
            }
            EndpointKind::BlockingIo => {
                "A blocking HTTP GET of the local upstream (the google.com stand-in), full body read. Async servers \
                 run it on a bounded blocking pool (FastAPI runs `def` handlers on a 40-thread pool)."
            }
            EndpointKind::AsyncIo => {
                "An async HTTP GET of the local upstream with one shared client: the wait overlaps with other \
                 requests on the same event loop."
            }
            EndpointKind::Health => "A minimal 200 with a tiny JSON body: the server model's own overhead.",
            EndpointKind::Other => "Not one of rustcorn's endpoints.",
        }
    }
}

/// The path without its query string.
pub fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_queries_classify_by_path() {
        assert_eq!(EndpointKind::of("/cpu-intensive?iterations=1000"), EndpointKind::Cpu);
        assert_eq!(EndpointKind::of("/async-google"), EndpointKind::AsyncIo);
        assert_eq!(EndpointKind::of("/nope"), EndpointKind::Other);
        assert!(EndpointKind::BlockingIo.waits_on_upstream());
        assert!(!EndpointKind::Memory.waits_on_upstream());
    }
}
