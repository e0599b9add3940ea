//! A capacity phase's figures: the open-loop steps one run of a target measured while searching for (or confirming)
//! the highest rate it sustains with the latency objective met, and the estimate that run came to. The analysis
//! ranks targets on these estimates over the phase's repetitions, as it ranks req/s elsewhere.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What one run of a target in a capacity phase measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityResult {
    /// The objective in words, e.g. "p99 <= 250 ms, failures <= 0.1 %, achieved >= 98 % of offered".
    pub objective: String,
    /// The latency objective: its percentile and its bound, the line on the latency-versus-throughput chart.
    pub objective_percentile: f64,
    pub objective_latency_us: u64,
    /// The search (repetition 0) or a confirmation round (the found rate and the step above it, again).
    pub part: CapacityPart,
    /// In the order they ran.
    pub steps: Vec<CapacityStep>,
    /// This run's estimate: the highest offered rate at which the objective held; None when none did.
    pub capacity_per_second: Option<f64>,
    /// The estimate is a floor, not a limit found: no rate above it missed the objective (the search reached its
    /// highest rate, or the load generator fell behind its schedule first).
    pub at_least: bool,
    /// Why this run ended, in words.
    pub ended: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapacityPart {
    /// Exponential ramp, then bisection to within the search's precision.
    Search,
    /// The rate the search found and the step above it, run again on a fresh target process.
    Confirmation,
}

/// One open-loop step: a constant offered rate for a fixed time, judged against the objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityStep {
    pub offered_per_second: f64,
    /// Responses inside the step's window, per second.
    pub achieved_per_second: f64,
    pub duration_s: f64,
    /// Latency from the intended send time, requests still in flight at the close counted at their age.
    pub p50_us: u64,
    /// The p50 is a lower bound: it falls among requests still unanswered at the close.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub p50_lower_bound: bool,
    pub p99_us: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub p99_lower_bound: bool,
    /// The objective's own percentile (equal to p99 for a p99 objective).
    pub objective_latency_us: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub objective_lower_bound: bool,
    /// Failures over requests sent (answered, failed and still in flight at the close).
    pub failure_ratio: f64,
    /// Requests unanswered at the close.
    pub in_flight: u64,
    /// The most connections the load generator held open at once.
    pub connections: u64,
    /// The load generator could not keep its schedule (its connection bound, or its own lag): the step measured
    /// the generator, not the target, and ends the search.
    pub generator_behind: bool,
    /// The objective held.
    pub holds: bool,
    /// Each rule the step missed, in words ("p99 ≥ 4.95 s > 250 ms").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misses: Vec<String>,
}
