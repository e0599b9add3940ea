//! The figures `compare` judges, extracted from one run. Per target x phase: requests per CPU-second of the target
//! normalised by the run's calibration (CPU-bound and loopback-bound work), the raw figure of phases bound by the
//! upstream's fixed delay, the failure rate, the raw headline (shown only), and ratios between models of the same
//! run. Each figure has a stable name (the key in history.jsonl) and a key to match it across runs.

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
    /// Requests per CPU-second of the target, divided by the calibration's speed: what a request costs, whatever
    /// else competed for the cores during the run.
    Efficiency,
    /// The headline of a phase whose pace is the upstream's fixed delay: the same on every machine, used raw.
    UpstreamBound,
    /// A target's figure divided by the first target's on the same phase and repetition.
    Ratio,
    /// The headline as measured: shown, never gated, because absolute figures move between machines and loads.
    Raw,
    /// Failed requests / requests, gated on an absolute margin.
    FailureRate,
}

impl FigureKind {
    /// The prefix of the figure's name in history.jsonl.
    fn prefix(self) -> &'static str {
        match self {
            FigureKind::Efficiency => "eff",
            FigureKind::UpstreamBound => "upstream",
            FigureKind::Ratio => "ratio",
            FigureKind::Raw => "raw",
            FigureKind::FailureRate => "fail",
        }
    }
}

/// What a figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Requests per wall second: the headline of a closed loop at fixed concurrency (the server sets the pace).
    Throughput,
    /// Median latency in ms: the headline under users with think time or a fixed rate (the load sets the pace).
    MedianLatency,
    /// Requests per second of the target's CPU time (its whole process tree).
    RequestsPerCpuSecond,
    FailureRate,
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

/// One figure of one run, with a sample per repetition.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Stable name, the key in history.jsonl, e.g. "eff:sync/cpu@c16".
    pub name: String,
    /// What must be equal for two runs' figures to be compared: kind, target, endpoints, load, reference.
    pub match_key: String,
    pub target: String,
    pub phase: String,
    /// E.g. "c16" for 16 connections, "u10" for 10 users, "r200" for 200 req/s.
    pub load_tag: String,
    pub kind: FigureKind,
    pub metric: Metric,
    pub better: Better,
    pub basis: Basis,
    /// Whether a regression of this figure fails the comparison.
    pub gated: bool,
    /// One value per repetition, in repetition order.
    pub samples: Vec<f64>,
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
    /// Requests per CPU-second of the target; None when its CPU time was not measured.
    per_cpu_second: Option<f64>,
    failure_rate: f64,
}

/// The repetitions of one target x phase.
#[derive(Debug, Clone)]
struct PhaseGroup {
    id: PhaseId,
    /// Endpoints and load without the target: how phases of different targets are paired for ratios.
    shared_key: String,
    headline: Metric,
    upstream_bound: bool,
    /// The calibration speed for this phase's work and how it was chosen; None without a calibration.
    speed: Option<(f64, Basis)>,
    samples: Vec<Sample>,
}

/// The calibration `compare` may use: usable, of the current workload.
pub fn usable_calibration(run: &RunResults) -> Option<&Calibration> {
    run.calibration
        .as_ref()
        .filter(|calibration| calibration.is_usable() && calibration.workload_version == WORKLOAD_VERSION)
}

/// Extracts the figures of `run`. `calibration` is None when one of the compared runs has none: then no
/// efficiency figure is made and the ratios between models are gated in their place.
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
    out.figures.extend(ratio_figures(&groups, calibration.is_some()));
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
    let cores = phase.resources.summary.cpu_cores_avg;
    let per_cpu_second = (cores > 0.0 && cores.is_finite()).then(|| aggregated.requests_per_second / cores);
    let failure_rate = aggregated.failures.total() as f64 / aggregated.count as f64;
    Ok(Sample { repetition: phase.repetition, headline, per_cpu_second, failure_rate })
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
    let classes = work_classes(phase);
    groups.push(PhaseGroup {
        id: PhaseId {
            target: target.to_owned(),
            phase: phase.name.clone(),
            load_tag: load_tag(&phase.load_model),
            key,
        },
        shared_key,
        headline: metric_of(&phase.load_model),
        upstream_bound: classes.iter().all(|(class, _)| *class == WorkClass::Upstream),
        speed: calibration.map(|calibration| phase_speed(&classes, calibration)),
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

fn better_of(metric: Metric) -> Better {
    match metric {
        Metric::Throughput | Metric::RequestsPerCpuSecond => Better::Higher,
        Metric::MedianLatency | Metric::FailureRate => Better::Lower,
    }
}

fn load_tag(load: &LoadModel) -> String {
    match load {
        LoadModel::Concurrency { connections } => format!("c{connections}"),
        LoadModel::Users { users, .. } => format!("u{users}"),
        LoadModel::Rate { rate_per_s, .. } => format!("r{rate_per_s}"),
    }
}

/// What bounds an endpoint's work, and so which calibration figure scales its cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkClass {
    /// /cpu-intensive, /memory-intensive: the CPU loop.
    Cpu,
    /// /health and anything unknown: the loopback round trip (syscalls, wake-ups, parsing).
    Loopback,
    /// /sync-google, /async-google: the upstream's fixed delay, the same on every machine.
    Upstream,
}

fn work_classes(phase: &PhaseResult) -> Vec<(WorkClass, f64)> {
    phase.endpoints.iter().map(|share| (work_class(&share.path), f64::from(share.weight.max(1)))).collect()
}

fn work_class(path: &str) -> WorkClass {
    let path = path.split('?').next().unwrap_or(path);
    match path {
        "/cpu-intensive" | "/memory-intensive" => WorkClass::Cpu,
        "/sync-google" | "/async-google" => WorkClass::Upstream,
        _ => WorkClass::Loopback,
    }
}

/// The calibration speed for a phase's work: the weighted geometric mean of its endpoints' classes (the loopback
/// figure for upstream calls, whose CPU cost is their HTTP exchange).
fn phase_speed(classes: &[(WorkClass, f64)], calibration: &Calibration) -> (f64, Basis) {
    let speed_of = |class: WorkClass| match class {
        WorkClass::Cpu => calibration.cpu_speed(),
        WorkClass::Loopback | WorkClass::Upstream => calibration.round_trip_speed(),
    };
    let total: f64 = classes.iter().map(|(_, weight)| weight).sum();
    let log_speed: f64 = classes.iter().map(|(class, weight)| weight * speed_of(*class).ln()).sum::<f64>() / total;
    let all_cpu = classes.iter().all(|(class, _)| *class == WorkClass::Cpu);
    let none_cpu = classes.iter().all(|(class, _)| *class != WorkClass::Cpu);
    let basis = if all_cpu {
        Basis::new("normalised (CPU loop)", "per CPU-second of the target, normalised by the CPU-loop calibration")
    } else if none_cpu {
        Basis::new(
            "normalised (round trip)",
            "per CPU-second of the target, normalised by the loopback round-trip calibration",
        )
    } else {
        Basis::new(
            "normalised (mix)",
            "per CPU-second of the target, normalised by the calibrations of its endpoint mix",
        )
    };
    (log_speed.exp(), basis)
}

fn own_figures(group: &PhaseGroup) -> Vec<Figure> {
    let headline: Vec<f64> = group.samples.iter().map(|sample| sample.headline).collect();
    let mut figures = vec![];
    if group.upstream_bound {
        let basis =
            Basis::new("upstream-bound, raw", "raw: paced by the upstream's fixed delay, the same on every machine");
        figures.push(figure(group, FigureKind::UpstreamBound, group.headline, basis, true, headline, None));
    } else {
        if let Some((speed, basis)) = &group.speed {
            let samples: Vec<f64> =
                group.samples.iter().filter_map(|sample| sample.per_cpu_second).map(|value| value / speed).collect();
            if !samples.is_empty() {
                let metric = Metric::RequestsPerCpuSecond;
                figures.push(figure(group, FigureKind::Efficiency, metric, basis.clone(), true, samples, None));
            }
        }
        let basis = Basis::new("raw", "raw: not gated, absolute figures move between machines and with their load");
        figures.push(figure(group, FigureKind::Raw, group.headline, basis, false, headline, None));
    }
    let failure_rates = group.samples.iter().map(|sample| sample.failure_rate).collect();
    let basis = Basis::new("share", "failed requests / requests");
    figures.push(figure(group, FigureKind::FailureRate, Metric::FailureRate, basis, true, failure_rates, None));
    figures
}

/// For each phase run by several targets: every target but the first relative to the first, per repetition - the
/// headline for upstream-bound phases, requests per CPU-second otherwise (no calibration needed: it cancels out).
/// Gated only when the runs lack a calibration, as the efficiency figures then are missing.
fn ratio_figures(groups: &[PhaseGroup], calibrated: bool) -> Vec<Figure> {
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
        let value =
            |sample: &Sample| if reference.upstream_bound { Some(sample.headline) } else { sample.per_cpu_second };
        for group in others {
            let samples: Vec<f64> = group
                .samples
                .iter()
                .filter_map(|sample| {
                    let paired = reference.samples.iter().find(|each| each.repetition == sample.repetition)?;
                    let (mine, theirs) = (value(sample)?, value(paired)?);
                    (theirs > 0.0).then(|| mine / theirs)
                })
                .collect();
            if samples.is_empty() {
                continue;
            }
            let metric = if group.upstream_bound { group.headline } else { Metric::RequestsPerCpuSecond };
            let basis = Basis::new(
                format!("ratio to {}", reference.id.target),
                format!("ratio to {} on the same phase in the same run", reference.id.target),
            );
            let gated = !calibrated && !group.upstream_bound;
            let reference_name = Some(reference.id.target.as_str());
            figures.push(figure(group, FigureKind::Ratio, metric, basis, gated, samples, reference_name));
        }
    }
    figures
}

fn figure(
    group: &PhaseGroup,
    kind: FigureKind,
    metric: Metric,
    basis: Basis,
    gated: bool,
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
        better: better_of(metric),
        basis,
        gated,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::testing::{calibration, phase, run_with, target};

    fn value(figures: &RunFigures, name: &str) -> f64 {
        figures.figures.iter().find(|figure| figure.name == name).unwrap_or_else(|| panic!("{name}")).samples[0]
    }

    #[test]
    fn requests_per_cpu_second_are_normalised_by_the_matching_calibration() {
        // 1000 req/s on half a core = 2000 requests per CPU-second.
        let cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
        let health = phase("health", "/health", 0, 8000.0);
        let run = run_with(vec![target("sync", vec![cpu, health])], Some(calibration(2.0, 4.0)));
        let figures = extract(&run, usable_calibration(&run));
        assert_eq!(value(&figures, "eff:sync/cpu@c10"), 1000.0);
        assert_eq!(value(&figures, "eff:sync/health@c10"), 4000.0);
        assert_eq!(value(&figures, "raw:sync/cpu@c10"), 1000.0);
        assert_eq!(value(&figures, "fail:sync/cpu@c10"), 0.0);
        let gated: Vec<&str> =
            figures.figures.iter().filter(|figure| figure.gated).map(|figure| figure.name.as_str()).collect();
        assert_eq!(gated, vec!["eff:sync/cpu@c10", "fail:sync/cpu@c10", "eff:sync/health@c10", "fail:sync/health@c10"]);
    }

    #[test]
    fn upstream_bound_phases_are_gated_raw_and_need_no_calibration() {
        let google = phase("google", "/async-google", 0, 400.0);
        let cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
        let run = run_with(vec![target("async", vec![google, cpu])], None);
        let figures = extract(&run, None);
        let names: Vec<&str> = figures.figures.iter().map(|figure| figure.name.as_str()).collect();
        assert!(names.contains(&"upstream:async/google@c10"), "{names:?}");
        assert!(!names.contains(&"raw:async/google@c10"), "no duplicate raw row: {names:?}");
        assert!(!names.iter().any(|name| name.starts_with("eff:")), "{names:?}");
        assert!(names.contains(&"raw:async/cpu@c10"), "{names:?}");
    }

    #[test]
    fn ratios_pair_repetitions_against_the_first_target_and_are_gated_only_without_calibration() {
        let sync =
            target("sync", vec![phase("cpu", "/cpu-intensive", 0, 100.0), phase("cpu", "/cpu-intensive", 1, 200.0)]);
        let asyn =
            target("async", vec![phase("cpu", "/cpu-intensive", 1, 100.0), phase("cpu", "/cpu-intensive", 0, 300.0)]);
        let uncalibrated = run_with(vec![sync.clone(), asyn.clone()], None);
        let figures = extract(&uncalibrated, None);
        let ratio = figures.figures.iter().find(|figure| figure.kind == FigureKind::Ratio).expect("a ratio");
        assert_eq!(ratio.name, "ratio:async_vs_sync/cpu@c10");
        assert_eq!(ratio.metric, Metric::RequestsPerCpuSecond);
        assert_eq!(ratio.samples, vec![3.0, 0.5]);
        assert!(ratio.gated);
        assert_eq!(figures.phases.len(), 2);

        let calibrated = run_with(vec![sync, asyn], Some(calibration(1.0, 1.0)));
        let figures = extract(&calibrated, usable_calibration(&calibrated));
        let ratio = figures.figures.iter().find(|figure| figure.kind == FigureKind::Ratio).expect("a ratio");
        assert!(!ratio.gated);
    }

    #[test]
    fn a_phase_without_cpu_time_has_no_efficiency_figure() {
        let mut cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
        cpu.resources.summary.cpu_cores_avg = 0.0;
        let run = run_with(vec![target("external", vec![cpu])], Some(calibration(1.0, 1.0)));
        let figures = extract(&run, usable_calibration(&run));
        assert!(!figures.figures.iter().any(|figure| figure.kind == FigureKind::Efficiency));
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
