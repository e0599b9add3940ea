//! What to load and how: [`LoadPlan`] with its target, weighted tasks, pacing model and stop condition. Built by
//! `rustcorn load` from flags and by the bench driver from a suite; [`LoadPlan::validate`] checks it before a run.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{AgentSpec, LoadError, RequestShape, TlsTarget, TlsTrust};

/// Everything one load run needs. Pacing, stop condition and recording are independent and combine freely.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub target: Target,
    /// Weighted paths; each request picks one with probability weight / sum of weights.
    pub tasks: Vec<Task>,
    pub pacing: Pacing,
    pub stop: Stop,
    /// Requests whose intended send time falls in the first `warmup` of the run are sent but not counted.
    pub warmup: Duration,
    /// Per request: connect (when needed) + write + full response read.
    pub timeout: Duration,
    /// OS threads, each running one current_thread tokio runtime.
    pub threads: usize,
    /// Cores to pin the load threads to (thread i on core `cpus[i % len]`); None leaves them to the scheduler.
    pub cpu_affinity: Option<Vec<usize>>,
    /// The agent's name and, for agents that must start together, the wall-clock start instant.
    pub agent: AgentSpec,
    /// Method, extra headers, body and keep-alive of every request (a plain keep-alive GET by default).
    pub request: RequestShape,
}

/// An HTTP/1.1 origin: the resolved socket address, the Host header sent to it, and for https its TLS terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    /// `host[:port]` as the URL spelled it.
    pub host_header: String,
    /// Some for an `https://` URL: the connections speak TLS (rustls); None is plain TCP.
    pub tls: Option<TlsTarget>,
}

/// One weighted request kind. Its `name` labels the stats (Locust's "Name" column); usually the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub name: String,
    /// Origin-form request target, e.g. `/cpu-intensive?iterations=1000`.
    pub path_and_query: String,
    pub weight: u32,
}

/// How requests are paced: the three load models.
#[derive(Debug, Clone, PartialEq)]
pub enum Pacing {
    /// Locust: each user runs a task, then waits a think time drawn uniformly from `think` (min, max).
    Users { users: usize, think: (Duration, Duration), spawn_rate: Option<f64> },
    /// wrk/oha: each connection sends its next request as soon as the previous answer arrived.
    Concurrency { connections: usize },
    /// wrk2: open loop at `per_second` spread evenly over `connections`; latency counts from the intended send time.
    Rate { per_second: f64, connections: usize },
    /// Open loop at `per_second` that never caps itself: each due slot goes out on an idle kept-alive connection of
    /// its load thread, or on a newly opened one when none is idle, up to `max_connections` in all (split over the
    /// threads). The first half of the warm-up ramps the rate up linearly from 0, so connections open gradually rather than in one
    /// burst of rate x latency. Latency counts from the intended send time; a slot that waits for the bound is the
    /// generator's limit, reported as such ([`crate::OpenLoopStats`]).
    OpenRate { per_second: f64, max_connections: usize },
}

/// When the run stops sending. At least one bound must be set; the first one reached wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stop {
    /// Measured time after the warm-up.
    pub duration: Option<Duration>,
    /// Measured requests (warm-up requests do not count).
    pub requests: Option<u64>,
}

/// The load model's name, as reports and outputs print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    Users,
    Concurrency,
    Rate,
}

impl Target {
    /// Parses an `http://` or `https://host[:port][/path?query]` URL, resolves the host, and returns the target
    /// and the URL's path-and-query (`/` when empty). An https target trusts Mozilla's roots until told otherwise.
    pub fn from_url(url: &str) -> Result<(Target, String), LoadError> {
        let bad = |reason: String| LoadError::invalid("URL", reason);
        let parsed = url::Url::parse(url).map_err(|error| bad(format!("{url:?}: {error}")))?;
        let https = match parsed.scheme() {
            "http" => false,
            "https" => true,
            _ => return Err(bad(format!("{url:?}: only http:// and https:// are supported"))),
        };
        let host = parsed.host_str().ok_or_else(|| bad(format!("{url:?}: no host")))?;
        let port = parsed.port_or_known_default().unwrap_or(80);
        let addr = resolve(host, port).map_err(|reason| bad(format!("{url:?}: {reason}")))?;
        let host_header = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut path = parsed.path().to_owned();
        if let Some(query) = parsed.query() {
            path.push('?');
            path.push_str(query);
        }
        // SNI and the certificate check take the bare name: the URL brackets an IPv6 address.
        let server_name = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let tls = https.then(|| TlsTarget { server_name, trust: TlsTrust::default() });
        Ok((Target { addr, host_header, tls }, path))
    }

    /// True for 127.0.0.0/8 and ::1 (and IPv4-mapped loopback): the only targets allowed without `--allow-remote`.
    pub fn is_loopback(&self) -> bool {
        match self.addr.ip() {
            std::net::IpAddr::V4(ip) => ip.is_loopback(),
            std::net::IpAddr::V6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        }
    }
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut addrs = (host, port).to_socket_addrs().map_err(|error| format!("cannot resolve {host}: {error}"))?;
    addrs.next().ok_or_else(|| format!("{host} resolves to no address"))
}

impl Task {
    /// A task named after its path.
    pub fn new(path_and_query: impl Into<String>, weight: u32) -> Task {
        let path_and_query = path_and_query.into();
        Task { name: path_and_query.clone(), path_and_query, weight }
    }
}

impl Pacing {
    pub fn model(&self) -> Model {
        match self {
            Pacing::Users { .. } => Model::Users,
            Pacing::Concurrency { .. } => Model::Concurrency,
            // Reports read an open-rate run as a rate run (corrected latency, a schedule); `RateStats::open` tells them
            // apart.
            Pacing::Rate { .. } | Pacing::OpenRate { .. } => Model::Rate,
        }
    }

    /// Connections the model opens: one per user or per connection; for the open rate, the most it may open.
    pub fn connections(&self) -> usize {
        match *self {
            Pacing::Users { users, .. } => users,
            Pacing::Concurrency { connections } | Pacing::Rate { connections, .. } => connections,
            Pacing::OpenRate { max_connections, .. } => max_connections,
        }
    }

    /// Rate and open-rate runs record the service time beside the corrected latency.
    pub(crate) fn is_scheduled(&self) -> bool {
        matches!(self, Pacing::Rate { .. } | Pacing::OpenRate { .. })
    }
}

impl LoadPlan {
    /// Checks every field a person or a suite file could get wrong; the error names the field.
    pub fn validate(&self) -> Result<(), LoadError> {
        if self.tasks.is_empty() {
            return Err(LoadError::invalid("--task", "no task to run"));
        }
        for task in &self.tasks {
            if !task.path_and_query.starts_with('/') || task.path_and_query.contains(|c: char| c.is_whitespace()) {
                let reason = format!("{:?} is not an origin-form path (starts with /, no spaces)", task.path_and_query);
                return Err(LoadError::invalid("--task", reason));
            }
        }
        if self.tasks.iter().map(|task| u64::from(task.weight)).sum::<u64>() == 0 {
            return Err(LoadError::invalid("--task", "the weights sum to 0"));
        }
        self.validate_pacing()?;
        self.request.validate()?;
        if self.stop.duration.is_none() && self.stop.requests.is_none() {
            return Err(LoadError::invalid("--duration", "set --duration or --requests so the run stops"));
        }
        if self.stop.duration == Some(Duration::ZERO) {
            return Err(LoadError::invalid("--duration", "must be > 0"));
        }
        if self.stop.requests == Some(0) {
            return Err(LoadError::invalid("--requests", "must be > 0"));
        }
        if self.timeout.is_zero() {
            return Err(LoadError::invalid("--timeout", "must be > 0"));
        }
        if self.threads == 0 {
            return Err(LoadError::invalid("--threads", "must be > 0"));
        }
        if let Some(cpus) = &self.cpu_affinity {
            if cpus.is_empty() {
                return Err(LoadError::invalid("--cpus", "empty core list"));
            }
        }
        if let Some(id) = &self.agent.id {
            crate::agent::validate_id(id).map_err(|reason| LoadError::invalid("--agent-id", reason))?;
        }
        Ok(())
    }

    fn validate_pacing(&self) -> Result<(), LoadError> {
        match self.pacing {
            Pacing::Users { users, think: (min, max), spawn_rate } => {
                if users == 0 {
                    return Err(LoadError::invalid("--users", "must be > 0"));
                }
                if min > max {
                    return Err(LoadError::invalid("--think", "the minimum is above the maximum"));
                }
                if spawn_rate.is_some_and(|rate| !(rate.is_finite() && rate > 0.0)) {
                    return Err(LoadError::invalid("--spawn-rate", "must be a positive number"));
                }
            }
            Pacing::Concurrency { connections } => {
                if connections == 0 {
                    return Err(LoadError::invalid("--connections", "must be > 0"));
                }
            }
            Pacing::Rate { per_second, connections } => {
                if !(per_second.is_finite() && per_second > 0.0) {
                    return Err(LoadError::invalid("--rate", "must be a positive number of requests per second"));
                }
                if connections == 0 {
                    return Err(LoadError::invalid("--connections", "must be > 0"));
                }
            }
            Pacing::OpenRate { per_second, max_connections } => {
                if !(per_second.is_finite() && per_second > 0.0) {
                    return Err(LoadError::invalid("--rate", "must be a positive number of requests per second"));
                }
                if max_connections < self.threads {
                    let reason = format!("{max_connections} cannot be split over {} load threads", self.threads);
                    return Err(LoadError::invalid("--max-connections", reason));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> LoadPlan {
        let (target, path) = Target::from_url("http://127.0.0.1:8000/health").unwrap();
        LoadPlan {
            target,
            tasks: vec![Task::new(path, 1)],
            pacing: Pacing::Concurrency { connections: 2 },
            stop: Stop { duration: Some(Duration::from_secs(1)), requests: None },
            warmup: Duration::ZERO,
            timeout: Duration::from_secs(5),
            threads: 1,
            cpu_affinity: None,
            agent: Default::default(),
            request: Default::default(),
        }
    }

    #[test]
    fn parses_urls_into_target_and_path() {
        let (target, path) = Target::from_url("http://127.0.0.1:8000/a?b=1").unwrap();
        assert_eq!(target.addr, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(target.host_header, "127.0.0.1:8000");
        assert_eq!(path, "/a?b=1");
        let (target, path) = Target::from_url("http://[::1]/").unwrap();
        assert_eq!(target.addr, "[::1]:80".parse().unwrap());
        assert_eq!(path, "/");
        assert!(target.is_loopback());
        assert_eq!(target.tls, None);
    }

    #[test]
    fn https_urls_make_tls_targets_named_by_their_host() {
        let (target, path) = Target::from_url("https://localhost/h").unwrap();
        assert_eq!(target.addr.port(), 443);
        assert_eq!(path, "/h");
        let tls = TlsTarget { server_name: "localhost".into(), trust: TlsTrust::WebPkiRoots };
        assert_eq!(target.tls, Some(tls));
        let (target, _) = Target::from_url("https://[::1]:8443/").unwrap();
        assert_eq!(target.host_header, "[::1]:8443");
        assert_eq!(target.tls.map(|tls| tls.server_name).as_deref(), Some("::1"));
    }

    #[test]
    fn rejects_bad_urls_naming_the_argument() {
        for url in ["not a url", "ftp://x/"] {
            let error = Target::from_url(url).unwrap_err();
            assert!(error.to_string().starts_with("URL"), "{error}");
        }
    }

    #[test]
    fn loopback_is_recognised() {
        let remote = Target { addr: "10.1.2.3:80".parse().unwrap(), host_header: "x".into(), tls: None };
        assert!(!remote.is_loopback());
        let local = Target { addr: "127.9.9.9:80".parse().unwrap(), host_header: "x".into(), tls: None };
        assert!(local.is_loopback());
    }

    #[test]
    fn validation_names_the_field() {
        assert!(plan().validate().is_ok());
        let mut zero_weights = plan();
        zero_weights.tasks = vec![Task::new("/a", 0), Task::new("/b", 0)];
        assert!(zero_weights.validate().unwrap_err().to_string().contains("--task"));
        let mut zero_rate = plan();
        zero_rate.pacing = Pacing::Rate { per_second: 0.0, connections: 1 };
        assert!(zero_rate.validate().unwrap_err().to_string().contains("--rate"));
        let mut thin_bound = plan();
        thin_bound.threads = 4;
        thin_bound.pacing = Pacing::OpenRate { per_second: 10.0, max_connections: 2 };
        assert!(thin_bound.validate().unwrap_err().to_string().contains("--max-connections"));
        let mut unbounded = plan();
        unbounded.stop = Stop::default();
        assert!(unbounded.validate().unwrap_err().to_string().contains("--duration"));
        let mut inverted = plan();
        inverted.pacing =
            Pacing::Users { users: 1, think: (Duration::from_secs(2), Duration::from_secs(1)), spawn_rate: None };
        assert!(inverted.validate().unwrap_err().to_string().contains("--think"));
        let mut bad_agent = plan();
        bad_agent.agent.id = Some("two words".into());
        assert!(bad_agent.validate().unwrap_err().to_string().contains("--agent-id"));
    }
}
