//! JSON Schema for the load generator's [`loadgen::LoadReport`] as it is embedded in results.json. loadgen does
//! not depend on schemars, so these mirrors describe its serde form; the end-to-end test validates real reports.

use schemars::JsonSchema;

#[derive(JsonSchema)]
#[schemars(remote = "loadgen::LoadReport")]
#[allow(dead_code)]
pub struct LoadReportSchema {
    #[schemars(with = "ModelSchema")]
    model: loadgen::Model,
    /// Wall-clock start of the measured period (after warm-up), milliseconds since the Unix epoch.
    started_at_unix_ms: u64,
    /// Measured time: from the end of warm-up until the last in-flight request finished.
    duration_secs: f64,
    /// Requests sent during warm-up: they reached the server but are in no statistic.
    warmup_requests: u64,
    /// The run was cancelled before its stop condition.
    cancelled: bool,
    /// What `latency` measures: service_time, or in rate mode corrected (from the intended send time).
    #[schemars(with = "LatencyBasisSchema")]
    latency_basis: loadgen::LatencyBasis,
    #[schemars(with = "Vec<EndpointStatsSchema>")]
    endpoints: Vec<loadgen::EndpointStats>,
    #[schemars(with = "EndpointStatsSchema")]
    aggregated: loadgen::EndpointStats,
    /// One entry per second of the measured period.
    #[schemars(with = "Vec<SecondStatsSchema>")]
    timeline: Vec<loadgen::SecondStats>,
    /// Rate mode only: whether the target kept up with the requested rate.
    #[schemars(with = "Option<RateStatsSchema>")]
    rate: Option<loadgen::RateStats>,
    /// Who measured and when, on the wall clock: one agent for a run, every agent for a merge.
    #[serde(default)]
    #[schemars(with = "Vec<AgentWindowSchema>")]
    agents: Vec<loadgen::AgentWindow>,
}

/// One load agent's run on its own wall clock; times are microseconds since the Unix epoch.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct AgentWindowSchema {
    /// `--agent-id`, by default the host name.
    id: String,
    /// The host the agent ran on: agents on one host share one clock.
    host: String,
    /// The `--start-at` instant (the warm-up began there); None when it started at once.
    start_at_unix_us: Option<u64>,
    /// The measured window [start, end) on this agent's clock.
    window_start_unix_us: u64,
    /// End of the measured window.
    window_end_unix_us: u64,
    /// When the agent's first request of the measured window actually went out.
    first_request_unix_us: Option<u64>,
    /// Requests this agent counted.
    requests: u64,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ModelSchema {
    Users,
    Concurrency,
    Rate,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum LatencyBasisSchema {
    ServiceTime,
    Corrected,
}

/// Statistics of one endpoint, or of all of them (name "Aggregated").
#[derive(JsonSchema)]
#[allow(dead_code)]
struct EndpointStatsSchema {
    name: String,
    /// Requests finished: responses (any status) plus connect, timeout and read failures.
    count: u64,
    failures: FailureCountsSchema,
    latency: LatencySummarySchema,
    /// Rate mode: the uncorrected service time of the same responses.
    service_time: Option<LatencySummarySchema>,
    requests_per_second: f64,
    failures_per_second: f64,
    avg_content_size: f64,
    content_bytes: u64,
}

/// Failed requests by cause.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct FailureCountsSchema {
    connect: u64,
    timeout: u64,
    status: u64,
    read: u64,
}

/// A latency distribution in microseconds; `histogram` is the HdrHistogram, V2 compressed, base64.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct LatencySummarySchema {
    samples: u64,
    min_us: u64,
    max_us: u64,
    mean_us: f64,
    sum_us: u64,
    median_us: u64,
    stdev_us: f64,
    percentiles: Vec<PercentileSchema>,
    histogram: String,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct PercentileSchema {
    percentile: f64,
    latency_us: u64,
}

/// One second of the measured period, all endpoints together.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct SecondStatsSchema {
    second: u64,
    requests: u64,
    errors: u64,
    p50_us: u64,
    p99_us: u64,
    histogram: String,
}

/// Rate mode: the schedule against what happened.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct RateStatsSchema {
    target_per_second: f64,
    achieved_per_second: f64,
    scheduled: u64,
    sent: u64,
    max_send_lag_us: u64,
    kept_up: bool,
}
