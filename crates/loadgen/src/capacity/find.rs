//! [`find_capacity`]: runs a [`Search`] step by step with [`crate::run`] at open rate - a short warm-up per step,
//! a pause for the target to drain between steps - and gathers every step into a [`CapacityReport`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::objective::{answered_per_second, judge, reported_latency, reported_percentile, Objective, StepVerdict};
use super::search::{step_duration, Search, SearchConfig, SearchEnd, SearchPhase};
use crate::{LoadError, LoadPlan, LoadReport, Pacing, RunControl, Stop};

/// The connection bound of a step when the plan does not set one.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Each step's warm-up: connections opened and the target's pipeline filled before the window opens.
pub const STEP_WARMUP: Duration = Duration::from_millis(500);
/// The shortest pause between steps, for the target to finish what the last step left it.
const MIN_DRAIN: Duration = Duration::from_millis(250);

/// One step as it ran and was judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1 for the first step.
    pub step: usize,
    pub phase: SearchPhase,
    pub offered_per_second: f64,
    /// Complete answers per second of the window.
    pub achieved_per_second: f64,
    pub duration_secs: f64,
    pub p50_us: u64,
    /// The p50 falls among requests still unanswered at the close: the true figure is at least it.
    pub p50_lower_bound: bool,
    pub p99_us: u64,
    pub p99_lower_bound: bool,
    /// The percentile the objective judges (the reported one at or above it) and its latency.
    pub judged_percentile: f64,
    pub judged_latency_us: u64,
    /// Requests counted in the window, and of them failed.
    pub requests: u64,
    pub failures: u64,
    /// Requests unanswered at the close (sent, or due and not sent).
    pub in_flight: u64,
    pub connections_open: u64,
    pub bound_waits: u64,
    pub send_lag_p99_us: u64,
    /// The run's own flag (a bound wait, or a send lag p99 over 1 ms); the verdict says whether it could move the
    /// judgement ([`super::generator_behind`]).
    pub generator_behind: bool,
    pub verdict: StepVerdict,
}

/// A capacity search: the objective, every step, the capacity with its range, and why the search ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityReport {
    pub objective: Objective,
    pub search: SearchConfig,
    pub steps: Vec<StepRecord>,
    /// The highest offered rate found to sustain the objective; None when nothing held.
    pub capacity_per_second: Option<f64>,
    /// The lowest and highest rate that held among the confirmation runs.
    pub range_per_second: Option<(f64, f64)>,
    /// The search stopped before the target's limit (maximum rate held, or the generator fell behind).
    pub at_least: bool,
    /// None when the search was cancelled before it ended.
    pub ended: Option<SearchEnd>,
    pub cancelled: bool,
}

/// Finds `plan`'s target capacity under `objective`; `on_step` sees each step as it is judged. The plan's target,
/// tasks, request shape, threads and timeout are kept; its pacing, stop and warm-up are the search's (its
/// `OpenRate` bound is kept, otherwise [`DEFAULT_MAX_CONNECTIONS`]).
pub fn find_capacity(
    plan: &LoadPlan,
    objective: &Objective,
    config: &SearchConfig,
    on_step: impl FnMut(&StepRecord),
) -> Result<CapacityReport, LoadError> {
    find_capacity_with(plan, objective, config, &RunControl::new(), on_step)
}

/// [`find_capacity`] under `control`: cancelling it ends the search after the step under way, reported as is.
pub fn find_capacity_with(
    plan: &LoadPlan,
    objective: &Objective,
    config: &SearchConfig,
    control: &RunControl,
    mut on_step: impl FnMut(&StepRecord),
) -> Result<CapacityReport, LoadError> {
    validate(config)?;
    let mut search = Search::new(config.clone());
    let mut steps = Vec::new();
    while let Some(rate) = search.next_rate() {
        if control.cancel.is_cancelled() {
            break;
        }
        let report = crate::run(&step_plan(plan, rate, step_duration(rate)), control)?;
        if report.cancelled {
            break;
        }
        let verdict = judge(&report, rate, objective);
        let record = step_record(steps.len() + 1, search.phase(), rate, &report, objective, verdict.clone());
        on_step(&record);
        steps.push(record);
        search.record(rate, verdict);
        if search.next_rate().is_some() {
            std::thread::sleep(drain_pause(&report, plan.timeout));
        }
    }
    let outcome = search.outcome();
    Ok(CapacityReport {
        objective: objective.clone(),
        search: config.clone(),
        steps,
        capacity_per_second: outcome.capacity_per_second,
        range_per_second: outcome.range_per_second,
        at_least: outcome.at_least,
        ended: outcome.ended,
        cancelled: outcome.ended.is_none(),
    })
}

fn validate(config: &SearchConfig) -> Result<(), LoadError> {
    let positive = |rate: f64| rate.is_finite() && rate > 0.0;
    if !positive(config.start_per_second) {
        return Err(LoadError::invalid("--start-rate", "must be a positive number of requests per second"));
    }
    if !positive(config.max_per_second) || config.max_per_second < config.start_per_second {
        return Err(LoadError::invalid("--max-rate", "must be a rate at or above --start-rate"));
    }
    if !(config.precision > 0.0 && config.precision < 1.0) {
        return Err(LoadError::invalid("--precision", "must be a fraction between 0 and 1"));
    }
    Ok(())
}

/// The plan of one step at `rate`: open rate for `length` (the CLI's search uses [`step_duration`]) after a
/// [`STEP_WARMUP`], keeping the plan's connection bound (else [`DEFAULT_MAX_CONNECTIONS`]).
pub fn step_plan(plan: &LoadPlan, rate: f64, length: Duration) -> LoadPlan {
    let max_connections = match plan.pacing {
        Pacing::OpenRate { max_connections, .. } => max_connections,
        _ => DEFAULT_MAX_CONNECTIONS,
    };
    LoadPlan {
        pacing: Pacing::OpenRate { per_second: rate, max_connections },
        stop: Stop { duration: Some(length), requests: None },
        warmup: STEP_WARMUP,
        ..plan.clone()
    }
}

/// Long enough for the requests the step left on the target to finish: the oldest one's age plus a p99, within
/// [`MIN_DRAIN`] and the request timeout.
pub fn drain_pause(report: &LoadReport, timeout: Duration) -> Duration {
    let total = &report.aggregated;
    let backlog_us = total.in_flight.max_age_us.saturating_add(total.latency.at(99.0).unwrap_or(0));
    Duration::from_micros(backlog_us).clamp(MIN_DRAIN, timeout.max(MIN_DRAIN))
}

fn step_record(
    step: usize,
    phase: SearchPhase,
    offered_per_second: f64,
    report: &LoadReport,
    objective: &Objective,
    verdict: StepVerdict,
) -> StepRecord {
    let total = &report.aggregated;
    let open = report.rate.as_ref().and_then(|rate| rate.open.as_ref());
    let ((p50_us, p50_lower_bound), (p99_us, p99_lower_bound)) =
        (reported_latency(report, 50.0), reported_latency(report, 99.0));
    let (judged_percentile, judged_latency_us) = reported_percentile(report, objective.percentile);
    StepRecord {
        step,
        phase,
        offered_per_second,
        achieved_per_second: answered_per_second(report),
        duration_secs: report.duration_secs,
        p50_us,
        p50_lower_bound,
        p99_us,
        p99_lower_bound,
        judged_percentile,
        judged_latency_us,
        requests: total.count,
        failures: total.failures.total(),
        in_flight: total.in_flight.requests,
        connections_open: open.map_or(0, |open| open.most_open),
        bound_waits: open.map_or(0, |open| open.bound_waits),
        send_lag_p99_us: open.map_or(0, |open| open.send_lag_p99_us),
        generator_behind: open.is_some_and(|open| open.generator_behind),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Target, Task};

    fn plan(pacing: Pacing) -> LoadPlan {
        let (target, path) = Target::from_url("http://127.0.0.1:8000/health").unwrap();
        LoadPlan {
            target,
            tasks: vec![Task::new(path, 1)],
            pacing,
            stop: Stop { duration: Some(Duration::from_secs(60)), requests: None },
            warmup: Duration::ZERO,
            timeout: Duration::from_secs(5),
            threads: 1,
            cpu_affinity: None,
            agent: Default::default(),
            request: Default::default(),
        }
    }

    #[test]
    fn a_step_runs_at_open_rate_for_its_duration_keeping_the_bound() {
        let step =
            step_plan(&plan(Pacing::OpenRate { per_second: 1.0, max_connections: 77 }), 500.0, step_duration(500.0));
        assert_eq!(step.pacing, Pacing::OpenRate { per_second: 500.0, max_connections: 77 });
        assert_eq!(step.stop, Stop { duration: Some(Duration::from_secs(4)), requests: None });
        assert_eq!(step.warmup, STEP_WARMUP);
        let step = step_plan(&plan(Pacing::Concurrency { connections: 4 }), 50.0, step_duration(50.0));
        assert_eq!(step.pacing, Pacing::OpenRate { per_second: 50.0, max_connections: DEFAULT_MAX_CONNECTIONS });
    }

    #[test]
    fn bad_search_settings_name_their_flag() {
        let objective: Objective = "p99 <= 1s".parse().unwrap();
        let plan = plan(Pacing::Concurrency { connections: 1 });
        let bad = |config: SearchConfig| find_capacity(&plan, &objective, &config, |_| {}).unwrap_err().to_string();
        let base = SearchConfig::default();
        assert!(bad(SearchConfig { start_per_second: 0.0, ..base.clone() }).starts_with("--start-rate"));
        assert!(bad(SearchConfig { max_per_second: 1.0, ..base.clone() }).starts_with("--max-rate"));
        assert!(bad(SearchConfig { precision: 0.0, ..base }).starts_with("--precision"));
    }
}
