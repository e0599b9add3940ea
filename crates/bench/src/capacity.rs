//! A capacity phase as the driver runs it on one fresh target: in repetition 0 the search (an exponential ramp of
//! open-loop steps, then a bisection to within 5 %, as Nighthawk's adaptive load controller does); in each later
//! repetition a confirmation round, the rate the search found and the step above it again. The schedule puts the
//! rounds of all targets one after the other, so the confirmations interleave across targets like any repetition.
//! Every step is judged against the objective with [`loadgen::capacity::judge`].

use std::time::Duration;

use loadgen::capacity::{self, Search, SearchConfig, SearchEnd, StepVerdict};
use loadgen::{LoadError, LoadPlan, LoadReport, RunControl};

use crate::results::{CapacityPart, CapacityResult, CapacityStep};
use crate::suite::{CapacitySpec, PRECISION};

/// Times a confirmation round steps down below a found rate that missed.
const MAX_STEP_DOWNS: u32 = 3;

/// What a capacity run is asked to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Round {
    Search,
    /// Confirm the rate the target's search found.
    Confirm {
        found: f64,
    },
}

/// A capacity run's figures: the report of the step that set its estimate (the highest rate that held, else the
/// last step), for the phase's ordinary figures, and every step.
pub struct CapacityRun {
    pub report: LoadReport,
    pub result: CapacityResult,
}

/// Runs `round` against the target `plan` points at. `floor` is the phase's `duration`, the shortest step. A
/// cancelled step ends the run with what was measured before it.
pub fn run(
    plan: &LoadPlan,
    spec: &CapacitySpec,
    floor: Duration,
    round: Round,
    control: &RunControl,
) -> Result<CapacityRun, LoadError> {
    let mut steps = Steps { plan, spec, floor, control, done: Vec::new() };
    let (part, ended) = match round {
        Round::Search => (CapacityPart::Search, steps.search()?),
        Round::Confirm { found } => (CapacityPart::Confirmation, steps.confirm(found)?),
    };
    let Steps { done, .. } = steps;
    let best = done
        .iter()
        .filter(|(step, _)| step.holds)
        .max_by(|a, b| a.0.offered_per_second.total_cmp(&b.0.offered_per_second));
    let capacity_per_second = best.map(|(step, _)| step.offered_per_second);
    let report = match best.or(done.last()) {
        Some((_, report)) => report.clone(),
        None => return Err(LoadError::Cancelled),
    };
    let at_least = matches!(ended, Ended::Search(SearchEnd::MaxRateHeld | SearchEnd::GeneratorBehind { .. }));
    let result = CapacityResult {
        objective: spec.objective.to_string(),
        objective_percentile: spec.objective.percentile,
        objective_latency_us: u64::try_from(spec.objective.max_latency.as_micros()).unwrap_or(u64::MAX),
        part,
        steps: done.into_iter().map(|(step, _)| step).collect(),
        capacity_per_second,
        at_least,
        ended: ended.words(),
    };
    Ok(CapacityRun { report, result })
}

/// Why a capacity run ended.
enum Ended {
    Search(SearchEnd),
    Confirmed { step_downs: u32 },
    Cancelled,
}

impl Ended {
    fn words(&self) -> String {
        match self {
            Ended::Search(SearchEnd::Confirmed) => "bisection within 5 %".to_owned(),
            Ended::Search(SearchEnd::MaxRateHeld) => {
                "the highest rate asked held: the capacity is at least it".to_owned()
            }
            Ended::Search(SearchEnd::GeneratorBehind { per_second }) => format!(
                "the load generator fell behind its schedule at {per_second:.0} req/s: the capacity is at least the \
                 last rate that held"
            ),
            Ended::Search(SearchEnd::NothingHeld) => "even the lowest rate tried missed the objective".to_owned(),
            Ended::Search(SearchEnd::Unstable) => "the found rate kept missing".to_owned(),
            Ended::Search(SearchEnd::StepLimit) => "the search reached its step limit".to_owned(),
            Ended::Confirmed { step_downs: 0 } => "the found rate and the step above it, run again".to_owned(),
            Ended::Confirmed { step_downs } => {
                format!("the found rate missed: stepped down {step_downs} time(s) by 5 %")
            }
            Ended::Cancelled => "cancelled".to_owned(),
        }
    }
}

/// The steps of one run, and how to run another.
struct Steps<'a> {
    plan: &'a LoadPlan,
    spec: &'a CapacitySpec,
    floor: Duration,
    control: &'a RunControl,
    done: Vec<(CapacityStep, LoadReport)>,
}

impl Steps<'_> {
    fn search(&mut self) -> Result<Ended, LoadError> {
        let mut search = Search::new(SearchConfig {
            start_per_second: self.spec.start_per_second,
            max_per_second: self.spec.max_per_second,
            precision: PRECISION,
            confirmations: 0,
        });
        while let Some(rate) = search.next_rate() {
            let Some(verdict) = self.step(rate)? else { return Ok(Ended::Cancelled) };
            search.record(rate, verdict);
        }
        Ok(search.outcome().ended.map_or(Ended::Cancelled, Ended::Search))
    }

    /// The found rate and the step above it; below a found rate that misses, steps down by the precision.
    fn confirm(&mut self, found: f64) -> Result<Ended, LoadError> {
        let mut rate = found;
        for step_downs in 0..=MAX_STEP_DOWNS {
            let Some(verdict) = self.step(rate)? else { return Ok(Ended::Cancelled) };
            if verdict.holds() || step_downs == MAX_STEP_DOWNS {
                if verdict.holds() && step_downs == 0 && self.step(rate * (1.0 + PRECISION))?.is_none() {
                    return Ok(Ended::Cancelled);
                }
                return Ok(Ended::Confirmed { step_downs });
            }
            rate *= 1.0 - PRECISION;
        }
        Ok(Ended::Confirmed { step_downs: MAX_STEP_DOWNS })
    }

    /// One step at `rate`, judged and kept; None when it was cancelled.
    fn step(&mut self, rate: f64) -> Result<Option<StepVerdict>, LoadError> {
        if let Some((_, last)) = self.done.last() {
            std::thread::sleep(capacity::drain_pause(last, self.plan.timeout));
        }
        if self.control.cancel.is_cancelled() {
            return Ok(None);
        }
        // The phase's plan is already open-rate with the spec's connection bound, which the step keeps.
        let plan = capacity::step_plan(self.plan, rate, self.spec.step_length(rate, self.floor));
        let report = loadgen::run(&plan, self.control)?;
        if report.cancelled {
            return Ok(None);
        }
        let verdict = capacity::judge(&report, rate, &self.spec.objective);
        self.done.push((step_figures(&report, rate, &self.spec.objective, &verdict), report));
        Ok(Some(verdict))
    }
}

fn step_figures(
    report: &LoadReport,
    offered_per_second: f64,
    objective: &capacity::Objective,
    verdict: &StepVerdict,
) -> CapacityStep {
    let total = &report.aggregated;
    let at = |percentile: f64| capacity::reported_latency(report, percentile);
    let ((p50_us, p50_lower_bound), (p99_us, p99_lower_bound)) = (at(50.0), at(99.0));
    let (objective_latency_us, objective_lower_bound) = at(objective.percentile);
    let sent = total.count + total.in_flight.requests;
    let open = report.rate.as_ref().and_then(|rate| rate.open.as_ref());
    CapacityStep {
        offered_per_second,
        achieved_per_second: capacity::answered_per_second(report),
        duration_s: report.duration_secs,
        p50_us,
        p50_lower_bound,
        p99_us,
        p99_lower_bound,
        objective_latency_us,
        objective_lower_bound,
        failure_ratio: if sent == 0 { 0.0 } else { total.failures.total() as f64 / sent as f64 },
        in_flight: total.in_flight.requests,
        connections: open.map_or(0, |open| open.most_open),
        generator_behind: matches!(verdict, StepVerdict::GeneratorBehind),
        holds: verdict.holds(),
        misses: match verdict {
            StepVerdict::Misses(misses) => misses.iter().map(ToString::to_string).collect(),
            _ => Vec::new(),
        },
    }
}
