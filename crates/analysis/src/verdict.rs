//! The verdict: for each endpoint (and each mixed-endpoint phase), which target did best, by what ratio over the
//! next, and how much CPU each used, computed from the data, each figure with its range over the repetitions. A
//! lead is called only when the best target's range overlaps no other's; otherwise the targets are level. The HTML
//! page and summary.md print it first.

use results::LoadModel;

use crate::data::{RunView, Spread};
use crate::endpoint::EndpointKind;
use crate::format;
use crate::select;
use crate::starvation;
use crate::worker_spread;

/// Repetitions of each target a lead needs. The interval of a figure is the min..max of its repetitions; with 3
/// repetitions each, two targets that are truly equal still show ranges that do not overlap 1 time in 10 (2 of the
/// 20 equally likely orders of 6 values), with 5 each 1 time in 126.
pub const MIN_REPETITIONS: usize = 3;

/// How to read the figures and the bold cells, for the captions under the headline table.
pub const LEAD_RULE: &str = "Each figure is the median over the repetitions, with their range (min–max) in brackets; \
    the repetitions of a phase alternate between the targets, round after round, so a drift of the machine favours \
    none. Bold: a lead, called only when the best target's range overlaps no other target's over at least 3 \
    repetitions each; otherwise the targets are level.";

/// Failure ratios above this are named in the sentence.
const NOTABLE_FAILURES: f64 = 0.001;

/// What one verdict judges.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A single endpoint, judged on its headline phase.
    Endpoint { path: String, kind: EndpointKind },
    /// A phase mixing several endpoints (e.g. the article's Locust profile).
    Mix { phase: String, endpoints: String },
}

/// The figure a verdict ranks on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Successful responses per second, higher is better: closed-loop concurrency phases saturate the target.
    Throughput,
    /// 99th percentile latency, lower is better: in users and rate phases the load, not the target, sets req/s.
    P99Latency,
    /// The highest open-loop rate sustained with the phase's latency objective met, higher is better.
    Capacity,
}

/// One target's figures in a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub target: usize,
    /// req/s or p99 µs over repetitions, per `Basis`.
    pub value: Spread,
    pub cpu_cores: Option<Spread>,
    pub failure_ratio: f64,
    /// Latency basis: a repetition's p99 lands among requests that had no answer, so it is only a lower bound.
    /// Capacity basis: a repetition's search held at its highest rate (or its load generator fell behind), so the
    /// capacity is at least the figure.
    pub lower_bound: bool,
}

/// What the ranking says once the ranges over repetitions are taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// No target, or only one, has figures.
    Alone,
    /// The best target's range overlaps no other target's.
    Lead,
    /// The best target's range overlaps these others' (positions in the ranking, in order): level with it.
    Level(Vec<usize>),
    /// The best or the second has fewer than [`MIN_REPETITIONS`] repetitions: no lead can be called.
    TooFewRepetitions,
}

/// The verdict on one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub subject: Subject,
    /// The phase judged on.
    pub phase: usize,
    pub basis: Basis,
    /// Best first (by median).
    pub ranking: Vec<Entry>,
    pub call: Call,
    /// Targets with no figures in that phase.
    pub missing: Vec<usize>,
}

/// Every verdict of a report: endpoints in the order CPU, memory, blocking I/O, async I/O, others; then mixes.
pub fn verdicts(report: &RunView<'_>) -> Vec<Verdict> {
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
        if phase.single_endpoint().is_none() && !phase.kills_a_worker() {
            let subject = Subject::Mix { phase: phase.name.to_owned(), endpoints: phase.endpoints_text() };
            verdicts.push(judge(report, subject, index));
        }
    }
    verdicts
}

/// The phase an endpoint is judged on: the rule the article's claims share ([`select::best_phase`]).
fn headline_phase(report: &RunView<'_>, path: &str) -> Option<usize> {
    select::best_phase(report, path, |_| true)
}

fn basis_of(model: &LoadModel) -> Basis {
    match model {
        LoadModel::Concurrency { .. } => Basis::Throughput,
        LoadModel::Users { .. } | LoadModel::Rate { .. } => Basis::P99Latency,
        LoadModel::Capacity { .. } => Basis::Capacity,
    }
}

fn judge(report: &RunView<'_>, subject: Subject, phase: usize) -> Verdict {
    let basis = basis_of(report.phases[phase].load_model());
    let mut ranking = Vec::new();
    let mut missing = Vec::new();
    for target in report.phase_targets(phase) {
        let value = match basis {
            Basis::Throughput => report.throughput(target, phase),
            Basis::P99Latency => Spread::of(report.measurements(target, phase).filter_map(|m| p99_us(m.load))),
            Basis::Capacity => report.capacity(target, phase),
        };
        match value {
            Some(value) => ranking.push(Entry {
                target,
                value,
                cpu_cores: report.cpu_cores(target, phase),
                failure_ratio: report.failure_ratio(target, phase).unwrap_or(0.0),
                lower_bound: match basis {
                    Basis::P99Latency => report.measurements(target, phase).any(|m| p99_is_lower_bound(m.load)),
                    Basis::Capacity => report
                        .measurements(target, phase)
                        .any(|m| m.result.capacity.as_ref().is_some_and(|capacity| capacity.at_least)),
                    Basis::Throughput => false,
                },
            }),
            None => missing.push(target),
        }
    }
    rank(&mut ranking, basis);
    let call = call(&ranking);
    Verdict { subject, phase, basis, ranking, call, missing }
}

/// Reads the ranking: a lead when the best target's range over repetitions overlaps no other's.
fn call(ranking: &[Entry]) -> Call {
    let [best, second, ..] = ranking else { return Call::Alone };
    if best.value.n < MIN_REPETITIONS || second.value.n < MIN_REPETITIONS {
        return Call::TooFewRepetitions;
    }
    let level: Vec<usize> =
        (1..ranking.len()).filter(|&position| ranking[position].value.overlaps(&best.value)).collect();
    if level.is_empty() {
        Call::Lead
    } else {
        Call::Level(level)
    }
}

/// Best first. For latency, targets failing more than 1 % of requests rank after those that did not: a request
/// that timed out has no latency, so a failing target could otherwise look fast.
fn rank(entries: &mut [Entry], basis: Basis) {
    match basis {
        Basis::Throughput | Basis::Capacity => entries.sort_by(|a, b| b.value.median.total_cmp(&a.value.median)),
        Basis::P99Latency => entries.sort_by(|a, b| {
            (a.failure_ratio > 0.01).cmp(&(b.failure_ratio > 0.01)).then(a.value.median.total_cmp(&b.value.median))
        }),
    }
}

pub(crate) fn p99_us(load: &loadgen::LoadReport) -> Option<f64> {
    let latency = &load.aggregated.latency;
    if latency.samples == 0 && latency.censored == 0 {
        return None;
    }
    latency.percentiles.iter().find(|p| (p.percentile - 99.0).abs() < 1e-9).map(|p| p.latency_us as f64)
}

/// The run's p99 lands among requests that had no answer: [`p99_us`] is a lower bound.
pub(crate) fn p99_is_lower_bound(load: &loadgen::LoadReport) -> bool {
    let latency = &load.aggregated.latency;
    latency.percentiles.iter().any(|p| (p.percentile - 99.0).abs() < 1e-9 && p.lower_bound)
}

impl Subject {
    /// "/cpu-intensive (CPU-bound)" or "article-locust (/cpu-intensive ×1 + /memory-intensive ×1)".
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

    /// The figure for a table whose header names it, with its range over the repetitions: "1,840 req/s
    /// (1,800–1,870)" or "12.3 ms (11.9 ms–12.8 ms)"; "≥ 4950 ms (…)" when a repetition's p99 is a lower bound.
    pub fn cell_text(&self, entry: &Entry) -> String {
        let value = &entry.value;
        match self.basis {
            Basis::Throughput | Basis::Capacity => {
                let median = format::at_least(format::rate(value.median), entry.lower_bound);
                format!("{median} req/s{}", range_text(value, format::rate))
            }
            Basis::P99Latency => {
                let median = format::at_least(format::latency_us(value.median), entry.lower_bound);
                format!("{median}{}", range_text(value, format::latency_us))
            }
        }
    }

    /// The figure in words with its range, e.g. "1,840 req/s (1,800–1,870)" or "p99 12.3 ms (11.9 ms–12.8 ms)".
    pub fn value_text(&self, entry: &Entry) -> String {
        match self.basis {
            Basis::Throughput => self.cell_text(entry),
            Basis::P99Latency => format!("p99 {}", self.cell_text(entry)),
            Basis::Capacity => format!("capacity {}", self.cell_text(entry)),
        }
    }

    /// How many times better `a` is than `b` on this verdict's basis (>= 1 when `a` ranks first), with the range
    /// their repetitions allow: "1.80× (1.71–1.92×)"; "≥ 4.63× (…)" when `a`'s capacity is only a floor.
    pub fn ratio_text(&self, a: &Entry, b: &Entry) -> String {
        let (better, worse) = match self.basis {
            Basis::Throughput | Basis::Capacity => (&a.value, &b.value),
            Basis::P99Latency => (&b.value, &a.value),
        };
        let bound = match (self.basis, a.lower_bound, b.lower_bound) {
            (Basis::Capacity, true, true) => return "no ratio: both capacities are floors".to_owned(),
            (Basis::Capacity, true, false) => "≥ ",
            (Basis::Capacity, false, true) => "≤ ",
            _ => "",
        };
        let median = format!("{bound}{}", format::ratio(better.median / worse.median));
        if a.value.n > 1 && b.value.n > 1 {
            let (low, high) = (better.min / worse.max, better.max / worse.min);
            format!("{median} ({}–{})", format::ratio(low).trim_end_matches('×'), format::ratio(high))
        } else {
            median
        }
    }

    /// True when the best target leads: its range overlaps no other target's, over enough repetitions.
    pub fn is_clear_lead(&self) -> bool {
        self.call == Call::Lead
    }

    /// The verdict as plain-text sentences (the subject is printed separately). Targets that failed are not
    /// repeated here: the page and the summary list them once.
    pub fn sentence(&self, report: &RunView<'_>) -> String {
        let load = &report.phases[self.phase].example.load_description;
        let mut text = match (&self.call, self.ranking.as_slice()) {
            (_, []) => "No target has data.".to_owned(),
            (_, [only]) => {
                format!("Only {} has data: {} at {load}.", report.target_name(only.target), self.value_text(only))
            }
            (Call::Level(level), _) => self.level(report, load, level),
            (Call::TooFewRepetitions, _) => self.too_few(report, load),
            _ => self.lead(report, load),
        };
        text.push_str(&self.littles_law_text(report));
        for entry in &self.ranking {
            text.extend(worker_spread::poor_spread_text(report, entry.target, self.phase));
            text.extend(starvation::starvation_text(report, entry.target, self.phase));
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
        text.push_str(&beyond_threshold_text(report, self.phase));
        text
    }

    /// For an endpoint that waits on the upstream, judged at C connections: the Little's-law ceiling C / delay and
    /// how close the best came to it.
    fn littles_law_text(&self, report: &RunView<'_>) -> String {
        let Subject::Endpoint { kind, .. } = &self.subject else { return String::new() };
        let (Some(connections), Some(best)) = (report.phases[self.phase].connections(), self.ranking.first()) else {
            return String::new();
        };
        let delay_ms = report.results.upstream.delay_ms;
        if !kind.waits_on_upstream() || self.basis != Basis::Throughput || delay_ms <= 0.0 {
            return String::new();
        }
        let ceiling = f64::from(connections) / (delay_ms / 1000.0);
        let share = |value: f64| format::percent(value / ceiling);
        format!(
            " Little's law caps it at {connections} connections / {} upstream delay = {} req/s; the best reached {} \
             of that{}.",
            format::latency_us(delay_ms * 1000.0),
            format::rate(ceiling),
            share(best.value.median),
            range_text(&best.value, share)
        )
    }

    /// The best and the second, as "A serves the most at LOAD: X, R× B (Y)".
    fn first_and_second(&self, report: &RunView<'_>, load: &str, (best, next): (&Entry, &Entry)) -> String {
        let (best_name, next_name) = (report.target_name(best.target), report.target_name(next.target));
        let ratio = self.ratio_text(best, next);
        let (lead, comparison) = match self.basis {
            Basis::Throughput => ("serves the most", format!("{ratio} {next_name}")),
            Basis::Capacity => ("sustains the most", format!("{ratio} {next_name}")),
            Basis::P99Latency => ("answers fastest", format!("{ratio} lower than {next_name}")),
        };
        format!("{best_name} {lead} at {load}: {}, {comparison} ({})", self.value_text(best), self.value_text(next))
    }

    fn lead(&self, report: &RunView<'_>, load: &str) -> String {
        let (best, next) = (&self.ranking[0], &self.ranking[1]);
        let mut text = self.first_and_second(report, load, (best, next));
        text.push_str(&format!(
            "; over {} repetitions no other target's range (min–max) overlaps its own.",
            best.value.n.min(next.value.n)
        ));
        text.push_str(&cores_text(report, best, next));
        text.push_str(&failures_text(report, [best, next]));
        text
    }

    fn too_few(&self, report: &RunView<'_>, load: &str) -> String {
        let (best, next) = (&self.ranking[0], &self.ranking[1]);
        let mut text = format!(
            "{} ranks first at {load}: {}; {} {}. {}: no lead is called, and no ratio given (a lead needs \
             {MIN_REPETITIONS} repetitions of each target, with ranges that do not overlap).",
            report.target_name(best.target),
            self.value_text(best),
            report.target_name(next.target),
            self.value_text(next),
            capitalised(&self.no_lead_reason())
        );
        text.push_str(&cores_text(report, best, next));
        text.push_str(&failures_text(report, [best, next]));
        text
    }

    /// Why no lead is called on [`Call::TooFewRepetitions`]: "single run, no spread" or "from 2 repetitions, too few
    /// to call a lead". One run cannot tell a lead from the noise, so no ratio goes with it.
    pub fn no_lead_reason(&self) -> String {
        let runs = self.ranking.iter().take(2).map(|entry| entry.value.n).min().unwrap_or(0);
        if runs <= 1 {
            "single run, no spread".to_owned()
        } else {
            format!("from {runs} repetitions, too few to call a lead")
        }
    }

    fn level(&self, report: &RunView<'_>, load: &str, level: &[usize]) -> String {
        let best = &self.ranking[0];
        let leaders: Vec<&Entry> =
            std::iter::once(best).chain(level.iter().map(|&position| &self.ranking[position])).collect();
        let names: Vec<&str> = leaders.iter().map(|entry| report.target_name(entry.target)).collect();
        let values: Vec<String> = leaders.iter().map(|entry| self.value_text(entry)).collect();
        let mut text = format!(
            "{} are level at {load}: {}; their ranges (min–max over {} repetitions) overlap.",
            format::join_and(&names),
            format::join_and(&values),
            best.value.n
        );
        let next = (1..self.ranking.len()).find(|position| !level.contains(position)).map(|p| &self.ranking[p]);
        if let Some(next) = next {
            text.push_str(&format!(
                " Next: {} at {}, {} behind {}.",
                report.target_name(next.target),
                self.value_text(next),
                self.ratio_text(best, next),
                report.target_name(best.target)
            ));
            text.push_str(&cores_text(report, best, next));
        }
        text.push_str(&failures_text(report, leaders.iter().copied()));
        text
    }
}

/// " (low–high)" of a spread over several repetitions, each bound shown by `show`; nothing for one repetition.
pub fn range_text(spread: &Spread, show: impl Fn(f64) -> String) -> String {
    if spread.n > 1 {
        format!(" ({}–{})", show(spread.min), show(spread.max))
    } else {
        String::new()
    }
}

/// " A used 1.97 (1.95–1.99) CPU cores, B 1.00 (0.98–1.01)." when both are known.
fn cores_text(report: &RunView<'_>, first: &Entry, second: &Entry) -> String {
    let cores = |spread: &Spread| {
        let show = |value: f64| format::significant(value, 3);
        format!("{}{}", show(spread.median), range_text(spread, show))
    };
    match (&first.cpu_cores, &second.cpu_cores) {
        (Some(a), Some(b)) => format!(
            " {} used {} CPU cores, {} {}.",
            report.target_name(first.target),
            cores(a),
            report.target_name(second.target),
            cores(b)
        ),
        _ => String::new(),
    }
}

/// The run's `--max-failures` verdict for `phase`: which targets failed beyond it, so a page whose figures measure
/// errors says so where the reader looks first (the run exited non-zero for it).
fn beyond_threshold_text(report: &RunView<'_>, phase: usize) -> String {
    let name = report.phases[phase].name;
    let failing: Vec<String> = report
        .results
        .failing_phases()
        .into_iter()
        .filter(|failing| failing.phase == name)
        .map(|failing| failing.describe())
        .collect();
    if failing.is_empty() {
        return String::new();
    }
    let limit = report.results.max_failures() * 100.0;
    format!(
        " FAILED beyond the run's {limit}% limit of failed requests, so these figures measure errors and the run \
         exited non-zero: {}.",
        failing.join("; ")
    )
}

fn failures_text<'e>(report: &RunView<'_>, entries: impl IntoIterator<Item = &'e Entry>) -> String {
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

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

mod level;
#[cfg(test)]
mod tests;

pub use level::{figures_level, phase_level, LevelBasis, LevelSpan};
