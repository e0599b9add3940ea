//! [`Search`]: the capacity search as a pure state machine, as Envoy Nighthawk's adaptive load controller runs one.
//! It only says which rate to offer next and reads each step's verdict; the caller runs the steps (so a driver can
//! interleave targets). Exponential ramp (x2) while the objective holds, bisection between the last rate that held
//! and the first that missed until they are within the precision, then confirmation: the found rate and the one
//! above it re-run, stepping down by the precision when the found rate misses.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::objective::StepVerdict;

/// Steps a search takes at most, whatever the verdicts: a bound on the time it can run.
pub const MAX_STEPS: usize = 64;
/// Halvings below the start rate tried when even the start misses.
const MAX_HALVINGS: u32 = 6;
/// Times the found rate may step down after missing on confirmation.
const MAX_STEP_DOWNS: u32 = 5;
/// A step lasts long enough to judge a p99 - at least this long and this many requests - but no longer than the cap.
const MIN_STEP: Duration = Duration::from_secs(1);
const MIN_STEP_REQUESTS: f64 = 2_000.0;
const MAX_STEP: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// The first rate offered, requests per second.
    pub start_per_second: f64,
    /// The ramp stops here: a rate that holds at it ends the search with "at least" this capacity.
    pub max_per_second: f64,
    /// Bisection stops when the rate that missed is within this fraction above the rate that held (0.05 = 5 %).
    pub precision: f64,
    /// Re-runs of the found rate and the one above it.
    pub confirmations: u32,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig { start_per_second: 100.0, max_per_second: 1_000_000.0, precision: 0.05, confirmations: 3 }
    }
}

/// Where the search is, for the step it asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchPhase {
    /// Doubling from the start rate (or halving below it while even the start misses).
    Ramp,
    /// Halving the interval between the last rate that held and the first that missed.
    Bisect,
    /// Re-running the found rate and the one above it.
    Confirm,
    Done,
}

/// Why the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum SearchEnd {
    /// The found rate held on every confirmation.
    Confirmed,
    /// The maximum rate held: the capacity is at least that.
    MaxRateHeld,
    /// The generator fell behind its schedule at `per_second`: the capacity is at least the last rate that held.
    GeneratorBehind { per_second: f64 },
    /// Even the lowest rate tried missed the objective.
    NothingHeld,
    /// The found rate kept missing on confirmation, stepping down each time, until the bound on step-downs.
    Unstable,
    /// [`MAX_STEPS`] steps were taken.
    StepLimit,
}

/// One step the search was told about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchStep {
    pub phase: SearchPhase,
    pub per_second: f64,
    pub held: bool,
}

/// The search's answer so far (final once [`Search::next_rate`] is None).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityOutcome {
    /// The highest rate found to sustain the objective; None when nothing held.
    pub capacity_per_second: Option<f64>,
    /// The lowest and highest rate that held among the confirmation runs (or the capacity twice without them).
    pub range_per_second: Option<(f64, f64)>,
    /// The search stopped before finding the limit (maximum rate held, or the generator fell behind): the
    /// capacity is at least this.
    pub at_least: bool,
    pub steps: Vec<SearchStep>,
    /// None while the search runs.
    pub ended: Option<SearchEnd>,
}

#[derive(Debug, Clone)]
pub struct Search {
    config: SearchConfig,
    state: State,
    /// The highest rate that held outside confirmation, and the lowest that missed.
    held: Option<f64>,
    missed: Option<f64>,
    steps: Vec<SearchStep>,
    ended: Option<SearchEnd>,
}

#[derive(Debug, Clone)]
enum State {
    Ramp { next: f64, halvings: u32 },
    Bisect { next: f64 },
    Confirm(Confirmation),
}

/// The confirmation round: `queue` the rates still to run, `held_rates` those that held so far in this round.
#[derive(Debug, Clone)]
struct Confirmation {
    found: f64,
    queue: Vec<f64>,
    held_rates: Vec<f64>,
    step_downs: u32,
}

impl Search {
    pub fn new(config: SearchConfig) -> Search {
        let start = config.start_per_second.min(config.max_per_second);
        Search {
            config,
            state: State::Ramp { next: start, halvings: 0 },
            held: None,
            missed: None,
            steps: Vec::new(),
            ended: None,
        }
    }

    /// The rate to offer next; None when the search is done.
    pub fn next_rate(&self) -> Option<f64> {
        if self.ended.is_some() {
            return None;
        }
        match &self.state {
            State::Ramp { next, .. } | State::Bisect { next } => Some(*next),
            State::Confirm(round) => round.queue.last().copied(),
        }
    }

    /// The phase of the step [`Search::next_rate`] asks for.
    pub fn phase(&self) -> SearchPhase {
        match (&self.state, self.ended) {
            (_, Some(_)) => SearchPhase::Done,
            (State::Ramp { .. }, None) => SearchPhase::Ramp,
            (State::Bisect { .. }, None) => SearchPhase::Bisect,
            (State::Confirm(_), None) => SearchPhase::Confirm,
        }
    }

    /// Reads the verdict of the step run at `rate`.
    pub fn record(&mut self, rate: f64, verdict: StepVerdict) {
        if self.ended.is_some() {
            return;
        }
        self.steps.push(SearchStep { phase: self.phase(), per_second: rate, held: verdict.holds() });
        if matches!(verdict, StepVerdict::GeneratorBehind) {
            return self.end(SearchEnd::GeneratorBehind { per_second: rate });
        }
        let held = verdict.holds();
        match &self.state {
            State::Ramp { halvings, .. } => self.after_ramp(rate, held, *halvings),
            State::Bisect { .. } => {
                self.note(rate, held);
                self.narrow();
            }
            State::Confirm(round) => self.after_confirmation(round.clone(), rate, held),
        }
        if self.ended.is_none() && self.steps.len() >= MAX_STEPS {
            self.end(SearchEnd::StepLimit);
        }
    }

    pub fn outcome(&self) -> CapacityOutcome {
        let at_least = matches!(self.ended, Some(SearchEnd::MaxRateHeld | SearchEnd::GeneratorBehind { .. }));
        let capacity = match self.ended {
            Some(SearchEnd::NothingHeld | SearchEnd::Unstable) => None,
            _ => self.held,
        };
        let range = match (&self.state, self.ended) {
            (State::Confirm(round), Some(SearchEnd::Confirmed)) => round.range(),
            _ => capacity.map(|rate| (rate, rate)),
        };
        CapacityOutcome {
            capacity_per_second: capacity,
            range_per_second: range,
            at_least,
            steps: self.steps.clone(),
            ended: self.ended,
        }
    }

    fn after_ramp(&mut self, rate: f64, held: bool, halvings: u32) {
        self.note(rate, held);
        match (held, self.held) {
            (true, _) if rate >= self.config.max_per_second => self.end(SearchEnd::MaxRateHeld),
            (true, _) if self.missed.is_some() => self.narrow(),
            (true, _) => {
                let next = (rate * 2.0).min(self.config.max_per_second);
                self.state = State::Ramp { next, halvings };
            }
            (false, Some(_)) => self.narrow(),
            (false, None) if halvings >= MAX_HALVINGS => self.end(SearchEnd::NothingHeld),
            (false, None) => self.state = State::Ramp { next: rate / 2.0, halvings: halvings + 1 },
        }
    }

    fn note(&mut self, rate: f64, held: bool) {
        if held {
            self.held = Some(self.held.map_or(rate, |best| best.max(rate)));
        } else {
            self.missed = Some(self.missed.map_or(rate, |worst| worst.min(rate)));
        }
    }

    /// Bisects while the rates that held and missed are further apart than the precision, then confirms.
    fn narrow(&mut self) {
        let (Some(held), Some(missed)) = (self.held, self.missed) else { return self.end(SearchEnd::NothingHeld) };
        if missed <= held * (1.0 + self.config.precision) {
            self.confirm(held, missed, 0);
        } else {
            self.state = State::Bisect { next: (held + missed) / 2.0 };
        }
    }

    /// Queues `confirmations` runs each of the found rate and the one above it, the found rate first.
    fn confirm(&mut self, found: f64, above: f64, step_downs: u32) {
        if self.config.confirmations == 0 {
            self.held = Some(found);
            return self.end(SearchEnd::Confirmed);
        }
        let runs = self.config.confirmations as usize;
        // Popped from the back: found, above, found, above, ...
        let queue = [above, found].into_iter().cycle().take(2 * runs).collect();
        self.held = Some(found);
        self.state = State::Confirm(Confirmation { found, queue, held_rates: Vec::new(), step_downs });
    }

    fn after_confirmation(&mut self, mut round: Confirmation, rate: f64, held: bool) {
        round.queue.pop();
        if held {
            round.held_rates.push(rate);
        } else if rate <= round.found {
            if round.step_downs >= MAX_STEP_DOWNS {
                return self.end(SearchEnd::Unstable);
            }
            let lower = round.found * (1.0 - self.config.precision);
            return self.confirm(lower, round.found, round.step_downs + 1);
        }
        let done = round.queue.is_empty();
        self.state = State::Confirm(round);
        if done {
            self.end(SearchEnd::Confirmed);
        }
    }

    fn end(&mut self, why: SearchEnd) {
        self.ended = Some(why);
    }
}

impl Confirmation {
    /// The lowest and highest rate that held in this round.
    fn range(&self) -> Option<(f64, f64)> {
        let low = self.held_rates.iter().copied().reduce(f64::min)?;
        let high = self.held_rates.iter().copied().reduce(f64::max)?;
        Some((low, high))
    }
}

/// How long a step at `rate` runs: long enough to judge a p99 (at least 1 s and 2,000 requests), at most 10 s.
pub fn step_duration(rate: f64) -> Duration {
    let for_requests = if rate > 0.0 { MIN_STEP_REQUESTS / rate } else { MAX_STEP.as_secs_f64() };
    Duration::from_secs_f64(for_requests.min(MAX_STEP.as_secs_f64())).max(MIN_STEP)
}

#[cfg(test)]
mod tests;
