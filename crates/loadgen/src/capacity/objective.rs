//! [`Objective`] (a latency percentile bound plus failure and achieved-rate rules, parsed from "p99 <= 250ms") and
//! [`judge`]: one step's [`LoadReport`] against it, as a [`StepVerdict`]. Pure: no run, no clock.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::LoadReport;

/// Failures allowed by default: 0.1 % of the requests.
pub const DEFAULT_MAX_FAILURE_RATIO: f64 = 0.001;
/// Answers per second required by default: 98 % of the offered rate.
pub const DEFAULT_MIN_ACHIEVED_RATIO: f64 = 0.98;

/// What a step must meet for its offered rate to count as sustained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// The latency percentile judged, e.g. 99.0 (0 < p <= 100).
    pub percentile: f64,
    /// Its bound, inclusive.
    #[serde(rename = "max_latency_us", with = "micros")]
    pub max_latency: Duration,
    /// Failures / (requests counted + requests in flight at the close) may be at most this.
    pub max_failure_ratio: f64,
    /// Answers per second of the window / offered rate must be at least this.
    pub min_achieved_ratio: f64,
}

/// One step's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepVerdict {
    Holds,
    /// Every rule the step failed, with its figures.
    Misses(Vec<Miss>),
    /// The generator fell behind its own schedule: the step measured the generator, not the target.
    GeneratorBehind,
}

/// A rule a step failed, with the figures that failed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Miss {
    /// The latency at `percentile` (the reported percentile at or above the objective's) passed the bound.
    Latency {
        percentile: f64,
        latency_us: u64,
        max_latency_us: u64,
    },
    /// The generator fell behind, but the service time (from the actual send, without the generator's lateness)
    /// at `percentile` already passed the bound: the target missed whatever the generator did.
    ServiceTime {
        percentile: f64,
        latency_us: u64,
        max_latency_us: u64,
    },
    Failures {
        failures: u64,
        requests: u64,
        ratio: f64,
        max_ratio: f64,
    },
    Achieved {
        achieved_per_second: f64,
        offered_per_second: f64,
        ratio: f64,
        min_ratio: f64,
    },
}

/// Why an objective's text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: {reason} (expected e.g. \"p99 <= 250ms\")")]
pub struct ObjectiveError {
    text: String,
    reason: String,
}

impl Objective {
    /// `percentile` at most `max_latency`, with the default failure and achieved-rate rules.
    pub fn new(percentile: f64, max_latency: Duration) -> Objective {
        Objective {
            percentile,
            max_latency,
            max_failure_ratio: DEFAULT_MAX_FAILURE_RATIO,
            min_achieved_ratio: DEFAULT_MIN_ACHIEVED_RATIO,
        }
    }
}

impl FromStr for Objective {
    type Err = ObjectiveError;

    /// `pNN[.N] <= DURATION`, spaces optional: "p99 <= 250ms", "p99.9<=1s", "p50 <= 20ms".
    fn from_str(text: &str) -> Result<Objective, ObjectiveError> {
        let error = |reason: &str| ObjectiveError { text: text.to_owned(), reason: reason.to_owned() };
        let (left, right) = text.split_once("<=").ok_or_else(|| error("no \"<=\""))?;
        let left = left.trim();
        let digits = left.strip_prefix(['p', 'P']).ok_or_else(|| error("the percentile starts with p"))?;
        let percentile: f64 = digits.parse().map_err(|_| error("the percentile is not a number"))?;
        if !(percentile > 0.0 && percentile <= 100.0) {
            return Err(error("the percentile is not in (0, 100]"));
        }
        let max_latency = humantime::parse_duration(right.trim()).map_err(|_| error("the bound is not a duration"))?;
        if max_latency.is_zero() {
            return Err(error("the bound must be above 0"));
        }
        Ok(Objective::new(percentile, max_latency))
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p{} <= {}, failures <= {}%, achieved >= {}% of offered",
            self.percentile,
            humantime::format_duration(self.max_latency),
            self.max_failure_ratio * 100.0,
            self.min_achieved_ratio * 100.0
        )
    }
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Latency { percentile, latency_us, max_latency_us } => write!(
                f,
                "p{percentile} {:.1} ms > {:.1} ms",
                *latency_us as f64 / 1000.0,
                *max_latency_us as f64 / 1000.0
            ),
            Miss::ServiceTime { percentile, latency_us, max_latency_us } => write!(
                f,
                "service-time p{percentile} {:.1} ms > {:.1} ms (the generator fell behind, the target missed anyway)",
                *latency_us as f64 / 1000.0,
                *max_latency_us as f64 / 1000.0
            ),
            Miss::Failures { failures, requests, ratio, max_ratio } => {
                write!(f, "failures {failures}/{requests} = {:.2}% > {:.2}%", ratio * 100.0, max_ratio * 100.0)
            }
            Miss::Achieved { achieved_per_second, offered_per_second, ratio, min_ratio } => write!(
                f,
                "achieved {achieved_per_second:.1}/s of {offered_per_second:.1}/s = {:.1}% < {:.1}%",
                ratio * 100.0,
                min_ratio * 100.0
            ),
        }
    }
}

impl StepVerdict {
    pub fn holds(&self) -> bool {
        matches!(self, StepVerdict::Holds)
    }
}

impl fmt::Display for StepVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepVerdict::Holds => f.write_str("holds"),
            StepVerdict::GeneratorBehind => f.write_str("generator behind"),
            StepVerdict::Misses(misses) => {
                f.write_str("misses: ")?;
                let words: Vec<String> = misses.iter().map(Miss::to_string).collect();
                f.write_str(&words.join("; "))
            }
        }
    }
}

/// Judges one step run at `offered_per_second`. A step whose generator fell behind is not the target's to judge:
/// any slot that waited for the connection bound, or a send lag that could move the verdict (see
/// [`generator_behind`]).
pub fn judge(report: &LoadReport, offered_per_second: f64, objective: &Objective) -> StepVerdict {
    if generator_behind(report, objective) {
        // Service time runs from the actual send, so the generator's lateness is not in it: a target that misses
        // on it missed whatever the generator did (a collapsing target drives the open loop into its bound).
        return match service_time_miss(report, objective) {
            Some(miss) => StepVerdict::Misses(vec![miss]),
            None => StepVerdict::GeneratorBehind,
        };
    }
    let misses: Vec<Miss> = [latency_miss(report, objective), failure_miss(report, objective)]
        .into_iter()
        .chain([achieved_miss(report, offered_per_second, objective)])
        .flatten()
        .collect();
    if misses.is_empty() {
        StepVerdict::Holds
    } else {
        StepVerdict::Misses(misses)
    }
}

/// True when the generator, not the target, set this step's figures: a slot waited for the connection bound, or
/// the send lag's p99 passed both the report's 1 ms mark ([`crate::GENERATOR_LAG_LIMIT_US`], which sets the
/// report's `generator_behind`) and [`LAG_SHARE_OF_BOUND`] of the objective's bound. The corrected latency includes
/// the lag, so a lag under that share cannot move the latency verdict by more than it; on a shared machine the
/// scheduler alone puts the p99 of a few hundred sends past 1 ms, which says nothing about a 250 ms objective.
pub fn generator_behind(report: &LoadReport, objective: &Objective) -> bool {
    let Some(open) = report.rate.as_ref().and_then(|rate| rate.open.as_ref()) else { return false };
    let bound_us = objective.max_latency.as_secs_f64() * 1e6;
    let lag_matters = open.send_lag_p99_us as f64 > bound_us * LAG_SHARE_OF_BOUND;
    open.bound_waits > 0 || (open.generator_behind && lag_matters)
}

/// The share of the objective's latency bound the generator's send lag (p99) may take before a step is the
/// generator's rather than the target's.
pub const LAG_SHARE_OF_BOUND: f64 = 0.05;

/// The reported percentile nearest at or above `percentile` (the max when none is), and its latency.
pub fn reported_percentile(report: &LoadReport, percentile: f64) -> (f64, u64) {
    let latency = &report.aggregated.latency;
    latency
        .percentiles
        .iter()
        .filter(|reported| reported.percentile >= percentile)
        .min_by(|a, b| a.percentile.total_cmp(&b.percentile))
        .map_or((100.0, latency.max_us), |reported| (reported.percentile, reported.latency_us))
}

/// The service time at the objective's percentile, when it passed the bound.
fn service_time_miss(report: &LoadReport, objective: &Objective) -> Option<Miss> {
    let service = report.aggregated.service_time.as_ref()?;
    let reported = service
        .percentiles
        .iter()
        .filter(|reported| reported.percentile >= objective.percentile)
        .min_by(|a, b| a.percentile.total_cmp(&b.percentile))?;
    let max_latency_us = u64::try_from(objective.max_latency.as_micros()).unwrap_or(u64::MAX);
    (reported.latency_us > max_latency_us).then_some(Miss::ServiceTime {
        percentile: reported.percentile,
        latency_us: reported.latency_us,
        max_latency_us,
    })
}

/// The latency of [`reported_percentile`] and whether it is a lower bound: it falls among requests still
/// unanswered at the close, so the true figure is at least it.
pub fn reported_latency(report: &LoadReport, percentile: f64) -> (u64, bool) {
    let (reported, latency_us) = reported_percentile(report, percentile);
    let percentiles = &report.aggregated.latency.percentiles;
    (latency_us, percentiles.iter().any(|p| p.percentile == reported && p.lower_bound))
}

fn latency_miss(report: &LoadReport, objective: &Objective) -> Option<Miss> {
    let (percentile, latency_us) = reported_percentile(report, objective.percentile);
    let max_latency_us = u64::try_from(objective.max_latency.as_micros()).unwrap_or(u64::MAX);
    (latency_us > max_latency_us).then_some(Miss::Latency { percentile, latency_us, max_latency_us })
}

fn failure_miss(report: &LoadReport, objective: &Objective) -> Option<Miss> {
    let total = &report.aggregated;
    let failures = total.failures.total();
    let requests = total.count + total.in_flight.requests;
    let ratio = if requests == 0 { 0.0 } else { failures as f64 / requests as f64 };
    (ratio > objective.max_failure_ratio).then_some(Miss::Failures {
        failures,
        requests,
        ratio,
        max_ratio: objective.max_failure_ratio,
    })
}

fn achieved_miss(report: &LoadReport, offered_per_second: f64, objective: &Objective) -> Option<Miss> {
    let achieved_per_second = answered_per_second(report);
    let ratio = if offered_per_second > 0.0 { achieved_per_second / offered_per_second } else { 1.0 };
    (ratio < objective.min_achieved_ratio).then_some(Miss::Achieved {
        achieved_per_second,
        offered_per_second,
        ratio,
        min_ratio: objective.min_achieved_ratio,
    })
}

/// Complete answers (any status) per second of the measured window.
pub fn answered_per_second(report: &LoadReport) -> f64 {
    if report.duration_secs > 0.0 {
        report.aggregated.latency.samples as f64 / report.duration_secs
    } else {
        0.0
    }
}

/// A `Duration` as whole microseconds in JSON.
mod micros {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_micros)
    }
}

#[cfg(test)]
mod tests;
