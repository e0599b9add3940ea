//! [`LoadReport`]: what a load run measured, per endpoint and aggregated, serialisable (the driver embeds it in
//! results.json) and mergeable exactly with [`merge`] because every summary carries its HdrHistogram.

use serde::{Deserialize, Serialize};

use crate::histogram::{self, Latencies};
use crate::StatusCounts;
use crate::{agent, AgentWindow, AnswerSpread, InFlightStats, LoadError, Model, WorkerCounts};

/// The percentiles every output reports: Locust's columns, plus 100 (the max).
pub const REPORTED_PERCENTILES: [f64; 11] = [50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0, 99.9, 99.99, 100.0];

/// Name of the row that sums every endpoint, as Locust spells it.
pub const AGGREGATED_NAME: &str = "Aggregated";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub model: Model,
    /// Wall-clock start of the measured period (after warm-up), milliseconds since the Unix epoch.
    pub started_at_unix_ms: u64,
    /// The measured window: from the end of warm-up to its close (the deadline; for a request budget, the last
    /// answer; for a cancelled run, the cancel). Rates divide by it, as wrk's do.
    pub duration_secs: f64,
    /// Requests answered (or failed) before the window opened: they reached the server but are in no statistic.
    pub warmup_requests: u64,
    /// The run was cancelled before its stop condition; the window closed then.
    pub cancelled: bool,
    /// What `latency` measures: "service time" (send to response), or in rate mode "corrected" (from the
    /// intended send time, coordinated omission corrected); `service_time` then holds the uncorrected figures.
    pub latency_basis: LatencyBasis,
    pub endpoints: Vec<EndpointStats>,
    pub aggregated: EndpointStats,
    /// One entry per second of the measured period.
    pub timeline: Vec<SecondStats>,
    /// Rate mode only: whether the target kept up with the requested rate.
    pub rate: Option<RateStats>,
    /// Who measured and when, on the wall clock: one agent for a run, every agent for a merge (empty in reports
    /// written before agents were recorded).
    #[serde(default)]
    pub agents: Vec<AgentWindow>,
    /// Responses per server worker process, by their `x-worker-pid` header (empty in reports written before).
    #[serde(default)]
    pub responses_per_worker: WorkerCounts,
    /// Responses per HTTP status code, every endpoint together, by code (empty in reports written before).
    #[serde(default)]
    pub statuses: StatusCounts,
    /// Concurrency and users models: how the responses were spread over the connections (users), so that a
    /// server starving some of them shows. Absent for the rate model and in reports written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers_per_connection: Option<AnswerSpread>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyBasis {
    /// From the moment the request was written until its response was read completely.
    ServiceTime,
    /// From the moment the request should have been sent by the schedule (wrk2's coordinated-omission correction).
    Corrected,
}

/// Statistics of one endpoint (a task) or of all of them ([`AGGREGATED_NAME`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub name: String,
    /// Requests finished inside the measured window: responses (any status) plus connect, timeout and read
    /// failures. A warm-up request answered inside the window counts, as wrk would count it.
    pub count: u64,
    pub failures: FailureCounts,
    /// Latency of every complete response (error statuses included), per `LoadReport::latency_basis`.
    pub latency: LatencySummary,
    /// Rate mode: the uncorrected service time of the same responses.
    pub service_time: Option<LatencySummary>,
    pub requests_per_second: f64,
    pub failures_per_second: f64,
    /// Mean response body size in bytes.
    pub avg_content_size: f64,
    pub content_bytes: u64,
    /// Requests still unanswered when the window closed: in no other figure. The Aggregated row also holds, in rate
    /// mode, the slots due but not yet sent ([`RateStats::not_sent`]). Absent from reports older than the field.
    #[serde(default)]
    pub in_flight: InFlightStats,
}

/// Failed requests by cause. A request fails once, with the first cause met.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCounts {
    /// The TCP connection could not be opened.
    pub connect: u64,
    /// No complete response within the per-request timeout.
    pub timeout: u64,
    /// A complete response with status >= 400 (its latency is recorded too, as Locust does).
    pub status: u64,
    /// The connection broke or the response could not be parsed.
    pub read: u64,
}

/// A latency distribution in microseconds. `min_us`, `max_us`, `sum_us` are exact; percentiles come from the
/// histogram (3 significant digits) clamped into [min, max].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub samples: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
    pub sum_us: u64,
    pub median_us: u64,
    pub stdev_us: f64,
    pub percentiles: Vec<Percentile>,
    /// The HdrHistogram, V2 compressed, base64: what [`merge`] adds.
    pub histogram: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentile {
    pub percentile: f64,
    pub latency_us: u64,
}

/// One second of the measured period, all endpoints together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondStats {
    /// Seconds since the start of the measured period.
    pub second: u64,
    /// Requests finished in this second (failures included).
    pub requests: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// This second's latency histogram (same basis as the report), V2 compressed, base64.
    pub histogram: String,
}

/// Rate mode: the schedule against what happened. Every slot due before the close is accounted for:
/// `warmup_scheduled + scheduled` = warm-up requests + the Aggregated count + the Aggregated in-flight requests
/// (sent and unanswered, plus [`RateStats::not_sent`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateStats {
    pub target_per_second: f64,
    /// Requests sent of those due in the window, per second of the window.
    pub achieved_per_second: f64,
    /// Requests the schedule planned during the measured window (with a request budget: until it ran out).
    pub scheduled: u64,
    /// Of those, the requests actually sent before the close.
    pub sent: u64,
    /// Worst delay between a request's intended and actual send time.
    pub max_send_lag_us: u64,
    /// The target kept up with the schedule (see [`RateStats::judge`]).
    pub kept_up: bool,
    /// Requests the schedule planned during the warm-up.
    #[serde(default)]
    pub warmup_scheduled: u64,
    /// Slots due before the close that were not sent because the sender had fallen behind (it sends a
    /// connection's next request only after the previous answer), aged from their due time.
    #[serde(default)]
    pub not_sent: InFlightStats,
}

impl LoadReport {
    /// Responses that did not fail (all endpoints), per second of the measured window: the throughput every
    /// printed table reads, so the console and summary.md agree. None for an empty window.
    pub fn successful_per_second(&self) -> Option<f64> {
        let stats = &self.aggregated;
        (self.duration_secs > 0.0)
            .then(|| stats.count.saturating_sub(stats.failures.total()) as f64 / self.duration_secs)
    }

    /// Failed requests as a fraction of the requests counted in the window (0 when none was counted).
    pub fn failure_ratio(&self) -> f64 {
        let stats = &self.aggregated;
        if stats.count == 0 {
            0.0
        } else {
            stats.failures.total() as f64 / stats.count as f64
        }
    }
}

impl RateStats {
    /// The target kept up when, by the end, every request the schedule asked for went out except at most one per
    /// connection (the one waiting for an answer). A stall it recovered from shows in `max_send_lag_us` and in the
    /// corrected latency, not here.
    pub fn judge(scheduled: u64, sent: u64, connections: u64) -> bool {
        sent + connections >= scheduled
    }
}

impl FailureCounts {
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.status + self.read
    }

    /// Failures that left no response (and so no latency sample).
    pub fn without_response(&self) -> u64 {
        self.connect + self.timeout + self.read
    }

    pub fn add(&mut self, other: &FailureCounts) {
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.status += other.status;
        self.read += other.read;
    }
}

/// Everything recorded for one endpoint; the form in which workers hand results over and [`merge`] adds them.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndpointRecord {
    pub latency: Latencies,
    /// Service time, kept only in rate mode (otherwise identical to `latency`).
    pub service: Option<Latencies>,
    pub failures: FailureCounts,
    pub content_bytes: u64,
    /// Ages at the close of the requests still unanswered then.
    pub in_flight: Latencies,
}

impl EndpointRecord {
    pub fn with_service_time(keep: bool) -> EndpointRecord {
        EndpointRecord { service: keep.then(Latencies::default), ..EndpointRecord::default() }
    }

    pub fn add(&mut self, other: &EndpointRecord) -> Result<(), LoadError> {
        self.latency.add(&other.latency)?;
        match (&mut self.service, &other.service) {
            (Some(mine), Some(theirs)) => mine.add(theirs)?,
            (None, Some(theirs)) => self.service = Some(theirs.clone()),
            _ => {}
        }
        self.failures.add(&other.failures);
        self.content_bytes += other.content_bytes;
        self.in_flight.add(&other.in_flight)
    }

    pub fn count(&self) -> u64 {
        self.latency.samples() + self.failures.without_response()
    }

    pub fn stats(&self, name: &str, duration_secs: f64) -> EndpointStats {
        let count = self.count();
        let per_second = |n: u64| if duration_secs > 0.0 { n as f64 / duration_secs } else { 0.0 };
        let responses = self.latency.samples();
        EndpointStats {
            name: name.to_owned(),
            count,
            failures: self.failures,
            latency: summarize(&self.latency),
            service_time: self.service.as_ref().map(summarize),
            requests_per_second: per_second(count),
            failures_per_second: per_second(self.failures.total()),
            avg_content_size: if responses > 0 { self.content_bytes as f64 / responses as f64 } else { 0.0 },
            content_bytes: self.content_bytes,
            in_flight: InFlightStats::of(&self.in_flight),
        }
    }

    /// Rebuilds the exact record from a report's stats (for merging).
    pub fn from_stats(stats: &EndpointStats) -> Result<EndpointRecord, LoadError> {
        Ok(EndpointRecord {
            latency: unsummarize(&stats.latency)?,
            service: stats.service_time.as_ref().map(unsummarize).transpose()?,
            failures: stats.failures,
            content_bytes: stats.content_bytes,
            in_flight: stats.in_flight.ages()?,
        })
    }
}

impl LatencySummary {
    /// Summarises a recorded distribution: the exact min, max, mean and sum, [`REPORTED_PERCENTILES`] and the
    /// encoded histogram.
    pub fn of(latencies: &Latencies) -> LatencySummary {
        summarize(latencies)
    }

    /// The latency at one of the [`REPORTED_PERCENTILES`] (e.g. 99.0), None for another.
    pub fn at(&self, percentile: f64) -> Option<u64> {
        self.percentiles.iter().find(|p| p.percentile == percentile).map(|p| p.latency_us)
    }
}

fn summarize(latencies: &Latencies) -> LatencySummary {
    let percentiles = REPORTED_PERCENTILES
        .iter()
        .map(|&percentile| Percentile { percentile, latency_us: latencies.percentile(percentile) })
        .collect();
    LatencySummary {
        samples: latencies.samples(),
        min_us: latencies.min(),
        max_us: latencies.max_us,
        mean_us: latencies.mean(),
        sum_us: latencies.sum_us,
        median_us: latencies.percentile(50.0),
        stdev_us: if latencies.samples() > 0 { latencies.histogram.stdev() } else { 0.0 },
        percentiles,
        histogram: histogram::encode(&latencies.histogram),
    }
}

fn unsummarize(summary: &LatencySummary) -> Result<Latencies, LoadError> {
    let histogram = histogram::decode(&summary.histogram)?;
    if histogram.len() != summary.samples {
        let reason = format!("histogram holds {} samples, summary says {}", histogram.len(), summary.samples);
        return Err(LoadError::Histogram(reason));
    }
    let min_us = if summary.samples == 0 { u64::MAX } else { summary.min_us };
    Ok(Latencies { histogram, min_us, max_us: summary.max_us, sum_us: summary.sum_us })
}

/// One second of one worker (or of the merged run), before it is summarised.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecondRecord {
    pub requests: u64,
    pub errors: u64,
    pub latency: Option<hdrhistogram::Histogram<u64>>,
}

impl SecondRecord {
    pub fn add(&mut self, other: &SecondRecord) -> Result<(), LoadError> {
        self.requests += other.requests;
        self.errors += other.errors;
        if let Some(theirs) = &other.latency {
            match &mut self.latency {
                Some(mine) => mine.add(theirs).map_err(|error| LoadError::Histogram(format!("{error:?}")))?,
                None => self.latency = Some(theirs.clone()),
            }
        }
        Ok(())
    }

    pub fn stats(&self, second: u64) -> SecondStats {
        let empty = histogram::new_histogram();
        let latency = self.latency.as_ref().unwrap_or(&empty);
        let at = |percentile: f64| if latency.is_empty() { 0 } else { latency.value_at_percentile(percentile) };
        SecondStats {
            second,
            requests: self.requests,
            errors: self.errors,
            p50_us: at(50.0),
            p99_us: at(99.0),
            histogram: histogram::encode(latency),
        }
    }

    fn from_stats(stats: &SecondStats) -> Result<SecondRecord, LoadError> {
        Ok(SecondRecord {
            requests: stats.requests,
            errors: stats.errors,
            latency: Some(histogram::decode(&stats.histogram)?),
        })
    }
}

/// The parts a run (or a merge) assembles into a [`LoadReport`].
pub(crate) struct ReportParts {
    pub model: Model,
    pub started_at_unix_ms: u64,
    pub duration_secs: f64,
    pub warmup_requests: u64,
    pub cancelled: bool,
    pub latency_basis: LatencyBasis,
    pub endpoints: Vec<(String, EndpointRecord)>,
    pub timeline: Vec<SecondRecord>,
    pub rate: Option<RateStats>,
    pub workers: WorkerCounts,
    pub statuses: StatusCounts,
}

impl ReportParts {
    pub fn into_report(self) -> Result<LoadReport, LoadError> {
        let keep_service = self.latency_basis == LatencyBasis::Corrected;
        let mut total = EndpointRecord::with_service_time(keep_service);
        for (_, record) in &self.endpoints {
            total.add(record)?;
        }
        if let Some(rate) = &self.rate {
            total.in_flight.add(&rate.not_sent.ages()?)?;
        }
        let duration = self.duration_secs;
        Ok(LoadReport {
            model: self.model,
            started_at_unix_ms: self.started_at_unix_ms,
            duration_secs: duration,
            warmup_requests: self.warmup_requests,
            cancelled: self.cancelled,
            latency_basis: self.latency_basis,
            endpoints: self.endpoints.iter().map(|(name, record)| record.stats(name, duration)).collect(),
            aggregated: total.stats(AGGREGATED_NAME, duration),
            timeline: self.timeline.iter().enumerate().map(|(second, record)| record.stats(second as u64)).collect(),
            rate: self.rate,
            agents: Vec::new(),
            responses_per_worker: self.workers.sorted(),
            statuses: self.statuses.sorted(),
            answers_per_connection: None,
        })
    }
}

/// Merges reports of load agents that ran at the same time against the same target: histograms, counts and
/// failures add exactly; the duration is the longest; timelines align on their wall-clock start, to the nearest
/// second. Refuses agents whose windows do not overlap, or one agent given twice ([`agent::check_windows`]).
pub fn merge(reports: &[LoadReport]) -> Result<LoadReport, LoadError> {
    let first = reports.first().ok_or(LoadError::NothingToMerge)?;
    let agents: Vec<AgentWindow> = reports.iter().flat_map(|report| report.agents.iter().cloned()).collect();
    agent::check_windows(&agents)?;
    let started_at = reports.iter().map(|report| report.started_at_unix_ms).min().unwrap_or(0);
    let mut endpoints: Vec<(String, EndpointRecord)> = Vec::new();
    let mut timeline: Vec<SecondRecord> = Vec::new();
    let mut workers = WorkerCounts::default();
    let mut statuses = StatusCounts::default();
    for report in reports {
        workers.add(&report.responses_per_worker);
        statuses.add(&report.statuses);
        for stats in &report.endpoints {
            let record = EndpointRecord::from_stats(stats)?;
            match endpoints.iter_mut().find(|(name, _)| *name == stats.name) {
                Some((_, existing)) => existing.add(&record)?,
                None => endpoints.push((stats.name.clone(), record)),
            }
        }
        // Synchronized agents start within milliseconds of each other; rounding keeps an agent a hair early or
        // late in the same second instead of shifting it by one.
        let offset = ((report.started_at_unix_ms - started_at + 500) / 1000) as usize;
        for stats in &report.timeline {
            let index = offset + stats.second as usize;
            if timeline.len() <= index {
                timeline.resize_with(index + 1, SecondRecord::default);
            }
            timeline[index].add(&SecondRecord::from_stats(stats)?)?;
        }
    }
    let parts = ReportParts {
        model: first.model,
        started_at_unix_ms: started_at,
        duration_secs: reports.iter().map(|report| report.duration_secs).fold(0.0, f64::max),
        warmup_requests: reports.iter().map(|report| report.warmup_requests).sum(),
        cancelled: reports.iter().any(|report| report.cancelled),
        latency_basis: first.latency_basis,
        endpoints,
        timeline,
        rate: merge_rates(reports)?,
        workers,
        statuses,
    };
    let mut merged = parts.into_report()?;
    merged.agents = agents;
    merged.answers_per_connection =
        AnswerSpread::merged(reports.iter().filter_map(|report| report.answers_per_connection.as_ref()));
    Ok(merged)
}

fn merge_rates(reports: &[LoadReport]) -> Result<Option<RateStats>, LoadError> {
    let rates: Vec<&RateStats> = reports.iter().filter_map(|report| report.rate.as_ref()).collect();
    if rates.is_empty() {
        return Ok(None);
    }
    let duration = reports.iter().map(|report| report.duration_secs).fold(0.0, f64::max);
    let sent: u64 = rates.iter().map(|rate| rate.sent).sum();
    let mut not_sent = Latencies::default();
    for rate in &rates {
        not_sent.add(&rate.not_sent.ages()?)?;
    }
    Ok(Some(RateStats {
        target_per_second: rates.iter().map(|rate| rate.target_per_second).sum(),
        achieved_per_second: if duration > 0.0 { sent as f64 / duration } else { 0.0 },
        scheduled: rates.iter().map(|rate| rate.scheduled).sum(),
        sent,
        max_send_lag_us: rates.iter().map(|rate| rate.max_send_lag_us).max().unwrap_or(0),
        kept_up: rates.iter().all(|rate| rate.kept_up),
        warmup_scheduled: rates.iter().map(|rate| rate.warmup_scheduled).sum(),
        not_sent: InFlightStats::of(&not_sent),
    }))
}
