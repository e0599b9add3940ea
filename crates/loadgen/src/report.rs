//! [`LoadReport`]: what a load run measured, per endpoint and aggregated, serialisable (the driver embeds it in
//! results.json) and mergeable exactly with [`merge`] because every summary carries its HdrHistogram.

use serde::{Deserialize, Serialize};

use crate::censored;
use crate::histogram::{self, Latencies};
use crate::StatusCounts;
use crate::{agent, AgentWindow, AnswerSpread, InFlightStats, LoadError, Model, OpenLoopStats, WorkerCounts};

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
    /// Latency of every complete response (error statuses included), per `LoadReport::latency_basis`. Its
    /// percentiles also count, as lower bounds, the timed-out requests and the in-flight ones older than the slowest
    /// response (see [`LatencySummary::censored`]).
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

/// A latency distribution in microseconds. `samples`, `min_us`, `max_us`, `mean_us`, `sum_us` and `stdev_us` are
/// the completed responses', exact; percentiles (and the median) come from the histogram (3 significant digits)
/// clamped into [min, max], over the completed responses plus the censored requests when there are any.
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
    /// Requests without an answer counted in the percentiles as lower bounds: every timed-out request (at its
    /// timeout) and the requests in flight at the close older than the slowest response (all when none completed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub censored: u64,
    /// The censored values' HdrHistogram, V2 compressed, base64 (empty when none): with the row's in-flight ages,
    /// what [`merge`] needs to censor again exactly.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub censored_histogram: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentile {
    pub percentile: f64,
    pub latency_us: u64,
    /// The percentile lands among censored requests (above the slowest response): the latency is at least this.
    #[serde(default, skip_serializing_if = "is_false")]
    pub lower_bound: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
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
    /// Open-rate runs only: how the generator kept to its schedule (connections, bound waits, send lag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<OpenLoopStats>,
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
    /// Latencies of the timed-out requests (the timeout, from the intended send time).
    pub timed_out: Latencies,
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
        self.timed_out.add(&other.timed_out)?;
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
            latency: self.latency_summary(),
            service_time: self.service.as_ref().map(summarize),
            requests_per_second: per_second(count),
            failures_per_second: per_second(self.failures.total()),
            avg_content_size: if responses > 0 { self.content_bytes as f64 / responses as f64 } else { 0.0 },
            content_bytes: self.content_bytes,
            in_flight: InFlightStats::of(&self.in_flight),
        }
    }

    /// The latency summary, its percentiles over the completed responses and the censored requests.
    fn latency_summary(&self) -> LatencySummary {
        let censored = censored::censored(&self.timed_out.histogram, &self.in_flight, self.slowest_completed());
        let mut summary = summarize(&self.latency);
        if censored.samples() > 0 {
            let both = censored::together(&self.latency, &censored);
            summary.percentiles = REPORTED_PERCENTILES
                .iter()
                .map(|&percentile| {
                    let at = censored::bounded_at(&self.latency, &both, percentile);
                    Percentile { percentile, latency_us: at.latency_us, lower_bound: at.lower_bound }
                })
                .collect();
            summary.median_us = summary.at(50.0).unwrap_or(summary.median_us);
            summary.censored = censored.samples();
            summary.censored_histogram = histogram::encode(&censored.histogram);
        }
        summary
    }

    /// The slowest completed response, None when none completed.
    fn slowest_completed(&self) -> Option<u64> {
        (self.latency.samples() > 0).then_some(self.latency.max_us)
    }

    /// Rebuilds the exact record from a report's stats (for merging).
    pub fn from_stats(stats: &EndpointStats) -> Result<EndpointRecord, LoadError> {
        let mut record = EndpointRecord {
            latency: unsummarize(&stats.latency)?,
            service: stats.service_time.as_ref().map(unsummarize).transpose()?,
            failures: stats.failures,
            content_bytes: stats.content_bytes,
            in_flight: stats.in_flight.ages()?,
            timed_out: Latencies::default(),
        };
        if stats.latency.censored > 0 {
            let censored = histogram::decode(&stats.latency.censored_histogram)?;
            let old_in_flight = censored::old_in_flight(&record.in_flight, record.slowest_completed());
            record.timed_out = censored::timed_out_of(&censored, &old_in_flight);
        }
        Ok(record)
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
        self.percentile(percentile).map(|p| p.latency_us)
    }

    /// One of the [`REPORTED_PERCENTILES`] with whether it is a lower bound, None for another.
    pub fn percentile(&self, percentile: f64) -> Option<&Percentile> {
        self.percentiles.iter().find(|p| p.percentile == percentile)
    }

    /// The median lands among censored requests: `median_us` is a lower bound.
    pub fn median_is_lower_bound(&self) -> bool {
        self.percentile(50.0).is_some_and(|p| p.lower_bound)
    }

    /// The median of the answers alone (`median_us` counts the censored requests too); None when the histogram
    /// cannot be read back.
    pub fn answered_median_us(&self) -> Option<u64> {
        if self.censored == 0 {
            return Some(self.median_us);
        }
        unsummarize(self).ok().map(|answers| answers.percentile(50.0))
    }
}

fn summarize(latencies: &Latencies) -> LatencySummary {
    let percentiles = REPORTED_PERCENTILES
        .iter()
        .map(|&percentile| Percentile { percentile, latency_us: latencies.percentile(percentile), lower_bound: false })
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
        censored: 0,
        censored_histogram: String::new(),
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
        open: OpenLoopStats::merge(rates.iter().filter_map(|rate| rate.open.as_ref())),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW_AGE_US: u64 = 4_950_000;

    /// 9,900 responses of 100-101 ms, and 50 requests in flight at the close, 50 ms old.
    fn unsaturated() -> EndpointRecord {
        let mut record = EndpointRecord::default();
        for index in 0..9_900u64 {
            record.latency.record(100_000 + index % 1_000);
        }
        for _ in 0..50 {
            record.in_flight.record(50_000);
        }
        record
    }

    fn report_of(records: Vec<(&str, EndpointRecord)>) -> LoadReport {
        ReportParts {
            model: Model::Concurrency,
            started_at_unix_ms: 1_700_000_000_000,
            duration_secs: 4.0,
            warmup_requests: 0,
            cancelled: false,
            latency_basis: LatencyBasis::ServiceTime,
            endpoints: records.into_iter().map(|(name, record)| (name.to_owned(), record)).collect(),
            timeline: Vec::new(),
            rate: None,
            workers: WorkerCounts::default(),
            statuses: StatusCounts::default(),
        }
        .into_report()
        .expect("the report assembles")
    }

    #[test]
    fn young_in_flight_requests_leave_the_percentiles_as_they_were() {
        let record = unsaturated();
        let stats = record.stats("/a", 4.0);
        assert_eq!(stats.latency, summarize(&record.latency));
        assert_eq!(stats.in_flight.requests, 50);
        let json = serde_json::to_string(&stats).expect("json");
        assert!(!json.contains("lower_bound") && !json.contains("censored"), "{json}");
    }

    #[test]
    fn in_flight_requests_older_than_the_slowest_response_make_p99_a_lower_bound() {
        let mut record = unsaturated();
        for _ in 0..200 {
            record.in_flight.record(SLOW_AGE_US);
        }
        let latency = record.stats("/a", 4.0).latency;
        // 9,900 responses + 200 censored: ranks above 9,900 of 10,100 (98.02 %) are censored.
        assert_eq!(latency.censored, 200);
        let p99 = latency.percentile(99.0).expect("p99");
        assert!(p99.lower_bound && p99.latency_us.abs_diff(SLOW_AGE_US) < SLOW_AGE_US / 500, "{p99:?}");
        let max = latency.percentile(100.0).expect("p100");
        assert!(max.lower_bound && max.latency_us <= SLOW_AGE_US, "a bound never exceeds the age it bounds: {max:?}");
        for percentile in [50.0, 90.0, 98.0] {
            let at = latency.percentile(percentile).expect("reported");
            assert!(!at.lower_bound && at.latency_us <= 101_000, "{at:?}");
        }
        assert!(!latency.median_is_lower_bound());
        assert_eq!(latency.samples, 9_900, "the completed count is unchanged");
        assert_eq!(latency.max_us, 100_999, "the max stays the slowest response");
    }

    #[test]
    fn with_nothing_completed_every_in_flight_request_is_censored() {
        let mut record = EndpointRecord::default();
        for age_ms in [4_000, 4_500, 4_900] {
            record.in_flight.record(age_ms * 1_000);
        }
        let latency = record.stats("/a", 4.0).latency;
        assert_eq!((latency.samples, latency.censored), (0, 3));
        assert!(latency.percentiles.iter().all(|p| p.lower_bound && p.latency_us >= 4_000_000), "{latency:?}");
        assert!(latency.median_is_lower_bound());
        assert!(latency.median_us.abs_diff(4_500_000) < 5_000, "{}", latency.median_us);
    }

    #[test]
    fn the_answered_median_leaves_the_censored_requests_out() {
        let mut record = unsaturated();
        for _ in 0..20_000 {
            record.in_flight.record(4_950_000);
        }
        let latency = record.stats("/a", 4.0).latency;
        assert!(latency.median_is_lower_bound() && latency.median_us >= 4_900_000, "{latency:?}");
        let answered = latency.answered_median_us().expect("the answers' histogram reads back");
        assert!((100_000..=101_000).contains(&answered), "{answered}");
        assert_eq!(unsaturated().stats("/a", 4.0).latency.answered_median_us(), Some(latency_median(unsaturated())));
    }

    fn latency_median(record: EndpointRecord) -> u64 {
        record.stats("/a", 4.0).latency.median_us
    }

    #[test]
    fn timed_out_requests_are_censored_even_below_the_slowest_response() {
        let mut record = unsaturated();
        for _ in 0..300 {
            record.timed_out.record(5_000_000);
        }
        let latency = record.stats("/a", 4.0).latency;
        assert_eq!(latency.censored, 300);
        let p99 = latency.percentile(99.0).expect("p99");
        assert!(p99.lower_bound && p99.latency_us.abs_diff(5_000_000) < 5_000, "{p99:?}");
    }

    /// Two agents: one saw only fast answers and old in-flight requests, the other a slow answer that makes the
    /// first's in-flight requests young again in the merge. The merge censors what one run of both would.
    #[test]
    fn merge_censors_exactly_what_a_single_run_would() {
        let mut first = unsaturated();
        for age_ms in [1_000, 2_000, 3_000] {
            first.in_flight.record(age_ms * 1_000);
        }
        first.timed_out.record(5_000_000);
        let mut second = unsaturated();
        second.latency.record(2_500_000);
        for _ in 0..150 {
            second.in_flight.record(SLOW_AGE_US);
        }
        let mut together = first.clone();
        together.add(&second).expect("add");
        let single = report_of(vec![("/a", together)]);
        let mut reports = [report_of(vec![("/a", first)]), report_of(vec![("/a", second)])];
        reports[1].started_at_unix_ms += 1;
        assert_eq!(reports[0].endpoints[0].latency.censored, 4, "three old in-flight and one timeout");
        let merged = merge(&reports).expect("merge");
        for (merged, single) in [(&merged.endpoints[0], &single.endpoints[0]), (&merged.aggregated, &single.aggregated)]
        {
            assert_eq!(merged.latency.percentiles, single.latency.percentiles);
            assert_eq!(merged.latency.median_us, single.latency.median_us);
            // Against the 2.5 s answer, only the 3 s one of the first agent's in-flight requests stays old.
            assert_eq!(merged.latency.censored, single.latency.censored);
            assert_eq!(merged.latency.censored, 1 + 1 + 150);
        }
        // 19,801 answers + 152 censored: p99.9 lands among the censored.
        assert!(single.aggregated.latency.percentile(99.9).expect("p99.9").lower_bound);
    }
}
