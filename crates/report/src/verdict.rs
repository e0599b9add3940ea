//! The verdict: for each endpoint (and each mixed-endpoint phase), which target did best, by what ratio over the
//! next, and how much CPU each used, computed from the data. The HTML page and summary.md print it first.

use bench::results::LoadModel;

use crate::data::{Report, Spread};
use crate::endpoint::EndpointKind;
use crate::format;
use crate::worker_spread;

/// Ratios below this are called level rather than a win: run-to-run noise on a shared machine is of this order.
const LEVEL_RATIO: f64 = 1.05;

/// Failure ratios above this are named in the sentence.
const NOTABLE_FAILURES: f64 = 0.001;

/// What one verdict judges.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A single endpoint, judged on its headline phase.
    Endpoint { path: String, kind: EndpointKind },
    /// A phase mixing several endpoints (e.g. the seed's Locust profile).
    Mix { phase: String, endpoints: String },
}

/// The figure a verdict ranks on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Successful responses per second, higher is better: closed-loop concurrency phases saturate the target.
    Throughput,
    /// 99th percentile latency, lower is better: in users and rate phases the load, not the target, sets req/s.
    P99Latency,
}

/// One target's figures in a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub target: usize,
    /// req/s or p99 µs over repetitions, per `Basis`.
    pub value: Spread,
    pub cpu_cores: Option<f64>,
    pub failure_ratio: f64,
}

/// The verdict on one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub subject: Subject,
    /// The phase judged on.
    pub phase: usize,
    pub basis: Basis,
    /// Best first.
    pub ranking: Vec<Entry>,
    /// Targets with no figures in that phase.
    pub missing: Vec<usize>,
}

/// Every verdict of a report: endpoints in the order CPU, memory, blocking I/O, async I/O, others; then mixes.
pub fn verdicts(report: &Report<'_>) -> Vec<Verdict> {
    let mut endpoints: Vec<(EndpointKind, &str)> = report
        .phases
        .iter()
        .filter_map(|phase| phase.single_endpoint().map(|path| (EndpointKind::of(path), path)))
        .collect();
    endpoints.sort();
    endpoints.dedup();
    let mut verdicts: Vec<Verdict> = endpoints
        .into_iter()
        .filter_map(|(kind, path)| {
            let phase = headline_phase(report, path)?;
            Some(judge(report, Subject::Endpoint { path: path.to_owned(), kind }, phase))
        })
        .collect();
    for (index, phase) in report.phases.iter().enumerate() {
        if phase.single_endpoint().is_none() {
            let subject = Subject::Mix { phase: phase.name.to_owned(), endpoints: phase.endpoints_text() };
            verdicts.push(judge(report, subject, index));
        }
    }
    verdicts
}

/// The phase an endpoint is judged on: its closed-loop phase with the most connections (where models differ
/// most); failing that its highest-rate phase, then its phase with the most users. Ties go to the phase that
/// measured more targets, then to the earlier one.
fn headline_phase(report: &Report<'_>, path: &str) -> Option<usize> {
    let rank = |model: &LoadModel| match model {
        LoadModel::Concurrency { .. } => 2,
        LoadModel::Rate { .. } => 1,
        LoadModel::Users { .. } => 0,
    };
    let measured = |phase: usize| (0..report.targets.len()).filter(|&target| report.has_data(target, phase)).count();
    report
        .phases
        .iter()
        .enumerate()
        .filter(|(_, phase)| phase.single_endpoint() == Some(path))
        .max_by(|(ia, a), (ib, b)| {
            (rank(a.load_model()), a.offered_load())
                .partial_cmp(&(rank(b.load_model()), b.offered_load()))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(measured(*ia).cmp(&measured(*ib)))
                .then(ib.cmp(ia))
        })
        .map(|(index, _)| index)
}

fn basis_of(model: &LoadModel) -> Basis {
    match model {
        LoadModel::Concurrency { .. } => Basis::Throughput,
        LoadModel::Users { .. } | LoadModel::Rate { .. } => Basis::P99Latency,
    }
}

fn judge(report: &Report<'_>, subject: Subject, phase: usize) -> Verdict {
    let basis = basis_of(report.phases[phase].load_model());
    let mut ranking = Vec::new();
    let mut missing = Vec::new();
    for target in report.phase_targets(phase) {
        let value = match basis {
            Basis::Throughput => report.throughput(target, phase),
            Basis::P99Latency => Spread::of(report.measurements(target, phase).filter_map(|m| p99_us(m.load))),
        };
        match value {
            Some(value) => ranking.push(Entry {
                target,
                value,
                cpu_cores: report.cpu_cores(target, phase).map(|spread| spread.median),
                failure_ratio: report.failure_ratio(target, phase).unwrap_or(0.0),
            }),
            None => missing.push(target),
        }
    }
    rank(&mut ranking, basis);
    Verdict { subject, phase, basis, ranking, missing }
}

/// Best first. For latency, targets failing more than 1 % of requests rank after those that did not: a request
/// that timed out has no latency, so a failing target could otherwise look fast.
fn rank(entries: &mut [Entry], basis: Basis) {
    match basis {
        Basis::Throughput => entries.sort_by(|a, b| b.value.median.total_cmp(&a.value.median)),
        Basis::P99Latency => entries.sort_by(|a, b| {
            (a.failure_ratio > 0.01).cmp(&(b.failure_ratio > 0.01)).then(a.value.median.total_cmp(&b.value.median))
        }),
    }
}

fn p99_us(load: &loadgen::LoadReport) -> Option<f64> {
    let latency = &load.aggregated.latency;
    if latency.samples == 0 {
        return None;
    }
    latency.percentiles.iter().find(|p| (p.percentile - 99.0).abs() < 1e-9).map(|p| p.latency_us as f64)
}

impl Subject {
    /// "/cpu-intensive (CPU-bound)" or "seed (/cpu-intensive ×1 + /memory-intensive ×1)".
    pub fn title(&self) -> String {
        format!("{} ({})", self.short_title(), self.detail())
    }

    /// The endpoint's path, or the mixed phase's name.
    pub fn short_title(&self) -> &str {
        match self {
            Subject::Endpoint { path, .. } => path,
            Subject::Mix { phase, .. } => phase,
        }
    }

    /// The kind of work, or the mixed phase's endpoints.
    pub fn detail(&self) -> String {
        match self {
            Subject::Endpoint { kind, .. } => kind.label().to_owned(),
            Subject::Mix { endpoints, .. } => endpoints.clone(),
        }
    }
}

impl Verdict {
    pub fn best(&self) -> Option<usize> {
        self.ranking.first().map(|entry| entry.target)
    }

    /// The figure for a table whose header names it: "1,840 req/s" or "12.3 ms".
    pub fn cell_text(&self, value: f64) -> String {
        match self.basis {
            Basis::Throughput => format!("{} req/s", format::rate(value)),
            Basis::P99Latency => format::latency_us(value),
        }
    }

    /// The figure in words, e.g. "1,840 req/s" or "p99 12.3 ms".
    pub fn value_text(&self, value: f64) -> String {
        match self.basis {
            Basis::Throughput => format!("{} req/s", format::rate(value)),
            Basis::P99Latency => format!("p99 {}", format::latency_us(value)),
        }
    }

    /// How many times better `a` is than `b` on this verdict's basis (>= 1 when `a` ranks first).
    fn ratio(&self, a: &Entry, b: &Entry) -> f64 {
        match self.basis {
            Basis::Throughput => a.value.median / b.value.median,
            Basis::P99Latency => b.value.median / a.value.median,
        }
    }

    /// True when the best target beats the second by at least [`LEVEL_RATIO`].
    pub fn is_clear_lead(&self) -> bool {
        match self.ranking.as_slice() {
            [best, second, ..] => self.ratio(best, second) >= LEVEL_RATIO,
            _ => false,
        }
    }

    /// The verdict as plain-text sentences (the subject is printed separately). Targets that failed are not
    /// repeated here: the page and the summary list them once.
    pub fn sentence(&self, report: &Report<'_>) -> String {
        let load = &report.phases[self.phase].example.load_description;
        let mut text = match self.ranking.as_slice() {
            [] => "No target has data.".to_owned(),
            [only] => format!(
                "Only {} has data: {} at {load}.",
                report.target_name(only.target),
                self.value_text(only.value.median)
            ),
            _ if self.is_clear_lead() => self.lead(report, load),
            _ => self.level(report, load),
        };
        text.push_str(&self.littles_law_text(report));
        for entry in &self.ranking {
            text.extend(worker_spread::poor_spread_text(report, entry.target, self.phase));
        }
        let unmeasured: Vec<String> = self
            .missing
            .iter()
            .filter(|&&target| report.targets[target].failure().is_none())
            .map(|&target| format!("{} ({})", report.target_name(target), report.missing_reason(target)))
            .collect();
        if !unmeasured.is_empty() {
            text.push_str(&format!(" No figures for {}.", unmeasured.join(", ")));
        }
        text
    }

    /// For an endpoint that waits on the upstream, judged at C connections: the Little's-law ceiling C / delay and
    /// how close the best came to it.
    fn littles_law_text(&self, report: &Report<'_>) -> String {
        let Subject::Endpoint { kind, .. } = &self.subject else { return String::new() };
        let (Some(connections), Some(best)) = (report.phases[self.phase].connections(), self.ranking.first()) else {
            return String::new();
        };
        let delay_ms = report.results.upstream.delay_ms;
        if !kind.waits_on_upstream() || self.basis != Basis::Throughput || delay_ms <= 0.0 {
            return String::new();
        }
        let ceiling = f64::from(connections) / (delay_ms / 1000.0);
        format!(
            " Little's law caps it at {connections} connections / {} upstream delay = {} req/s; the best reached {} \
             of that.",
            format::latency_us(delay_ms * 1000.0),
            format::rate(ceiling),
            format::percent(best.value.median / ceiling)
        )
    }

    fn lead(&self, report: &Report<'_>, load: &str) -> String {
        let (best, next) = (&self.ranking[0], &self.ranking[1]);
        let (best_name, next_name) = (report.target_name(best.target), report.target_name(next.target));
        let ratio = format::ratio(self.ratio(best, next));
        let (lead, comparison) = match self.basis {
            Basis::Throughput => ("serves the most", format!("{ratio} {next_name}")),
            Basis::P99Latency => ("answers fastest", format!("{ratio} lower than {next_name}")),
        };
        let mut text = format!(
            "{best_name} {lead} at {load}: {}, {comparison} ({}).",
            self.value_text(best.value.median),
            self.value_text(next.value.median)
        );
        text.push_str(&cores_text(report, best, next));
        if best.value.n > 1 && next.value.n > 1 && best.value.overlaps(&next.value) {
            text.push_str(" Their repetitions overlap: not a clear-cut lead.");
        }
        text.push_str(&failures_text(report, [best, next]));
        text
    }

    fn level(&self, report: &Report<'_>, load: &str) -> String {
        let best = &self.ranking[0];
        let leaders: Vec<&Entry> =
            self.ranking.iter().take_while(|entry| self.ratio(best, entry) < LEVEL_RATIO).collect();
        let names: Vec<&str> = leaders.iter().map(|entry| report.target_name(entry.target)).collect();
        let values: Vec<String> = leaders.iter().map(|entry| self.value_text(entry.value.median)).collect();
        let mut text = format!("{} are level (within 5 %) at {load}: {}.", join_and(&names), join_and(&values));
        if let Some(next) = self.ranking.get(leaders.len()) {
            text.push_str(&format!(
                " Next: {} at {}, {} behind {}.",
                report.target_name(next.target),
                self.value_text(next.value.median),
                format::ratio(self.ratio(best, next)),
                report.target_name(best.target)
            ));
            text.push_str(&cores_text(report, best, next));
        }
        text.push_str(&failures_text(report, leaders.iter().copied()));
        text
    }
}

/// " A used 1.97 CPU cores, B 1.00." when both are known.
fn cores_text(report: &Report<'_>, first: &Entry, second: &Entry) -> String {
    match (first.cpu_cores, second.cpu_cores) {
        (Some(a), Some(b)) => format!(
            " {} used {} CPU cores, {} {}.",
            report.target_name(first.target),
            format::significant(a, 3),
            report.target_name(second.target),
            format::significant(b, 3)
        ),
        _ => String::new(),
    }
}

fn failures_text<'e>(report: &Report<'_>, entries: impl IntoIterator<Item = &'e Entry>) -> String {
    entries
        .into_iter()
        .filter(|entry| entry.failure_ratio > NOTABLE_FAILURES)
        .map(|entry| {
            format!(
                " {} failed {} of requests.",
                report.target_name(entry.target),
                format::percent(entry.failure_ratio)
            )
        })
        .collect()
}

/// "a", "a and b", "a, b and c".
pub(crate) fn join_and<T: AsRef<str>>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_owned(),
        [init @ .., last] => {
            format!("{} and {}", init.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: usize, median: f64, failure_ratio: f64) -> Entry {
        Entry { target, value: Spread { median, min: median, max: median, n: 1 }, cpu_cores: None, failure_ratio }
    }

    #[test]
    fn throughput_ranks_highest_first() {
        let mut entries = vec![entry(0, 10.0, 0.0), entry(1, 30.0, 0.0), entry(2, 20.0, 0.0)];
        rank(&mut entries, Basis::Throughput);
        assert_eq!(entries.iter().map(|e| e.target).collect::<Vec<_>>(), [1, 2, 0]);
    }

    #[test]
    fn latency_ranks_lowest_first_and_failing_targets_last() {
        let mut entries = vec![entry(0, 10.0, 0.5), entry(1, 30.0, 0.0), entry(2, 20.0, 0.0)];
        rank(&mut entries, Basis::P99Latency);
        assert_eq!(entries.iter().map(|e| e.target).collect::<Vec<_>>(), [2, 1, 0]);
    }

    #[test]
    fn lists_join_with_and() {
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b"]), "a and b");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn closed_loop_phases_judge_throughput_and_others_latency() {
        assert_eq!(basis_of(&LoadModel::Concurrency { connections: 8 }), Basis::Throughput);
        assert_eq!(basis_of(&LoadModel::Rate { rate_per_s: 10.0, connections: 8 }), Basis::P99Latency);
        let users = LoadModel::Users { users: 10, think_min_s: 1.0, think_max_s: 5.0 };
        assert_eq!(basis_of(&users), Basis::P99Latency);
    }
}
