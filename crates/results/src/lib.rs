//! The versioned results model that `rustcorn bench run` writes as `results.json` and that `analysis`, the report,
//! `compare` and `merge` read. Serde for the file, schemars for `schema/results.schema.json`; additions must be
//! optional fields. Nothing here runs a benchmark: the driver (`bench`) fills these types in.

pub mod calibration;
mod capacity;
pub mod failures;
pub mod history;
mod keep_alive;
mod load_schema;
pub mod numbers;
pub mod redact;
mod request;
mod role;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod workers;
mod write;

use std::path::Path;

pub use capacity::{CapacityPart, CapacityResult, CapacityStep};
pub use keep_alive::{KeepAlive, DEFAULT_MAX_KEEPALIVE_REQUESTS};
pub use loadgen::{LatencySummary, LoadReport};
pub use request::SentRequest;
pub use role::{Role, ServerModel, ROLE_WORDS};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use workers::{WorkerCountSource, WorkerLoad, WorkerShare};
pub use write::write_atomically;

/// Bumped when a field changes meaning or disappears; adding an optional field keeps the version.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of a suite: every target x phase x repetition that was measured, and where it was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunResults {
    /// [`SCHEMA_VERSION`] of the program that wrote the file.
    pub schema_version: u32,
    /// Also the name of the folder under `results/`.
    pub run_id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC: when the run ended, or when this file was last written for a partial run.
    pub finished_at: String,
    /// True while the run is in progress or when it was interrupted (Ctrl-C): some phases are missing.
    pub partial: bool,
    pub suite: SuiteSource,
    pub environment: Environment,
    pub pinning: PinningPlan,
    pub upstream: UpstreamSettings,
    pub targets: Vec<TargetResult>,
    /// The fixed calibration workload measured once during the run ([`calibration`]), which `compare`
    /// normalises figures by; absent in files written before it existed.
    #[serde(default)]
    pub calibration: Option<crate::calibration::Calibration>,
    /// The share of failed requests (0..=1) a phase could have before the run counted as failed
    /// (`--max-failures`); absent in files written before it existed, which mean
    /// [`failures::DEFAULT_MAX_FAILURES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failures: Option<f64>,
}

/// The suite file as it was when the run started, so a result can be reproduced and the report can show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SuiteSource {
    pub name: String,
    pub path: String,
    /// The TOML text, verbatim.
    pub text: String,
}

/// The machine and software the figures come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cores: u32,
    /// `uname -sr`, e.g. "Linux 6.1.0".
    pub kernel: String,
    /// The `rustc --version` that built the driver.
    pub rustc: String,
    /// rustcorn's crate version.
    pub crate_version: String,
    /// `git rev-parse HEAD` of the working directory, when it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether the checkout had uncommitted changes (`git status --porcelain` non-empty).
    pub git_dirty: Option<bool>,
    pub hostname: String,
}

/// Which CPUs the targets, the load generator and the upstream were restricted to (sched_setaffinity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PinningPlan {
    /// CPUs online when the run started.
    pub online_cores: Vec<u32>,
    /// CPUs the driver's load generator threads run on.
    pub load_cores: Vec<u32>,
    /// CPUs the upstream stand-in runs on.
    pub upstream_cores: Vec<u32>,
    pub targets: Vec<TargetPinning>,
}

/// The CPUs one target was given, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetPinning {
    pub target: String,
    pub cores: Vec<u32>,
    /// E.g. "single-threaded by design: one core" or "set in the suite".
    pub reason: String,
}

/// The upstream stand-in that /sync-google and /async-google call (the report's Little's-law line uses the delay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UpstreamSettings {
    /// The URL the targets were given, e.g. "http://127.0.0.1:40123/".
    pub url: String,
    pub delay_ms: f64,
    pub jitter_ms: f64,
    pub body_bytes: u64,
    /// The holds the upstream actually gave, from its own record (`rustcorn upstream --record`), over the whole run:
    /// the ground truth under /sync-google and /async-google. Absent when it could not write its record, and in
    /// files written before it kept one.
    #[serde(default)]
    pub holds: Option<UpstreamHolds>,
    /// With `tls = true`: the CA made for the run, which every target was given to trust (a copy is in the run
    /// folder). Absent over plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

/// The upstream's record of its holds, in microseconds, over every phase of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UpstreamHolds {
    /// Per held request: from the moment hyper handed the parsed request to the handler until the handler handed
    /// its response back to hyper (which then writes it). `samples` is the count.
    #[schemars(with = "load_schema::LatencySummarySchema")]
    pub hold: LatencySummary,
    /// Per held request: its hold minus the one asked for it (the delay plus its jitter), i.e. how late it was
    /// released.
    #[schemars(with = "load_schema::LatencySummarySchema")]
    pub late: LatencySummary,
    /// Time the upstream's hold timer busy-polled just before deadlines (an idle CPU wakes 0.2-0.4 ms late, which
    /// the holds would carry), and the time the upstream ran; their ratio is the share of one core that precision
    /// cost. Microseconds. Absent in files written before the timer spun.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spun_us: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran_us: Option<u64>,
    /// Over HTTPS: the TLS handshakes the upstream completed for the targets, by what they negotiated, and the
    /// ones that failed. Absent over plain HTTP and in files written before the upstream spoke TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<UpstreamTls>,
}

/// The upstream's count of TLS handshakes over the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpstreamTls {
    pub handshakes: Vec<TlsNegotiated>,
    /// Handshakes a client aborted or that did not complete (a client that does not trust the CA).
    pub failed_handshakes: u64,
}

/// One combination of negotiated TLS parameters and how many handshakes settled on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TlsNegotiated {
    /// "TLSv1.3" or "TLSv1.2".
    pub version: String,
    /// IANA name, e.g. "TLS_AES_256_GCM_SHA384".
    pub cipher_suite: String,
    /// Key exchange group, e.g. "X25519".
    pub key_exchange: String,
    /// A resumed session (no certificate sent or verified) rather than a full handshake.
    pub resumed: bool,
    pub count: u64,
}

/// Which world a target comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// One of rustcorn's own server models.
    Rust,
    /// A Python peer (uvicorn, gunicorn) started as an external command.
    Python,
    /// Any other external command (your own server): compared with the rest, judged on no article claim.
    External,
}

impl Family {
    /// The family's name on the page, in tables and in the claims' evidence.
    pub fn label(self) -> &'static str {
        match self {
            Family::Rust => "Rust",
            Family::Python => "Python",
            Family::External => "external",
        }
    }
}

/// The server model of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Sync,
    Async,
    Prefork,
    External,
}

/// One server under test and everything measured on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetResult {
    /// Unique within the suite; the report's label and colour key.
    pub name: String,
    pub family: Family,
    pub kind: TargetKind,
    /// The argv the target was started with (the port-0 bind and upstream URL included).
    pub command: Vec<String>,
    /// Worker processes serving requests (prefork `-w`; 1 for single-process models), when known.
    pub workers: Option<u32>,
    /// Threads per worker: async `--threads`, sync `--max-threads`, when known.
    pub threads: Option<u32>,
    pub status: TargetStatus,
    /// Measured phases in run order; phases after a failure are absent.
    pub phases: Vec<PhaseResult>,
    /// The target this one is a variant of (the suite's `variant_of`): the same server with improved code, so the
    /// report can show what the original's code costs. Absent for an original, and in files written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<String>,
    /// The target's role in the article's claims, as the suite declared it (`role`); absent when undeclared (the
    /// report then recognises the built-in models and the Python servers' command lines), and in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// A built-in sync-model target's keep-alive policy, as the driver started it; absent for the other models and
    /// in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<KeepAlive>,
}

impl TargetResult {
    /// Worker processes as observed: the most processes of the target's tree that held its listening socket in
    /// any phase ([`ObservedWorkers::listening`]); the count the suite declared (or its command showed) only when
    /// no phase observed one, as in files written before the driver counted them.
    pub fn worker_count(&self) -> Option<u32> {
        let observed = self.phases.iter().filter_map(|phase| phase.observed_workers.as_ref());
        observed.map(|workers| workers.listening).filter(|&listening| listening > 0).max().or(self.workers)
    }
}

/// Whether a target ran all its phases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TargetStatus {
    Ok,
    /// The target did not become ready, died, or could not be stopped; phases measured before are kept.
    Failed {
        reason: String,
        /// The last lines the target wrote to stderr.
        stderr_tail: Vec<String>,
    },
}

/// One load phase against one target (one repetition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PhaseResult {
    pub name: String,
    /// The endpoints the phase requested, with their weights.
    pub endpoints: Vec<EndpointShare>,
    pub load_model: LoadModel,
    /// The load model in words, e.g. "50 connections, closed loop".
    pub load_description: String,
    /// 0-based index among the suite's repetitions.
    pub repetition: u32,
    pub warmup_s: f64,
    pub duration_s: f64,
    /// RFC 3339, UTC: when the target was started for this phase.
    pub started_at: String,
    /// True when Ctrl-C cut the phase short: `load` covers less than `duration_s`.
    pub interrupted: bool,
    /// The load generator's report for the measured part (warm-up excluded).
    #[schemars(with = "load_schema::LoadReportSchema")]
    pub load: LoadReport,
    pub resources: Resources,
    /// Requests served per worker process (prefork targets started with `--stats`); absent when unknown. The
    /// load generator counts every target's responses per `x-worker-pid` too, in `load.responses_per_worker`.
    pub worker_requests: Option<Vec<WorkerRequests>>,
    /// File name of this phase's HDR interval log inside the run folder.
    pub hlog: Option<String>,
    /// The CPUs the target was pinned to in this phase (a phase's `target_cores` can differ from the run's plan);
    /// absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<Vec<u32>>,
    /// The SIGKILL the driver sent to one of the target's processes during the measured part (the phase's
    /// `kill_worker_at`); absent when the phase kills nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<WorkerKill>,
    /// The worker processes seen in this phase, counted rather than read from the command line; absent in files
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_workers: Option<ObservedWorkers>,
    /// The phase's request shape when it was not a plain GET with keep-alive (the suite's `method`, `headers`,
    /// `body` or `body_file`, `keep_alive`); absent for the default, and in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<SentRequest>,
    /// A capacity phase's steps and the capacity this run found or confirmed (`load` then holds its last step at
    /// the found rate); absent for the other load models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityResult>,
}

/// One process of a target killed with SIGKILL in the middle of a phase, to see what the others do meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkerKill {
    /// Milliseconds from the start of the measured part to the kill (the load generator's per-second timeline
    /// counts from the same instant).
    pub at_ms: i64,
    pub pid: u32,
    /// True when the target had no worker processes and its only process was killed: a single-process server,
    /// which serves nothing more until something restarts it. False: one worker of a master (prefork, gunicorn).
    pub whole_server: bool,
}

/// A phase's worker processes as the driver saw them, for every target: how many answered and how many could have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ObservedWorkers {
    /// Distinct processes that answered measured requests (their `x-worker-pid` header): 1 for a single process;
    /// above the tree's count when a killed or recycled worker was replaced; 0 when no response had the header.
    pub serving: u32,
    /// Processes of the target's tree holding a listening TCP socket when the measured part ended, less the root
    /// when it served none (a master); a helper holding no socket (Python's resource tracker) is not counted. A
    /// worker here that is not serving took none of the load.
    pub listening: u32,
}

impl ObservedWorkers {
    /// Counts them from the pids that answered and the tree's listening processes (see [`ObservedWorkers`]).
    pub fn count(root: u32, serving: &[u32], listening: &[u32]) -> ObservedWorkers {
        let master = listening.len() > 1 && listening.contains(&root) && !serving.contains(&root);
        let serving_count = serving.iter().enumerate().filter(|(index, pid)| !serving[..*index].contains(pid)).count();
        ObservedWorkers { serving: serving_count as u32, listening: (listening.len() - usize::from(master)) as u32 }
    }
}

/// One endpoint of a phase's task mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EndpointShare {
    /// Path with its query string as the suite wrote it, e.g. "/cpu-intensive?iterations=100000"; for a task
    /// with `cpu_work`, without the `iterations` the driver added per target (that count is in `cpu_work`).
    pub path: String,
    pub weight: u32,
    /// The task's `cpu_work` as met on this target; absent for tasks without one (and in older files).
    #[serde(default)]
    pub cpu_work: Option<CpuWork>,
}

/// How a task's `cpu_work` was met on one target: the `?iterations=` count the driver found on the idle, freshly
/// started target before the run, sent with every request of the task, and what that count cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CpuWork {
    /// CPU time per request the suite asked for, seconds.
    pub requested_s: f64,
    /// The `?iterations=` sent to this target.
    pub iterations: u64,
    /// The median `duration` the endpoint reported for that count, seconds, over `samples` sequential requests.
    pub measured_s: f64,
    pub samples: u32,
    /// Counts probed to find it (scale, then refine).
    pub probes: u32,
}

/// How load was offered, with the figures the report's scaling charts need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum LoadModel {
    /// Locust's closed loop: each user thinks a random time in [think_min_s, think_max_s], then sends one request.
    Users { users: u32, think_min_s: f64, think_max_s: f64 },
    /// wrk's closed loop: `connections` each send the next request as soon as the previous answer arrives.
    Concurrency { connections: u32 },
    /// wrk2's open loop: `rate_per_s` requests a second whatever the answers, over at most `connections`.
    Rate { rate_per_s: f64, connections: u32 },
    /// A search for the highest open-loop rate at which `objective` holds, opening connections as the steps need
    /// them, up to `max_connections`; each step is in the phase's `capacity`.
    Capacity { objective: String, max_connections: u32 },
}

/// What the target's process tree used during a phase, sampled from /proc.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Resources {
    /// Every ~100 ms from the target's start (warm-up included).
    pub samples: Vec<ResourceSample>,
    pub summary: ResourceSummary,
}

/// The target's whole process tree at one instant.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResourceSample {
    /// Milliseconds since the start of the measured part; negative during warm-up.
    pub t_ms: i64,
    /// CPU seconds in user mode since the target started, summed over the tree (reaped children included).
    pub cpu_user_s: f64,
    /// CPU seconds in kernel mode since the target started, summed over the tree (reaped children included).
    pub cpu_system_s: f64,
    pub rss_bytes: u64,
    /// Proportional set size from smaps_rollup: shared pages split between the processes sharing them.
    pub pss_bytes: Option<u64>,
    pub threads: u32,
    pub processes: u32,
}

/// The measured part of a phase in a few figures.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResourceSummary {
    /// CPU seconds (user + system) per wall second over the measured part: 1.0 = one core busy.
    pub cpu_cores_avg: f64,
    pub cpu_user_s: f64,
    pub cpu_system_s: f64,
    pub rss_peak_bytes: u64,
    pub pss_peak_bytes: Option<u64>,
    pub threads_peak: u32,
    pub processes_peak: u32,
}

/// Requests one prefork worker process served over the target's life (warm-up included), from the master's
/// `--stats` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkerRequests {
    /// Worker slot (0..workers); a respawned worker takes its predecessor's index.
    pub index: u32,
    pub pid: u32,
    pub requests: u64,
}

/// Errors reading a results file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a rustcorn results file: {source}")]
    Json { path: String, source: serde_json::Error },
    #[error("{path} has schema version {found}; this rustcorn reads version {SCHEMA_VERSION}")]
    Version { path: String, found: u64 },
}

impl RunResults {
    /// Reads and checks the schema version of a `results.json`.
    pub fn read(path: &Path) -> Result<RunResults, ReadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io { path: shown.clone(), source })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ReadError::Json { path: shown.clone(), source })?;
        let found = value.get("schema_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        if found != u64::from(SCHEMA_VERSION) {
            return Err(ReadError::Version { path: shown, found });
        }
        serde_json::from_value(value).map_err(|source| ReadError::Json { path: shown, source })
    }

    /// Writes the results as pretty JSON (one trailing newline) to `path`, atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        text.push(b'\n');
        write_atomically(path, &text)
    }

    /// The JSON Schema of this model, as committed in `crates/results/schema/results.schema.json`.
    pub fn json_schema() -> serde_json::Value {
        schemars::schema_for!(RunResults).to_value()
    }
}
