//! A `load = "capacity"` phase: the objective a target must meet (`objective = "p99 <= 250ms"`) and the bounds of
//! the search for the highest open-loop rate at which it does, checked into a [`CapacitySpec`].

use std::time::Duration;

use loadgen::capacity::Objective;
use toml::Spanned;

use super::raw::RawPhase;
use super::{Context, SuiteError};

/// The fields a capacity phase takes.
pub(super) const FIELDS: [&str; 6] =
    ["objective", "start_rate", "max_rate", "max_connections", "confirmations", "step_requests"];

/// The search's first rate when the suite names none: below any server's capacity, a step of 2,000 requests
/// still only 10 s at it.
const DEFAULT_START_RATE: f64 = 200.0;
const DEFAULT_MAX_RATE: f64 = 100_000.0;
const DEFAULT_MAX_CONNECTIONS: u32 = 10_000;
const DEFAULT_CONFIRMATIONS: u32 = 3;
/// Requests a step measures at least, to judge a p99 on some twenty requests above it.
const DEFAULT_STEP_REQUESTS: u32 = 2_000;
/// The fewest a suite may ask: a p99 needs a hundred requests to mean anything.
const MIN_STEP_REQUESTS: u32 = 100;
/// The longest step, however low the rate: a search must end within the run's time.
const MAX_STEP: Duration = Duration::from_secs(10);

/// How a capacity phase searches.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacitySpec {
    pub objective: Objective,
    /// The ramp's first rate (it halves below it when even that misses) and its last.
    pub start_per_second: f64,
    pub max_per_second: f64,
    /// The open-loop connections each step may hold at once.
    pub max_connections: u32,
    /// Rounds, after the search, in which every target runs the rate it found and the step above it again.
    pub confirmations: u32,
    /// A step measures at least this many requests (and at least the phase's `duration`, at most 10 s).
    pub step_requests: u32,
}

/// The bisection stops when the rate that missed is within this fraction above the one that held.
pub const PRECISION: f64 = 0.05;

impl CapacitySpec {
    /// How long a step at `per_second` measures: `step_requests` at that rate, at least `floor`, at most 10 s
    /// (unless `floor` asks for more).
    pub fn step_length(&self, per_second: f64, floor: Duration) -> Duration {
        let for_requests = Duration::from_secs_f64(f64::from(self.step_requests) / per_second.max(1e-3));
        for_requests.min(MAX_STEP).max(floor)
    }
}

impl Context<'_> {
    pub(super) fn capacity(&self, raw: &RawPhase) -> Result<CapacitySpec, SuiteError> {
        if let Some(at) = &raw.kill_worker_at {
            let message = "a capacity phase kills no worker: its steps judge a steady target";
            return Err(self.error(at.span(), "kill_worker_at", message));
        }
        let objective = raw.objective.as_ref().ok_or_else(|| self.error(raw.load.span(), "objective", "missing"))?;
        let objective: Objective =
            objective.get_ref().parse().map_err(|error: loadgen::capacity::ObjectiveError| {
                self.error(objective.span(), "objective", error.to_string())
            })?;
        let start_per_second = self.rate_field(raw.start_rate.as_ref(), "start_rate", DEFAULT_START_RATE)?;
        let max_per_second = self.rate_field(raw.max_rate.as_ref(), "max_rate", DEFAULT_MAX_RATE)?;
        if max_per_second < start_per_second {
            let span = raw.max_rate.as_ref().or(raw.start_rate.as_ref()).map_or(raw.load.span(), Spanned::span);
            return Err(self.error(span, "max_rate", "must be at or above `start_rate`"));
        }
        let max_connections =
            self.count_field(raw.max_connections.as_ref(), "max_connections", DEFAULT_MAX_CONNECTIONS, 1)?;
        let confirmations = self.count_field(raw.confirmations.as_ref(), "confirmations", DEFAULT_CONFIRMATIONS, 0)?;
        let step_requests =
            self.count_field(raw.step_requests.as_ref(), "step_requests", DEFAULT_STEP_REQUESTS, MIN_STEP_REQUESTS)?;
        Ok(CapacitySpec { objective, start_per_second, max_per_second, max_connections, confirmations, step_requests })
    }

    fn rate_field(&self, raw: Option<&Spanned<f64>>, field: &str, default: f64) -> Result<f64, SuiteError> {
        match raw {
            None => Ok(default),
            Some(spanned) if spanned.get_ref().is_finite() && *spanned.get_ref() > 0.0 => Ok(*spanned.get_ref()),
            Some(spanned) => Err(self.error(spanned.span(), field, "must be a positive number of requests per second")),
        }
    }

    fn count_field(
        &self,
        raw: Option<&Spanned<u32>>,
        field: &str,
        default: u32,
        least: u32,
    ) -> Result<u32, SuiteError> {
        match raw {
            None => Ok(default),
            Some(spanned) if *spanned.get_ref() >= least => Ok(*spanned.get_ref()),
            Some(spanned) => Err(self.error(spanned.span(), field, format!("must be >= {least}"))),
        }
    }
}
