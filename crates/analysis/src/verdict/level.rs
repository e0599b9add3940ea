//! Whether figures show a difference between targets, decided from the ranges over repetitions the verdict reads:
//! a phase whose targets are all level gets one sentence on the page instead of charts of coinciding lines, and the
//! CPU, memory and scaling charts drop their panels by the same rule ([`figures_level`]).

use super::{p99_is_lower_bound, p99_us, MIN_REPETITIONS};
use crate::data::{RunView, Spread};
use crate::format;
use crate::select;

/// The figures of a phase whose targets are level on everything its charts draw. Such a phase gets a sentence
/// instead of charts of coinciding lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// The lowest and highest req/s of any target (closed loops only).
    pub throughput: Option<(f64, f64)>,
    /// The lowest and highest p99 latency in µs of any target.
    pub p99_us: (f64, f64),
    /// A p99 of some target lands among requests that had no answer: the span is one of lower bounds.
    pub p99_lower_bound: bool,
    pub targets: usize,
    pub basis: LevelBasis,
}

/// Why the targets count as level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LevelBasis {
    /// Every target ran this many repetitions (at least [`MIN_REPETITIONS`]) and their ranges share a common span.
    Repetitions(usize),
    /// The phase ran too few repetitions for ranges, so the targets' figures are compared with the run's own
    /// repeatability: they differ by at most this fraction, the median relative range (max − min) / median of
    /// every target x phase the run repeated [`MIN_REPETITIONS`] times or more (the larger of req/s's and p99's).
    RunSpread(f64),
}

/// Some when every target of `phase` is level with every other (see [`LevelBasis`]); None when they differ, when
/// fewer than two targets have figures or nothing tells the noise, and for a phase that kills a worker.
pub fn phase_level(report: &RunView<'_>, phase: usize) -> Option<Level> {
    if report.phases[phase].kills_a_worker() {
        return None;
    }
    let targets: Vec<usize> =
        report.phase_targets(phase).into_iter().filter(|&target| report.has_data(target, phase)).collect();
    if targets.len() < 2 {
        return None;
    }
    let closed = select::closed_loop(report, phase);
    let p99: Vec<Spread> = targets.iter().map(|&target| p99_spread(report, target, phase)).collect::<Option<_>>()?;
    let throughput: Option<Vec<Spread>> = match closed {
        true => Some(targets.iter().map(|&target| report.throughput(target, phase)).collect::<Option<_>>()?),
        false => None,
    };
    let repetitions = p99.iter().map(|spread| spread.n).min().unwrap_or(0);
    let basis = basis(repetitions, || {
        let p99_noise = run_spread(report, |target, phase| p99_spread(report, target, phase))?;
        let rate_noise = run_spread(report, |target, phase| report.throughput(target, phase).filter(|_| closed));
        Some(rate_noise.map_or(p99_noise, |rate| rate.max(p99_noise)))
    })?;
    let p99_us = common_span(&p99, basis)?;
    let throughput = match &throughput {
        Some(spreads) => Some(common_span(spreads, basis)?),
        None => None,
    };
    let p99_lower_bound = targets
        .iter()
        .any(|&target| report.measurements(target, phase).any(|measurement| p99_is_lower_bound(measurement.load)));
    Some(Level { throughput, p99_us, p99_lower_bound, targets: targets.len(), basis })
}

/// The span of figures that are level, and why they count as level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelSpan {
    pub low: f64,
    pub high: f64,
    pub basis: LevelBasis,
}

/// The rule every "do these targets differ?" of the report goes through: Some when the figures in `spreads` (one
/// per target, over its repetitions) are level, None when they differ, when there are fewer than two, or when
/// nothing tells the noise. `figure` gives the same figure for any target x phase: with fewer than
/// [`MIN_REPETITIONS`] repetitions the figures are held to the run's own repeatability of it.
pub fn figures_level(
    report: &RunView<'_>,
    spreads: &[Spread],
    figure: impl Fn(usize, usize) -> Option<Spread>,
) -> Option<LevelSpan> {
    if spreads.len() < 2 {
        return None;
    }
    let repetitions = spreads.iter().map(|spread| spread.n).min().unwrap_or(0);
    let basis = basis(repetitions, || run_spread(report, figure))?;
    let (low, high) = common_span(spreads, basis)?;
    Some(LevelSpan { low, high, basis })
}

/// Judged on the spreads' own ranges when every figure has [`MIN_REPETITIONS`] repetitions, else on the run's
/// repeatability (`noise`); None when the run repeated nothing to tell it.
fn basis(repetitions: usize, noise: impl FnOnce() -> Option<f64>) -> Option<LevelBasis> {
    if repetitions >= MIN_REPETITIONS {
        Some(LevelBasis::Repetitions(repetitions))
    } else {
        noise().map(LevelBasis::RunSpread)
    }
}

fn p99_spread(report: &RunView<'_>, target: usize, phase: usize) -> Option<Spread> {
    Spread::of(report.measurements(target, phase).filter_map(|m| p99_us(m.load)))
}

/// The median relative range of a figure over every target x phase repeated [`MIN_REPETITIONS`] times or more
/// (phases that kill a worker left out); None when the run repeated none.
fn run_spread(report: &RunView<'_>, figure: impl Fn(usize, usize) -> Option<Spread>) -> Option<f64> {
    let relative: Vec<f64> = (0..report.phases.len())
        .filter(|&phase| !report.phases[phase].kills_a_worker())
        .flat_map(|phase| (0..report.targets.len()).map(move |target| (target, phase)))
        .filter_map(|(target, phase)| figure(target, phase))
        .filter(|spread| spread.n >= MIN_REPETITIONS && spread.median > 0.0)
        .map(|spread| (spread.max - spread.min) / spread.median)
        .collect();
    Spread::of(relative).map(|spread| spread.median)
}

/// The overall min..max of spreads that are level on `basis`; else None.
fn common_span(spreads: &[Spread], basis: LevelBasis) -> Option<(f64, f64)> {
    let lowest = spreads.iter().map(|spread| spread.min).fold(f64::INFINITY, f64::min);
    let highest = spreads.iter().map(|spread| spread.max).fold(f64::NEG_INFINITY, f64::max);
    let level = match basis {
        LevelBasis::Repetitions(_) => {
            let highest_min = spreads.iter().map(|spread| spread.min).fold(f64::NEG_INFINITY, f64::max);
            let lowest_max = spreads.iter().map(|spread| spread.max).fold(f64::INFINITY, f64::min);
            highest_min <= lowest_max
        }
        LevelBasis::RunSpread(tolerance) => lowest > 0.0 && highest / lowest - 1.0 <= tolerance,
    };
    level.then_some((lowest, highest))
}

impl Level {
    /// "All 5 targets are level: 9.6–9.9 req/s, p99 101 ms–103 ms; their ranges over 3 repetitions overlap, so
    /// no chart is drawn (the table has each figure)."
    pub fn sentence(&self) -> String {
        let throughput = self
            .throughput
            .map(|(low, high)| format!("{}–{} req/s, ", format::rate(low), format::rate(high)))
            .unwrap_or_default();
        let why = self.basis.why();
        let p99 = format!("{}–{}", format::latency_us(self.p99_us.0), format::latency_us(self.p99_us.1));
        format!(
            "All {} targets are level: {throughput}p99 {}; {why}, so no chart is drawn (the table has each figure).",
            self.targets,
            format::at_least(p99, self.p99_lower_bound),
        )
    }
}

impl LevelBasis {
    /// "their ranges over 3 repetitions overlap", or how the run's repeatability was used instead.
    pub fn why(&self) -> String {
        match self {
            LevelBasis::Repetitions(n) => format!("their ranges over {n} repetitions overlap"),
            LevelBasis::RunSpread(tolerance) => format!(
                "with fewer than {MIN_REPETITIONS} repetitions, they differ by no more than one target's repetitions \
                 do in this run ({})",
                format::percent(*tolerance)
            ),
        }
    }
}
