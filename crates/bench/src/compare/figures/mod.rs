//! The figures `compare` judges, extracted from one run. Per target x phase: requests per CPU-second of the target
//! normalised by the run's calibration (CPU-bound and loopback-bound work), or for phases with `cpu_work` tasks the
//! share of the target's CPU time spent in that work, the raw figure of phases bound by the upstream's fixed delay,
//! the failure rate, the raw headline (shown only), and ratios between models of the same run. Each figure has a
//! stable name (the key in history.jsonl) and a key to match it across runs.

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
    /// Phases whose tasks ask for `cpu_work`: the CPU time those requests were calibrated to cost, per CPU-second
    /// of the target. The work is fixed in CPU time on every machine, so no calibration is needed; the rest of the
    /// target's CPU time is its server model's overhead.
    WorkShare,
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
            FigureKind::WorkShare => "work",
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
    /// Calibrated CPU work done per second of the target's CPU time (1.0: no overhead at all).
    WorkShare,
    FailureRate,
}

/// How a figure was made comparable across runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureBasis {
    /// A few words for the table's metric column, e.g. "normalised (CPU loop)".
    pub tag: String,
    /// The sentence the verdict repeats, e.g. "normalised by the CPU-loop calibration".
    pub words: String,
}

impl FigureBasis {
    fn new(tag: impl Into<String>, words: impl Into<String>) -> FigureBasis {
        FigureBasis { tag: tag.into(), words: words.into() }
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
    pub basis: FigureBasis,
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
    /// Calibrated `cpu_work` seconds per CPU-second of the target; None without `cpu_work` tasks or CPU time.
    work_share: Option<f64>,
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
    /// Some task asks for `cpu_work`: judged on [`FigureKind::WorkShare`].
    calibrated_work: bool,
    /// The calibration speed for this phase's work and how it was chosen; None without a calibration.
    speed: Option<(f64, FigureBasis)>,
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
    let work_share = per_cpu_second.zip(work_per_request(phase)).map(|(rate, work)| rate * work);
    let failure_rate = aggregated.failures.total() as f64 / aggregated.count as f64;
    Ok(Sample { repetition: phase.repetition, headline, per_cpu_second, work_share, failure_rate })
}

/// The calibrated CPU seconds an average request of the phase does (each task weighted as it is picked; tasks
/// without `cpu_work` count as none); None when no task has `cpu_work`.
fn work_per_request(phase: &PhaseResult) -> Option<f64> {
    if phase.endpoints.iter().all(|share| share.cpu_work.is_none()) {
        return None;
    }
    let total: f64 = phase.endpoints.iter().map(|share| f64::from(share.weight)).sum();
    let work: f64 = phase
        .endpoints
        .iter()
        .filter_map(|share| Some(f64::from(share.weight) * share.cpu_work.as_ref()?.measured_s))
        .sum();
    (total > 0.0).then(|| work / total)
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
        id: PhaseId { target: target.to_owned(), phase: phase.name.clone(), load_tag: load_tag(phase), key },
        shared_key,
        headline: metric_of(&phase.load_model),
        upstream_bound: classes.iter().all(|(class, _)| *class == WorkClass::Upstream),
        calibrated_work: work_per_request(phase).is_some(),
        speed: calibration.map(|calibration| phase_speed(&classes, calibration)),
        samples: vec![sample],
    });
}

fn shared_key(phase: &PhaseResult) -> String {
    let endpoints: Vec<String> = phase
        .endpoints
        .iter()
        .map(|share| match &share.cpu_work {
            Some(work) => format!("{}+{}*{}", share.path, cost_tag(work.requested_s), share.weight),
            None => format!("{}*{}", share.path, share.weight),
        })
        .collect();
    let load = serde_json::to_string(&phase.load_model).unwrap_or_default();
    format!("{}|{load}", endpoints.join(","))
}

fn metric_of(load: &LoadModel) -> Metric {
    match load {
        // A capacity phase's report is its last step at the rate it found: its req/s is the capacity.
        LoadModel::Concurrency { .. } | LoadModel::Capacity { .. } => Metric::Throughput,
        LoadModel::Users { .. } | LoadModel::Rate { .. } => Metric::MedianLatency,
    }
}

fn better_of(metric: Metric) -> Better {
    match metric {
        Metric::Throughput | Metric::RequestsPerCpuSecond | Metric::WorkShare => Better::Higher,
        Metric::MedianLatency | Metric::FailureRate => Better::Lower,
    }
}

/// "c16", "u10", "r200"; "c16+2ms" when a task asks for `cpu_work` (its requested cost), so that the figures of a
/// calibrated phase never share a history name with those of a phase sending a fixed count.
fn load_tag(phase: &PhaseResult) -> String {
    let load = match &phase.load_model {
        LoadModel::Concurrency { connections } => format!("c{connections}"),
        LoadModel::Users { users, .. } => format!("u{users}"),
        LoadModel::Rate { rate_per_s, .. } => format!("r{rate_per_s}"),
        LoadModel::Capacity { objective, .. } => format!("capacity[{}]", objective.replace(' ', "")),
    };
    match phase.endpoints.iter().find_map(|share| share.cpu_work.as_ref()) {
        Some(work) => format!("{load}+{}", cost_tag(work.requested_s)),
        None => load,
    }
}

/// A requested cost as written in suites: "2ms", "500us".
fn cost_tag(seconds: f64) -> String {
    let micros = (seconds * 1e6).round().max(0.0) as u64;
    humantime::format_duration(std::time::Duration::from_micros(micros)).to_string().replace(' ', "")
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
fn phase_speed(classes: &[(WorkClass, f64)], calibration: &Calibration) -> (f64, FigureBasis) {
    let speed_of = |class: WorkClass| match class {
        WorkClass::Cpu => calibration.cpu_speed(),
        WorkClass::Loopback | WorkClass::Upstream => calibration.round_trip_speed(),
    };
    let total: f64 = classes.iter().map(|(_, weight)| weight).sum();
    let log_speed: f64 = classes.iter().map(|(class, weight)| weight * speed_of(*class).ln()).sum::<f64>() / total;
    let all_cpu = classes.iter().all(|(class, _)| *class == WorkClass::Cpu);
    let none_cpu = classes.iter().all(|(class, _)| *class != WorkClass::Cpu);
    let basis = if all_cpu {
        FigureBasis::new(
            "normalised (CPU loop)",
            "per CPU-second of the target, normalised by the CPU-loop calibration",
        )
    } else if none_cpu {
        FigureBasis::new(
            "normalised (round trip)",
            "per CPU-second of the target, normalised by the loopback round-trip calibration",
        )
    } else {
        FigureBasis::new(
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
        let basis = FigureBasis::new(
            "upstream-bound, raw",
            "raw: paced by the upstream's fixed delay, the same on every machine",
        );
        figures.push(figure(group, FigureKind::UpstreamBound, group.headline, basis, true, headline, None));
    } else if group.calibrated_work {
        let samples: Vec<f64> = group.samples.iter().filter_map(|sample| sample.work_share).collect();
        if !samples.is_empty() {
            let basis = FigureBasis::new(
                "share of CPU in cpu_work",
                "the calibrated cpu_work seconds per CPU-second of the target: fixed in CPU time on every machine",
            );
            figures.push(figure(group, FigureKind::WorkShare, Metric::WorkShare, basis, true, samples, None));
        }
        let basis =
            FigureBasis::new("raw", "raw: not gated, absolute figures move between machines and with their load");
        figures.push(figure(group, FigureKind::Raw, group.headline, basis, false, headline, None));
    } else {
        if let Some((speed, basis)) = &group.speed {
            let samples: Vec<f64> =
                group.samples.iter().filter_map(|sample| sample.per_cpu_second).map(|value| value / speed).collect();
            if !samples.is_empty() {
                let metric = Metric::RequestsPerCpuSecond;
                figures.push(figure(group, FigureKind::Efficiency, metric, basis.clone(), true, samples, None));
            }
        }
        let basis =
            FigureBasis::new("raw", "raw: not gated, absolute figures move between machines and with their load");
        figures.push(figure(group, FigureKind::Raw, group.headline, basis, false, headline, None));
    }
    let failure_rates = group.samples.iter().map(|sample| sample.failure_rate).collect();
    let basis = FigureBasis::new("share", "failed requests / requests");
    figures.push(figure(group, FigureKind::FailureRate, Metric::FailureRate, basis, true, failure_rates, None));
    figures
}

/// For each phase run by several targets: every target but the first relative to the first, per repetition - the
/// headline for upstream-bound phases, the share of CPU in the calibrated work for `cpu_work` phases (each target's
/// count costs a little more or less than asked), requests per CPU-second otherwise (no calibration needed: it
/// cancels out). Gated only when the runs lack a calibration, as the efficiency figures then are missing.
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
        let value = |sample: &Sample| {
            if reference.upstream_bound {
                Some(sample.headline)
            } else if reference.calibrated_work {
                sample.work_share
            } else {
                sample.per_cpu_second
            }
        };
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
            let metric = if group.upstream_bound {
                group.headline
            } else if group.calibrated_work {
                Metric::WorkShare
            } else {
                Metric::RequestsPerCpuSecond
            };
            let basis = FigureBasis::new(
                format!("ratio to {}", reference.id.target),
                format!("ratio to {} on the same phase in the same run", reference.id.target),
            );
            let gated = !calibrated && !group.upstream_bound && !group.calibrated_work;
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
    basis: FigureBasis,
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
mod tests;
