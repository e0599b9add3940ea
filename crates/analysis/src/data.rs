//! [`RunView`]: a results file as the judging reads it: its targets, the suite's phases in run order, each
//! measurement's load report, and the figures verdicts, claims and charts need (spread over repetitions, merged
//! latency histograms). Every finding and every figure the report draws is derived here or from here.

use hdrhistogram::Histogram;
use loadgen::{LatencyBasis, LatencySummary, LoadReport};
use results::{EndpointShare, Family, LoadModel, PhaseResult, RunResults, TargetResult, TargetStatus, WorkerLoad};

use crate::endpoint::path_only;

/// The results and what was derived from them.
pub struct RunView<'a> {
    pub results: &'a RunResults,
    pub targets: Vec<TargetView<'a>>,
    pub phases: Vec<PhaseInfo<'a>>,
    pub measurements: Vec<Measurement<'a>>,
    /// Latency merged over repetitions, indexed `[target][phase]`; None where nothing was measured.
    latencies: Vec<Vec<Option<MergedLatency>>>,
    /// What could not be read (a histogram that does not decode); shown at the top of the page.
    pub warnings: Vec<String>,
}

/// One target of the run.
pub struct TargetView<'a> {
    pub result: &'a TargetResult,
}

/// One phase of the suite (the same name across targets and repetitions).
pub struct PhaseInfo<'a> {
    pub name: &'a str,
    /// The first measurement of this phase: endpoints, load model and durations are the same in every one.
    pub example: &'a PhaseResult,
    pub repetitions: u32,
    /// The phase SIGKILLed a process of its targets mid-way (`kill_worker_at`).
    pub kills: bool,
}

/// One target x phase x repetition.
pub struct Measurement<'a> {
    pub target: usize,
    pub phase: usize,
    pub result: &'a PhaseResult,
    /// The load generator's report (`result.load`), for brevity.
    pub load: &'a LoadReport,
}

/// Median, min and max of a figure over the repetitions that measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

/// A latency distribution merged over repetitions (exactly: HdrHistograms add).
pub struct MergedLatency {
    pub basis: LatencyBasis,
    /// The answers' latencies (empty when only censored requests were recorded).
    pub histogram: Histogram<u64>,
    /// Rate mode: the uncorrected service time of the same responses.
    pub service_time: Option<Histogram<u64>>,
    /// The answers' exact min and max (min is `u64::MAX` without answers).
    pub min_us: u64,
    pub max_us: u64,
    /// Requests without an answer counted as lower bounds at their age (loadgen's `LatencySummary::censored`),
    /// None when there were none: percentiles are read over the answers and these together.
    pub censored: Option<Histogram<u64>>,
}

/// A percentile over the answers and the censored requests together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyAt {
    pub us: f64,
    /// It lands among the censored requests (above the slowest answer): the latency is at least `us`.
    pub lower_bound: bool,
}

impl<'a> RunView<'a> {
    pub fn new(results: &'a RunResults) -> RunView<'a> {
        let targets = results.targets.iter().map(|result| TargetView { result }).collect();
        let phases = collect_phases(&results.targets);
        let mut measurements = Vec::new();
        for (target_index, target) in results.targets.iter().enumerate() {
            for result in &target.phases {
                let Some(phase_index) = phases.iter().position(|phase| phase.name == result.name) else { continue };
                measurements.push(Measurement { target: target_index, phase: phase_index, result, load: &result.load });
            }
        }
        let mut report =
            RunView { results, targets, phases, measurements, latencies: Vec::new(), warnings: Vec::new() };
        report.latencies = report.merge_latencies();
        report
    }

    pub fn target_name(&self, target: usize) -> &'a str {
        &self.targets[target].result.name
    }

    /// Every repetition of `phase` measured on `target`.
    pub fn measurements(&self, target: usize, phase: usize) -> impl Iterator<Item = &Measurement<'a>> {
        self.measurements.iter().filter(move |m| m.target == target && m.phase == phase)
    }

    pub fn has_data(&self, target: usize, phase: usize) -> bool {
        self.measurements(target, phase).next().is_some()
    }

    /// Whether `target` belongs in `phase`'s charts and tables: it has figures there, or it should have had them
    /// (it failed, or the run was cut short). A healthy target of a complete run without figures in a phase was
    /// simply not in it (suites can run a phase on some targets only) and is left out rather than shown missing.
    pub fn in_phase(&self, target: usize, phase: usize) -> bool {
        self.has_data(target, phase) || self.targets[target].failure().is_some() || self.results.partial
    }

    /// The targets that belong in `phase`, in suite order.
    pub fn phase_targets(&self, phase: usize) -> Vec<usize> {
        (0..self.targets.len()).filter(|&target| self.in_phase(target, phase)).collect()
    }

    /// Successful responses per second over the repetitions.
    pub fn throughput(&self, target: usize, phase: usize) -> Option<Spread> {
        Spread::of(self.measurements(target, phase).filter_map(Measurement::successful_per_second))
    }

    /// A capacity phase's estimates over its repetitions (the search's and each confirmation's), req/s.
    pub fn capacity(&self, target: usize, phase: usize) -> Option<Spread> {
        Spread::of(self.measurements(target, phase).filter_map(|m| m.result.capacity.as_ref()?.capacity_per_second))
    }

    /// CPU cores the target's process tree used on average (1.0 = one core busy).
    pub fn cpu_cores(&self, target: usize, phase: usize) -> Option<Spread> {
        Spread::of(self.measurements(target, phase).map(|m| m.result.resources.summary.cpu_cores_avg))
    }

    pub fn rss_peak(&self, target: usize, phase: usize) -> Option<Spread> {
        Spread::of(self.measurements(target, phase).map(|m| m.result.resources.summary.rss_peak_bytes as f64))
    }

    pub fn pss_peak(&self, target: usize, phase: usize) -> Option<Spread> {
        Spread::of(
            self.measurements(target, phase)
                .filter_map(|m| m.result.resources.summary.pss_peak_bytes.map(|b| b as f64)),
        )
    }

    /// Requests still unanswered when the measured window closed (left out of every other figure), and their
    /// median age then in microseconds; each the median over the repetitions. None when nothing was measured.
    pub fn in_flight(&self, target: usize, phase: usize) -> Option<(f64, f64)> {
        let in_flight = |m: &Measurement<'_>| m.load.aggregated.in_flight.clone();
        let requests = Spread::of(self.measurements(target, phase).map(|m| in_flight(m).requests as f64))?;
        let age = Spread::of(self.measurements(target, phase).map(|m| in_flight(m).median_age_us as f64))?;
        Some((requests.median, age.median))
    }

    /// Failed requests as a fraction of all requests, over every repetition.
    pub fn failure_ratio(&self, target: usize, phase: usize) -> Option<f64> {
        let (mut failed, mut total) = (0u64, 0u64);
        for measurement in self.measurements(target, phase) {
            failed += measurement.load.aggregated.failures.total();
            total += measurement.load.aggregated.count;
        }
        (total > 0).then(|| failed as f64 / total as f64)
    }

    pub fn latency(&self, target: usize, phase: usize) -> Option<&MergedLatency> {
        self.latencies.get(target)?.get(phase)?.as_ref()
    }

    /// Why `target` has no figures for `phase`, in a few words (for charts and tables).
    pub fn missing_reason(&self, target: usize) -> String {
        match &self.targets[target].result.status {
            TargetStatus::Failed { .. } => "no data: target failed".to_owned(),
            TargetStatus::Ok if self.results.partial => "no data: run interrupted".to_owned(),
            TargetStatus::Ok => "no data: not measured".to_owned(),
        }
    }

    /// The reason in one or two words, for table cells.
    pub fn missing_short(&self, target: usize) -> &'static str {
        match &self.targets[target].result.status {
            TargetStatus::Failed { .. } => "failed",
            TargetStatus::Ok if self.results.partial => "interrupted",
            TargetStatus::Ok => "not measured",
        }
    }

    /// Cores the suite gave `target`, when the pinning plan says.
    pub fn target_cores(&self, target: usize) -> Option<usize> {
        let name = self.target_name(target);
        let pinned = self.results.pinning.targets.iter().find(|pinning| pinning.target == name)?;
        (!pinned.cores.is_empty()).then_some(pinned.cores.len())
    }

    /// Cores `target` had in `phase`: what the phase recorded (a phase can set its own), else the run's plan.
    pub fn cores_in(&self, target: usize, phase: usize) -> Option<usize> {
        let recorded = self.measurements(target, phase).find_map(|m| m.result.cores.as_ref().map(Vec::len));
        recorded.filter(|&cores| cores > 0).or_else(|| self.target_cores(target))
    }

    /// Requests per worker process of `target` in `phase` (first repetition): the prefork master's `--stats`, else
    /// the responses counted per `x-worker-pid`. None when the phase recorded neither.
    pub fn worker_load(&self, target: usize, phase: usize) -> Option<WorkerLoad> {
        self.measurements(target, phase).next()?.worker_load(self)
    }

    fn merge_latencies(&mut self) -> Vec<Vec<Option<MergedLatency>>> {
        let mut merged = Vec::with_capacity(self.targets.len());
        for target in 0..self.targets.len() {
            let mut row = Vec::with_capacity(self.phases.len());
            for phase in 0..self.phases.len() {
                let summaries: Vec<(&LoadReport, &LatencySummary)> =
                    self.measurements(target, phase).map(|m| (m.load, &m.load.aggregated.latency)).collect();
                match merge_latency(&summaries) {
                    Ok(latency) => row.push(latency),
                    Err(reason) => {
                        let (name, phase_name) = (self.target_name(target), self.phases[phase].name);
                        self.warnings.push(format!("{name} / {phase_name}: {reason}; latency charts leave it out"));
                        row.push(None);
                    }
                }
            }
            merged.push(row);
        }
        merged
    }
}

impl TargetView<'_> {
    pub fn name(&self) -> &str {
        &self.result.name
    }

    pub fn family(&self) -> Family {
        self.result.family
    }

    pub fn failure(&self) -> Option<&str> {
        match &self.result.status {
            TargetStatus::Failed { reason, .. } => Some(reason),
            TargetStatus::Ok => None,
        }
    }
}

impl PhaseInfo<'_> {
    /// The one endpoint the phase requests, when it requests only one (path without query).
    pub fn single_endpoint(&self) -> Option<&str> {
        match self.example.endpoints.as_slice() {
            [only] => Some(path_only(&only.path)),
            _ => None,
        }
    }

    pub fn load_model(&self) -> &LoadModel {
        &self.example.load_model
    }

    pub fn kills_a_worker(&self) -> bool {
        self.kills
    }

    /// A search for each target's capacity under a latency objective: its steps are in each result's `capacity`.
    pub fn is_capacity(&self) -> bool {
        matches!(self.load_model(), LoadModel::Capacity { .. })
    }

    /// Connections of a closed-loop concurrency phase.
    pub fn connections(&self) -> Option<u32> {
        match self.load_model() {
            LoadModel::Concurrency { connections } => Some(*connections),
            _ => None,
        }
    }

    /// How much load the phase offers, comparable between phases of the same load model.
    pub fn offered_load(&self) -> f64 {
        match self.load_model() {
            LoadModel::Users { users, .. } => f64::from(*users),
            LoadModel::Concurrency { connections } => f64::from(*connections),
            LoadModel::Rate { rate_per_s, .. } => *rate_per_s,
            LoadModel::Capacity { max_connections, .. } => f64::from(*max_connections),
        }
    }

    /// The endpoints and weights in words, with the CPU time each request was calibrated to when a task asks for
    /// `cpu_work`: "/cpu-intensive (cpu_work 2.00 ms)" or "/cpu-intensive ×1 + /memory-intensive ×1". Phases of
    /// the same path doing different work (a cost, a literal count) read differently.
    pub fn endpoints_text(&self) -> String {
        match self.example.endpoints.as_slice() {
            [only] => share_text(only),
            many => many
                .iter()
                .map(|share| format!("{} ×{}", share_text(share), share.weight))
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }

    /// The CPU time per request (seconds) the phase's tasks ask for with `cpu_work`, if any does.
    pub fn cpu_work_s(&self) -> Option<f64> {
        self.example.endpoints.iter().find_map(|share| share.cpu_work.as_ref()).map(|work| work.requested_s)
    }
}

fn share_text(share: &EndpointShare) -> String {
    match &share.cpu_work {
        Some(work) => format!("{} (cpu_work {})", share.path, crate::format::latency_us(work.requested_s * 1e6)),
        None => share.path.clone(),
    }
}

impl Measurement<'_> {
    /// Requests per worker process (the master's `--stats`, else the `x-worker-pid` counts).
    pub fn worker_load(&self, report: &RunView<'_>) -> Option<WorkerLoad> {
        self.result.worker_load(report.targets[self.target].result.worker_count())
    }

    /// Responses that did not fail, per second of the measured period.
    pub fn successful_per_second(&self) -> Option<f64> {
        self.load.successful_per_second()
    }
}

impl Spread {
    /// None for no values.
    pub fn of(values: impl IntoIterator<Item = impl Into<f64>>) -> Option<Spread> {
        let mut values: Vec<f64> = values.into_iter().map(Into::into).filter(|value| value.is_finite()).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        Some(Spread { median, min: values[0], max: values[n - 1], n })
    }

    /// True when the ranges of two spreads overlap (repetitions do not separate them).
    pub fn overlaps(&self, other: &Spread) -> bool {
        self.min <= other.max && other.min <= self.max
    }
}

impl MergedLatency {
    /// The latency at `percentile` (0..=100) in microseconds, clamped into the exact [min, max]; over the answers
    /// and the censored requests, so possibly a lower bound ([`MergedLatency::bounded_at`] says).
    pub fn at(&self, percentile: f64) -> f64 {
        self.bounded_at(percentile).us
    }

    /// The latency at `percentile` and whether it is a lower bound.
    pub fn bounded_at(&self, percentile: f64) -> LatencyAt {
        let answers_only = || LatencyAt {
            us: clamp_percentile(&self.histogram, percentile, self.min_us, self.max_us),
            lower_bound: false,
        };
        let Some(censored) = self.censored.as_ref().filter(|censored| !censored.is_empty()) else {
            return answers_only();
        };
        let mut both = self.histogram.clone();
        // Only a count overflow fails here; the answers alone are then the best figure there is.
        if both.add(censored).is_err() {
            return answers_only();
        }
        let (min, max) = (self.min_us.min(censored.min()), self.max_us.max(censored.max()));
        let us = clamp_percentile(&both, percentile, min, max);
        // A bound must not exceed what it bounds: a censored bucket reads its bottom, not its top.
        let lower_bound = LatencyAt { us: both.lowest_equivalent(us as u64) as f64, lower_bound: true };
        if self.histogram.is_empty() {
            return lower_bound;
        }
        let slowest = self.max_us;
        if us <= slowest as f64 || both.equivalent(us as u64, slowest) {
            return LatencyAt { us: us.min(slowest as f64), lower_bound: false };
        }
        lower_bound
    }

    pub fn service_time_at(&self, percentile: f64) -> Option<f64> {
        self.service_time
            .as_ref()
            .map(|histogram| clamp_percentile(histogram, percentile, histogram.min(), histogram.max()))
    }
}

fn clamp_percentile(histogram: &Histogram<u64>, percentile: f64, min: u64, max: u64) -> f64 {
    let value = histogram.value_at_percentile(percentile.clamp(0.0, 100.0));
    value.clamp(min, max.max(min)) as f64
}

fn merge_latency(summaries: &[(&LoadReport, &LatencySummary)]) -> Result<Option<MergedLatency>, String> {
    let Some((first_report, _)) = summaries.first() else { return Ok(None) };
    let mut histogram = loadgen::histogram::new_histogram();
    let mut service: Option<Histogram<u64>> = None;
    let (mut min_us, mut max_us, mut samples) = (u64::MAX, 0u64, 0u64);
    let mut censored: Option<Histogram<u64>> = None;
    for (report, summary) in summaries {
        if summary.censored > 0 {
            let decoded = decode(&summary.censored_histogram)?;
            let merged = censored.get_or_insert_with(loadgen::histogram::new_histogram);
            merged.add(&decoded).map_err(|error| format!("histograms do not add: {error:?}"))?;
        }
        if summary.samples == 0 {
            continue;
        }
        let decoded = decode(&summary.histogram)?;
        histogram.add(&decoded).map_err(|error| format!("histograms do not add: {error:?}"))?;
        if let Some(service_time) = &report.aggregated.service_time {
            let decoded = decode(&service_time.histogram)?;
            let merged = service.get_or_insert_with(loadgen::histogram::new_histogram);
            merged.add(&decoded).map_err(|error| format!("histograms do not add: {error:?}"))?;
        }
        min_us = min_us.min(summary.min_us);
        max_us = max_us.max(summary.max_us);
        samples += summary.samples;
    }
    if samples == 0 && censored.is_none() {
        return Ok(None);
    }
    let basis = first_report.latency_basis;
    Ok(Some(MergedLatency { basis, histogram, service_time: service, min_us, max_us, censored }))
}

fn decode(text: &str) -> Result<Histogram<u64>, String> {
    loadgen::histogram::decode(text).map_err(|error| format!("a latency histogram cannot be read ({error})"))
}

/// Phase names in the order they were run, with their repetition count.
fn collect_phases(targets: &[TargetResult]) -> Vec<PhaseInfo<'_>> {
    let mut phases: Vec<PhaseInfo<'_>> = Vec::new();
    for result in targets.iter().flat_map(|target| &target.phases) {
        match phases.iter_mut().find(|phase| phase.name == result.name) {
            Some(phase) => {
                phase.repetitions = phase.repetitions.max(result.repetition + 1);
                phase.kills |= result.kill.is_some();
            }
            None => phases.push(PhaseInfo {
                name: &result.name,
                example: result,
                repetitions: result.repetition + 1,
                kills: result.kill.is_some(),
            }),
        }
    }
    phases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_median_min_max() {
        let spread = Spread::of([3.0, 1.0, 2.0]).expect("values");
        assert_eq!(spread, Spread { median: 2.0, min: 1.0, max: 3.0, n: 3 });
        let even = Spread::of([4.0, 1.0]).expect("values");
        assert_eq!(even.median, 2.5);
        assert!(Spread::of(Vec::<f64>::new()).is_none());
    }

    fn merged(answers: &[u64], censored: &[u64]) -> MergedLatency {
        let mut histogram = loadgen::histogram::new_histogram();
        answers.iter().for_each(|&value| histogram.record(value).expect("record"));
        let mut unanswered = loadgen::histogram::new_histogram();
        censored.iter().for_each(|&value| unanswered.record(value).expect("record"));
        let (min_us, max_us) =
            (answers.iter().copied().min().unwrap_or(u64::MAX), answers.iter().copied().max().unwrap_or(0));
        let censored = (!censored.is_empty()).then_some(unanswered);
        MergedLatency { basis: LatencyBasis::ServiceTime, histogram, service_time: None, min_us, max_us, censored }
    }

    #[test]
    fn censored_requests_make_high_percentiles_lower_bounds_and_leave_the_rest() {
        let answers: Vec<u64> = (0..90).map(|index| 100_000 + index * 100).collect();
        let plain = merged(&answers, &[]);
        let saturated = merged(&answers, &[4_950_000; 10]);
        let p50 = saturated.bounded_at(50.0);
        assert!(!p50.lower_bound && p50.us < 110_000.0, "p50 lands among the answers: {p50:?}");
        assert!(!plain.bounded_at(99.0).lower_bound);
        let p99 = saturated.bounded_at(99.0);
        assert!(p99.lower_bound && p99.us <= 4_950_000.0 && p99.us > 4_940_000.0, "{p99:?}");
        let only_unanswered = merged(&[], &[4_000_000, 4_950_000]);
        assert!(only_unanswered.bounded_at(50.0).lower_bound);
    }

    #[test]
    fn spreads_overlap_only_when_ranges_meet() {
        let low = Spread { median: 1.5, min: 1.0, max: 2.0, n: 2 };
        let high = Spread { median: 3.5, min: 3.0, max: 4.0, n: 2 };
        let middle = Spread { median: 2.5, min: 1.9, max: 3.1, n: 2 };
        assert!(!low.overlaps(&high));
        assert!(low.overlaps(&middle) && middle.overlaps(&high));
    }
}
