//! Capacity: the highest offered rate a target sustains while a latency objective holds. [`Objective`] and
//! [`judge`] read one step's report; [`Search`] is the pure state machine choosing the next rate; [`find_capacity`]
//! runs the steps with [`crate::run`] at open rate for the CLI and reports a [`CapacityReport`].

mod find;
mod objective;
mod search;

pub use find::{
    drain_pause, find_capacity, find_capacity_with, step_plan, CapacityReport, StepRecord, DEFAULT_MAX_CONNECTIONS,
    STEP_WARMUP,
};
pub use objective::{
    answered_per_second, generator_behind, judge, reported_latency, reported_percentile, Miss, Objective,
    ObjectiveError, StepVerdict, DEFAULT_MAX_FAILURE_RATIO, DEFAULT_MIN_ACHIEVED_RATIO, LAG_SHARE_OF_BOUND,
};
pub use search::{step_duration, CapacityOutcome, Search, SearchConfig, SearchEnd, SearchPhase, SearchStep, MAX_STEPS};
