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
    /// The measured window: from the end of warm-up to its close (the deadline; for a request budget, the last
    /// answer; for a cancelled run, the cancel). Rates divide by it, as wrk's do.
    duration_secs: f64,
    /// Requests answered (or failed) before the window opened: they reached the server but are in no statistic.
    warmup_requests: u64,
    /// The run was cancelled before its stop condition; the window closed then.
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
    /// Responses per server worker process, by their `x-worker-pid` header; absent in files written before.
    #[serde(default)]
    #[schemars(with = "WorkerCountsSchema")]
    responses_per_worker: loadgen::WorkerCounts,
    /// Responses per HTTP status code, every endpoint together, by code; absent in files written before.
    #[serde(default)]
    #[schemars(with = "Vec<StatusCountSchema>")]
    statuses: loadgen::StatusCounts,
    /// Concurrency and users models: how the responses were spread over the connections (users); absent for the
    /// rate model and in files written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<AnswerSpreadSchema>")]
    answers_per_connection: Option<loadgen::AnswerSpread>,
}

/// Responses inside the window per connection (user): the fewest and the most any one got, how many got none.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct AnswerSpreadSchema {
    connections: u64,
    fewest: u64,
    most: u64,
    /// Connections that got no response in the whole window.
    none: u64,
}

/// Responses with one HTTP status code.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct StatusCountSchema {
    status: u16,
    responses: u64,
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
    /// Requests finished inside the measured window: responses (any status) plus connect, timeout and read
    /// failures, whenever they were sent.
    count: u64,
    failures: FailureCountsSchema,
    latency: LatencySummarySchema,
    /// Rate mode: the uncorrected service time of the same responses.
    service_time: Option<LatencySummarySchema>,
    requests_per_second: f64,
    failures_per_second: f64,
    avg_content_size: f64,
    content_bytes: u64,
    /// Requests still unanswered when the window closed: in no other figure. The Aggregated row also holds, in rate
    /// mode, the slots due but not yet sent. Absent from files written before it existed.
    #[serde(default)]
    in_flight: InFlightSchema,
}

/// Requests without a complete answer at the close of the window, aged at the close from their intended send time.
#[derive(JsonSchema, Default)]
#[allow(dead_code)]
struct InFlightSchema {
    requests: u64,
    median_age_us: u64,
    max_age_us: u64,
    /// The ages' HdrHistogram, V2 compressed, base64.
    histogram: String,
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
pub(super) struct LatencySummarySchema {
    samples: u64,
    min_us: u64,
    max_us: u64,
    mean_us: f64,
    sum_us: u64,
    median_us: u64,
    stdev_us: f64,
    percentiles: Vec<PercentileSchema>,
    histogram: String,
    /// Unanswered requests counted in the percentiles as lower bounds: timed out, or in flight at the close for
    /// longer than the slowest answer (all of them when none completed). Absent when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    censored: u64,
    /// The censored values' HdrHistogram, V2 compressed, base64. Absent when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    censored_histogram: String,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct PercentileSchema {
    percentile: f64,
    latency_us: u64,
    /// The percentile lands among censored requests (above the slowest answer): the latency is at least this.
    /// Absent when false.
    #[serde(default, skip_serializing_if = "is_false")]
    lower_bound: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
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

/// Rate mode: the schedule against what happened. Every slot due before the close is accounted for:
/// warmup_scheduled + scheduled = warmup_requests + the Aggregated count + the Aggregated in-flight requests.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct RateStatsSchema {
    target_per_second: f64,
    achieved_per_second: f64,
    /// Slots due in the measured window.
    scheduled: u64,
    /// Of those, the requests sent before the close.
    sent: u64,
    max_send_lag_us: u64,
    kept_up: bool,
    /// Slots due during the warm-up.
    #[serde(default)]
    warmup_scheduled: u64,
    /// Slots due before the close and not yet sent (the sender had fallen behind).
    #[serde(default)]
    not_sent: InFlightSchema,
    /// Open-rate runs only: how the generator kept to its schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open: Option<OpenLoopSchema>,
}

/// An open-rate run's generator: its connections, the slots that waited for its connection bound, its send lag.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct OpenLoopSchema {
    /// The bound on connections open at once.
    max_connections: u64,
    /// The most connections open at once.
    most_open: u64,
    /// Slots of the window that waited because the bound was reached.
    bound_waits: u64,
    /// Lateness of the sends that found a connection free.
    send_lag_p50_us: u64,
    send_lag_p99_us: u64,
    send_lag_max_us: u64,
    /// The soft open-file limit the run had; null if unreadable.
    open_file_limit: Option<u64>,
    /// A slot waited for the bound or the send lag's p99 passed 1 ms: the figures are the generator's limit.
    generator_behind: bool,
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
