//! The figures `compare` judges, extracted from one run: per target x phase the headline metric over the
//! repetitions, raw, normalised by the run's calibration, as a ratio to another model in the same run, and the
//! failure rate. Each figure has a stable name (the key in history.jsonl) and a key to match it across runs.

use std::collections::BTreeMap;

use crate::calibration::{Calibration, WORKLOAD_VERSION};
use crate::results::{LoadModel, PhaseResult, RunResults, TargetStatus};

/// Which way is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// How a figure was made comparable across runs; also the order of a phase's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FigureKind {
    /// Divided (or, for latency, multiplied) by the run's calibration speed: gated.
    Normalised,
    /// Divided by another target's figure on the same phase and repetition: gated.
    Ratio,
    /// As measured: shown, never gated, because absolute figures move between machines.
    Raw,
    /// Failed requests / requests: gated on an absolute margin.
    FailureRate,
}

impl FigureKind {
    /// The prefix of the figure's name in history.jsonl.
    fn prefix(self) -> &'static str {
        match self {
            FigureKind::Normalised => "norm",
            FigureKind::Ratio => "ratio",
            FigureKind::Raw => "raw",
            FigureKind::FailureRate => "fail",
        }
    }

    pub fn gated(self) -> bool {
        self != FigureKind::Raw
    }
}

/// The headline metric of a phase, chosen by its load model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Closed loop at fixed concurrency: the server sets the pace, so throughput is the figure.
    Throughput,
    /// Users with think time or a fixed rate: the load sets the pace, so the median latency is the figure.
    MedianLatency,
    FailureRate,
}

/// One figure of one run, with a sample per repetition.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Stable name, the key in history.jsonl, e.g. "norm:sync/health@c50".
    pub name: String,
    /// What must be equal for two runs' figures to be compared: kind, target, endpoints, load, reference.
    pub match_key: String,
    pub target: String,
    pub phase: String,
    /// E.g. "c50" for 50 connections, "u10" for 10 users, "r200" for 200 req/s.
    pub load_tag: String,
    pub kind: FigureKind,
    pub metric: Metric,
    pub better: Better,
    pub basis: Basis,
    /// One value per repetition, in repetition order.
    pub samples: Vec<f64>,
}

/// How a figure was made comparable across runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    /// A few words for the table's metric column, e.g. "normalised (CPU loop)".
    pub tag: String,
    /// The sentence the verdict repeats, e.g. "normalised by the CPU-loop calibration".
    pub words: String,
}

impl Basis {
    fn new(tag: impl Into<String>, words: impl Into<String>) -> Basis {
        Basis { tag: tag.into(), words: words.into() }
    }
}

/// A target x phase that was measured, for reporting phases missing on one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseId {
    pub target: String,
    pub phase: String,
    pub load_tag: String,
    /// Target, endpoints and load: how phases are matched.
    pub key: String,
}

/// Everything `compare` takes from one run.
#[derive(Debug, Clone, Default)]
pub struct RunFigures {
    pub figures: Vec<Figure>,
    pub phases: Vec<PhaseId>,
    /// Targets that failed in this run, with the reason.
    pub failed_targets: Vec<(String, String)>,
    /// Phases skipped (interrupted, nothing measured), in words.
    pub notes: Vec<String>,
}

/// One repetition of a phase, reduced to what is compared.
#[derive(Debug, Clone, Copy)]
struct Sample {
    repetition: u32,
    headline: f64,
    failure_rate: f64,
}

/// The repetitions of one target x phase.
#[derive(Debug, Clone)]
struct PhaseGroup {
    id: PhaseId,
    /// Endpoints and load without the target: how phases of different targets are paired for ratios.
    shared_key: String,
    metric: Metric,
    /// Speed relative to the reference machine for this phase's work, and its description; None when the phase
    /// needs a calibration that the run does not have.
    speed: Option<(f64, Basis)>,
    samples: Vec<Sample>,
}

/// Whether a run's calibration can be used; `compare` uses it only when both runs have a usable one.
pub fn usable_calibration(run: &RunResults) -> Option<&Calibration> {
    run.calibration
        .as_ref()
        .filter(|calibration| calibration.is_usable() && calibration.workload_version == WORKLOAD_VERSION)
}

/// Extracts the figures of `run`; `calibration` is None when normalised figures must not be made (one of the
/// compared runs has none).
pub fn extract(run: &RunResults, calibration: Option<&Calibration>) -> RunFigures {
    let mut out = RunFigures::default();
    let mut groups: Vec<PhaseGroup> = Vec::new();
    for target in &run.targets {
        if let TargetStatus::Failed { reason, .. } = &target.status {
            out.failed_targets.push((target.name.clone(), reason.clone()));
        }
        for phase in &target.phases {
            match sample_of(phase) {
                Ok(sample) => add_sample(&mut groups, &target.name, phase, calibration, sample),
                Err(reason) => out.notes.push(format!(
                    "{} / {} repetition {}: skipped, {reason}",
                    target.name, phase.name, phase.repetition
                )),
            }
        }
    }
    for group in &mut groups {
        group.samples.sort_by_key(|sample| sample.repetition);
    }
    for group in &groups {
        out.phases.push(group.id.clone());
        out.figures.extend(own_figures(group));
    }
    out.figures.extend(ratio_figures(&groups));
    out
}

fn sample_of(phase: &PhaseResult) -> Result<Sample, String> {
    if phase.interrupted {
        return Err("the phase was interrupted".into());
    }
    let aggregated = &phase.load.aggregated;
    if aggregated.count == 0 {
        return Err("no request finished".into());
    }
    let headline = match metric_of(&phase.load_model) {
        Metric::Throughput => aggregated.requests_per_second,
        _ => aggregated.latency.median_us as f64 / 1000.0,
    };
    let failure_rate = aggregated.failures.total() as f64 / aggregated.count as f64;
    Ok(Sample { repetition: phase.repetition, headline, failure_rate })
}

fn add_sample(
    groups: &mut Vec<PhaseGroup>,
    target: &str,
    phase: &PhaseResult,
    calibration: Option<&Calibration>,
    sample: Sample,
) {
    let shared_key = shared_key(phase);
    let key = format!("{target}|{shared_key}");
    if let Some(group) = groups.iter_mut().find(|group| group.id.key == key) {
        group.samples.push(sample);
        return;
    }
    groups.push(PhaseGroup {
        id: PhaseId {
            target: target.to_owned(),
            phase: phase.name.clone(),
            load_tag: load_tag(&phase.load_model),
            key,
        },
        shared_key,
        metric: metric_of(&phase.load_model),
        speed: phase_speed(phase, calibration),
        samples: vec![sample],
    });
}

fn shared_key(phase: &PhaseResult) -> String {
    let endpoints: Vec<String> =
        phase.endpoints.iter().map(|share| format!("{}*{}", share.path, share.weight)).collect();
    let load = serde_json::to_string(&phase.load_model).unwrap_or_default();
    format!("{}|{load}", endpoints.join(","))
}

fn metric_of(load: &LoadModel) -> Metric {
    match load {
        LoadModel::Concurrency { .. } => Metric::Throughput,
        LoadModel::Users { .. } | LoadModel::Rate { .. } => Metric::MedianLatency,
    }
}

fn load_tag(load: &LoadModel) -> String {
    match load {
        LoadModel::Concurrency { connections } => format!("c{connections}"),
        LoadModel::Users { users, .. } => format!("u{users}"),
        LoadModel::Rate { rate_per_s, .. } => format!("r{rate_per_s}"),
    }
}

/// What bounds an endpoint's work, and so which calibration figure scales it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkClass {
    /// /cpu-intensive, /memory-intensive: the CPU loop.
    Cpu,
    /// /health and anything unknown: the loopback round trip (syscalls, wake-ups, parsing).
    Loopback,
    /// /sync-google, /async-google: the upstream's fixed delay, the same on every machine.
    Upstream,
}

fn work_class(path: &str) -> WorkClass {
    let path = path.split('?').next().unwrap_or(path);
    match path {
        "/cpu-intensive" | "/memory-intensive" => WorkClass::Cpu,
        "/sync-google" | "/async-google" => WorkClass::Upstream,
        _ => WorkClass::Loopback,
    }
}

/// The phase's speed relative to the reference machine: the weighted geometric mean of its endpoints' classes.
fn phase_speed(phase: &PhaseResult, calibration: Option<&Calibration>) -> Option<(f64, Basis)> {
    let classes: Vec<(WorkClass, f64)> =
        phase.endpoints.iter().map(|share| (work_class(&share.path), f64::from(share.weight.max(1)))).collect();
    let all = |class: WorkClass| classes.iter().all(|(each, _)| *each == class);
    if all(WorkClass::Upstream) {
        let words = "raw: bound by the upstream's fixed delay, the same on every machine";
        return Some((1.0, Basis::new("upstream-bound, raw", words)));
    }
    let calibration = calibration?;
    let speed_of = |class: WorkClass| match class {
        WorkClass::Cpu => calibration.cpu_speed(),
        WorkClass::Loopback => calibration.round_trip_speed(),
        WorkClass::Upstream => 1.0,
    };
    let total: f64 = classes.iter().map(|(_, weight)| weight).sum();
    let log_speed: f64 = classes.iter().map(|(class, weight)| weight * speed_of(*class).ln()).sum::<f64>() / total;
    let basis = if all(WorkClass::Cpu) {
        Basis::new("normalised (CPU loop)", "normalised by the CPU-loop calibration")
    } else if all(WorkClass::Loopback) {
        Basis::new("normalised (round trip)", "normalised by the loopback round-trip calibration")
    } else {
        Basis::new("normalised (mix)", "normalised by the calibrations, weighted by the endpoint mix")
    };
    Some((log_speed.exp(), basis))
}

fn own_figures(group: &PhaseGroup) -> Vec<Figure> {
    let headline: Vec<f64> = group.samples.iter().map(|sample| sample.headline).collect();
    let better = match group.metric {
        Metric::Throughput => Better::Higher,
        _ => Better::Lower,
    };
    let mut figures = vec![];
    if let Some((speed, basis)) = &group.speed {
        let scale = |value: f64| match group.metric {
            Metric::Throughput => value / speed,
            _ => value * speed,
        };
        let samples = headline.iter().copied().map(scale).collect();
        figures.push(figure(group, FigureKind::Normalised, group.metric, better, basis.clone(), samples, None));
    }
    let raw_basis = Basis::new("raw", "raw: not gated, absolute figures move between machines");
    figures.push(figure(group, FigureKind::Raw, group.metric, better, raw_basis, headline, None));
    let failure_rates = group.samples.iter().map(|sample| sample.failure_rate).collect();
    let failure_basis = Basis::new("share", "failed requests / requests");
    figures.push(figure(
        group,
        FigureKind::FailureRate,
        Metric::FailureRate,
        Better::Lower,
        failure_basis,
        failure_rates,
        None,
    ));
    figures
}

/// For each phase shared by several targets: every target but the first relative to the first, per repetition.
fn ratio_figures(groups: &[PhaseGroup]) -> Vec<Figure> {
    let mut by_shared_key: BTreeMap<&str, Vec<&PhaseGroup>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for group in groups {
        let entry = by_shared_key.entry(&group.shared_key).or_default();
        if entry.is_empty() {
            order.push(&group.shared_key);
        }
        entry.push(group);
    }
    let mut figures = Vec::new();
    for shared_key in order {
        let Some((reference, others)) = by_shared_key[shared_key].split_first() else { continue };
        for group in others {
            let samples: Vec<f64> = group
                .samples
                .iter()
                .filter_map(|sample| {
                    let paired = reference.samples.iter().find(|each| each.repetition == sample.repetition)?;
                    (paired.headline > 0.0).then(|| sample.headline / paired.headline)
                })
                .collect();
            if samples.is_empty() {
                continue;
            }
            let better = if group.metric == Metric::Throughput { Better::Higher } else { Better::Lower };
            let basis = Basis::new(
                format!("ratio to {}", reference.id.target),
                format!("ratio to {} on the same phase in the same run", reference.id.target),
            );
            let reference_name = Some(reference.id.target.as_str());
            figures.push(figure(group, FigureKind::Ratio, group.metric, better, basis, samples, reference_name));
        }
    }
    figures
}

fn figure(
    group: &PhaseGroup,
    kind: FigureKind,
    metric: Metric,
    better: Better,
    basis: Basis,
    samples: Vec<f64>,
    reference: Option<&str>,
) -> Figure {
    let id = &group.id;
    let subject = match reference {
        Some(reference) => format!("{}_vs_{reference}", id.target),
        None => id.target.clone(),
    };
    Figure {
        name: format!("{}:{subject}/{}@{}", kind.prefix(), id.phase, id.load_tag),
        match_key: format!("{kind:?}|{}|{}", id.key, reference.unwrap_or("")),
        target: id.target.clone(),
        phase: id.phase.clone(),
        load_tag: id.load_tag.clone(),
        kind,
        metric,
        better,
        basis,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::testing::{calibration, phase, run_with, target};

    #[test]
    fn throughput_is_normalised_by_the_matching_calibration() {
        let cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
        let health = phase("health", "/health", 0, 8000.0);
        let run = run_with(vec![target("sync", vec![cpu, health])], Some(calibration(2.0, 4.0)));
        let figures = extract(&run, usable_calibration(&run));
        let value = |name: &str| figures.figures.iter().find(|figure| figure.name == name).expect(name).samples[0];
        assert_eq!(value("norm:sync/cpu@c10"), 500.0);
        assert_eq!(value("norm:sync/health@c10"), 2000.0);
        assert_eq!(value("raw:sync/cpu@c10"), 1000.0);
        assert_eq!(value("fail:sync/cpu@c10"), 0.0);
    }

    #[test]
    fn upstream_bound_phases_need_no_calibration_and_others_are_skipped_without_one() {
        let google = phase("google", "/async-google", 0, 400.0);
        let cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
        let run = run_with(vec![target("async", vec![google, cpu])], None);
        let figures = extract(&run, None);
        let names: Vec<&str> = figures.figures.iter().map(|figure| figure.name.as_str()).collect();
        assert!(names.contains(&"norm:async/google@c10"), "{names:?}");
        assert!(!names.contains(&"norm:async/cpu@c10"), "{names:?}");
        assert!(names.contains(&"raw:async/cpu@c10"), "{names:?}");
    }

    #[test]
    fn ratios_pair_repetitions_against_the_first_target() {
        let sync =
            target("sync", vec![phase("cpu", "/cpu-intensive", 0, 100.0), phase("cpu", "/cpu-intensive", 1, 200.0)]);
        let asyn =
            target("async", vec![phase("cpu", "/cpu-intensive", 1, 100.0), phase("cpu", "/cpu-intensive", 0, 300.0)]);
        let run = run_with(vec![sync, asyn], None);
        let figures = extract(&run, None);
        let ratio = figures.figures.iter().find(|figure| figure.kind == FigureKind::Ratio).expect("a ratio");
        assert_eq!(ratio.name, "ratio:async_vs_sync/cpu@c10");
        assert_eq!(ratio.samples, vec![3.0, 0.5]);
        assert_eq!(figures.phases.len(), 2);
    }

    #[test]
    fn interrupted_and_empty_phases_are_skipped_with_a_note() {
        let mut interrupted = phase("cpu", "/cpu-intensive", 0, 100.0);
        interrupted.interrupted = true;
        let mut empty = phase("health", "/health", 0, 100.0);
        empty.load.aggregated.count = 0;
        let run = run_with(vec![target("sync", vec![interrupted, empty])], None);
        let figures = extract(&run, None);
        assert!(figures.figures.is_empty());
        assert_eq!(figures.notes.len(), 2, "{:?}", figures.notes);
        assert!(figures.notes[0].contains("interrupted"));
        assert!(figures.notes[1].contains("no request finished"));
    }
}
