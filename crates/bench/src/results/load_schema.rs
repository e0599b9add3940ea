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
    /// Responses per server worker process, by their `x-worker-pid` header; absent in files written before.
    #[serde(default)]
    #[schemars(with = "WorkerCountsSchema")]
    responses_per_worker: loadgen::WorkerCounts,
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

/// Responses per server worker process, by their `x-worker-pid` header.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct WorkerCountsSchema {
    /// One entry per worker pid, in pid order.
    workers: Vec<WorkerCountSchema>,
    /// Responses from pids past the 256 counted one by one.
    other_workers: u64,
    /// Responses without a readable `x-worker-pid` header.
    without_pid: u64,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct WorkerCountSchema {
    pid: u32,
    responses: u64,
}
