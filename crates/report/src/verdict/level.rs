//! Whether a phase shows a difference between its targets, decided from the ranges over repetitions the verdict
//! reads: a phase whose targets are all level gets one sentence on the page instead of charts of coinciding lines.

use super::{p99_us, MIN_REPETITIONS};
use crate::data::{Report, Spread};
use crate::format;
use crate::select;

/// The figures of a phase whose targets are level on everything its charts draw: their ranges over the
/// repetitions share a common span for p99 latency and, in a closed loop, for req/s. Such a phase gets a sentence
/// instead of charts of coinciding lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// The lowest and highest req/s of any target's repetitions (closed loops only).
    pub throughput: Option<(f64, f64)>,
    /// The lowest and highest p99 latency in µs of any target's repetitions.
    pub p99_us: (f64, f64),
    pub targets: usize,
    pub repetitions: usize,
}

/// Some when every target of `phase` is level with every other (see [`Level`]); None when they differ, when fewer
/// than two targets or [`MIN_REPETITIONS`] repetitions leave it unknown, and for a phase that kills a worker.
pub fn phase_level(report: &Report<'_>, phase: usize) -> Option<Level> {
    if report.phases[phase].kills_a_worker() {
        return None;
    }
    let targets: Vec<usize> =
        report.phase_targets(phase).into_iter().filter(|&target| report.has_data(target, phase)).collect();
    if targets.len() < 2 {
        return None;
    }
    let p99: Vec<Spread> = targets
        .iter()
        .map(|&target| Spread::of(report.measurements(target, phase).filter_map(|m| p99_us(m.load))))
        .collect::<Option<_>>()?;
    let throughput = match select::closed_loop(report, phase) {
        true => Some(targets.iter().map(|&target| report.throughput(target, phase)).collect::<Option<Vec<_>>>()?),
        false => None,
    };
    let p99_us = common_span(&p99)?;
    let throughput = match &throughput {
        Some(spreads) => Some(common_span(spreads)?),
        None => None,
    };
    let repetitions = p99.iter().map(|spread| spread.n).min().unwrap_or(0);
    Some(Level { throughput, p99_us, targets: targets.len(), repetitions })
}

/// The overall min..max of spreads whose ranges all share a point, from enough repetitions each; else None.
fn common_span(spreads: &[Spread]) -> Option<(f64, f64)> {
    if spreads.iter().any(|spread| spread.n < MIN_REPETITIONS) {
        return None;
    }
    let highest_min = spreads.iter().map(|spread| spread.min).fold(f64::NEG_INFINITY, f64::max);
    let lowest_max = spreads.iter().map(|spread| spread.max).fold(f64::INFINITY, f64::min);
    let lowest = spreads.iter().map(|spread| spread.min).fold(f64::INFINITY, f64::min);
    let highest = spreads.iter().map(|spread| spread.max).fold(f64::NEG_INFINITY, f64::max);
    (highest_min <= lowest_max).then_some((lowest, highest))
}

impl Level {
    /// "All 5 targets are level: 9.6–9.9 req/s, p99 101 ms–103 ms; their ranges over 3 repetitions overlap, so
    /// no chart is drawn."
    pub fn sentence(&self) -> String {
        let throughput = self
            .throughput
            .map(|(low, high)| format!("{}–{} req/s, ", format::rate(low), format::rate(high)))
            .unwrap_or_default();
        format!(
            "All {} targets are level: {throughput}p99 {}–{}; their ranges over {} repetitions overlap, so no chart \
             is drawn (the table has each figure).",
            self.targets,
            format::latency_us(self.p99_us.0),
            format::latency_us(self.p99_us.1),
            self.repetitions
        )
    }
}
