//! Tables as data, shared by the HTML page and summary.md: the headline table (targets x verdict subjects), each
//! phase's figures per target, and the Locust-style statistics table.

use loadgen::{EndpointStats, LatencyBasis};
use results::LoadModel;

use crate::data::{LatencyAt, RunView};
use crate::format;
use crate::verdict::{Basis, Subject, Verdict};

/// Targets as rows, verdict subjects as columns, each cell the figure the verdict ranked on.
pub struct HeadlineTable {
    pub columns: Vec<Column>,
    pub rows: Vec<HeadlineRow>,
}

/// A headline column: the endpoint (or mixed phase) and what its cells measure.
pub struct Column {
    pub title: String,
    /// E.g. "CPU-bound · req/s".
    pub detail: String,
    /// E.g. "req/s" or "p99": for markdown headers.
    pub unit: &'static str,
}

pub struct HeadlineRow {
    pub target: usize,
    pub cells: Vec<Cell>,
}

/// A table cell; `best` marks the verdict's winner, `missing` a cell that says why there is no figure.
pub struct Cell {
    pub text: String,
    pub best: bool,
    pub missing: bool,
    /// The requests still unanswered when the window closed, which the figure leaves out, e.g. "64 in flight,
    /// median age 1.6 s"; None when there were none.
    pub in_flight: Option<String>,
}

pub fn headline(report: &RunView<'_>, verdicts: &[Verdict]) -> HeadlineTable {
    let columns = verdicts
        .iter()
        .map(|verdict| Column {
            title: verdict.subject.short_title().to_owned(),
            detail: match &verdict.subject {
                Subject::Endpoint { kind, .. } => format!("{} · {}", kind.label(), unit_of(verdict.basis)),
                Subject::Mix { .. } => format!("mixed · {}", unit_of(verdict.basis)),
            },
            unit: unit_of(verdict.basis),
        })
        .collect();
    // A target with no figure in any column that did not fail took part in none of these phases: no row.
    let rows = (0..report.targets.len())
        .filter(|&target| {
            report.targets[target].failure().is_some()
                || verdicts.iter().any(|verdict| verdict.ranking.iter().any(|entry| entry.target == target))
        })
        .map(|target| HeadlineRow {
            target,
            cells: verdicts
                .iter()
                .map(|verdict| match verdict.ranking.iter().find(|entry| entry.target == target) {
                    Some(entry) => Cell {
                        text: verdict.cell_text(entry),
                        best: verdict.best() == Some(target) && verdict.is_clear_lead(),
                        missing: false,
                        in_flight: in_flight_text(report, target, verdict.phase),
                    },
                    None => Cell {
                        text: report.missing_short(target).to_owned(),
                        best: false,
                        missing: true,
                        in_flight: None,
                    },
                })
                .collect(),
        })
        .collect();
    HeadlineTable { columns, rows }
}

/// "64 in flight, median age 1,620 ms" for a phase that closed with requests unanswered; None if it had none.
fn in_flight_text(report: &RunView<'_>, target: usize, phase: usize) -> Option<String> {
    let (requests, age_us) = report.in_flight(target, phase)?;
    let requests = requests.round() as u64;
    (requests > 0).then(|| format!("{} in flight, median age {} ms", format::count(requests), format::ms(age_us)))
}

/// A phase's figures for one target, as text; None fields print as a dash.
pub struct PhaseRow {
    pub target: usize,
    /// None when the target has no figures in this phase: `missing` says why.
    pub figures: Option<PhaseFigures>,
    pub missing: String,
}

/// What "≥" before a latency means, for the captions of tables that may show one.
pub const LOWER_BOUND_RULE: &str = "≥: a lower bound. Requests that had no answer (timed out, or still in flight at \
    the close for longer than the slowest answer) count in the percentiles at their age; a percentile that lands among \
    them is at least that.";

pub struct PhaseFigures {
    /// Some latency figure below is a lower bound ("≥", see [`LOWER_BOUND_RULE`]).
    pub lower_bound: bool,
    pub throughput: String,
    pub p50: String,
    pub p99: String,
    pub p99_9: String,
    pub max: String,
    /// Rate phases: the uncorrected p99 beside the corrected one.
    pub service_p99: Option<String>,
    pub failures: String,
    pub cpu_cores: String,
    pub rss: String,
    pub pss: String,
}

pub fn phase_rows(report: &RunView<'_>, phase: usize) -> Vec<PhaseRow> {
    report
        .phase_targets(phase)
        .into_iter()
        .map(|target| PhaseRow {
            target,
            figures: phase_figures(report, target, phase),
            missing: report.missing_reason(target),
        })
        .collect()
}

fn phase_figures(report: &RunView<'_>, target: usize, phase: usize) -> Option<PhaseFigures> {
    let latency = report.latency(target, phase);
    let throughput = report.throughput(target, phase)?;
    let at = |percentile: f64| {
        latency.map_or("–".to_owned(), |latency| {
            let at = latency.bounded_at(percentile);
            format::at_least(format::ms(at.us), at.lower_bound)
        })
    };
    // Percentiles grow with p: when p50 or p99 lands among the censored requests, p99.9 does too.
    let lower_bound = latency.is_some_and(|latency| latency.bounded_at(99.9).lower_bound);
    let throughput = if throughput.n > 1 {
        format!(
            "{} ({}–{})",
            format::rate(throughput.median),
            format::rate(throughput.min),
            format::rate(throughput.max)
        )
    } else {
        format::rate(throughput.median)
    };
    let service_p99 = latency
        .filter(|latency| latency.basis == LatencyBasis::Corrected)
        .and_then(|latency| latency.service_time_at(99.0))
        .map(format::ms);
    Some(PhaseFigures {
        lower_bound,
        throughput,
        p50: at(50.0),
        p99: at(99.0),
        p99_9: at(99.9),
        max: latency.map_or("–".to_owned(), |latency| format::ms(latency.max_us as f64)),
        service_p99,
        failures: report.failure_ratio(target, phase).map_or("–".to_owned(), format::percent),
        cpu_cores: report.cpu_cores(target, phase).map_or("–".to_owned(), |c| format::significant(c.median, 3)),
        rss: report.rss_peak(target, phase).map_or("–".to_owned(), |b| format::mib(b.median)),
        pss: report.pss_peak(target, phase).map_or("–".to_owned(), |b| format::mib(b.median)),
    })
}

/// True when the phase's latency is coordinated-omission corrected (rate mode), so tables add a service-time column.
pub fn phase_is_corrected(report: &RunView<'_>, phase: usize) -> bool {
    matches!(report.phases[phase].load_model(), LoadModel::Rate { .. })
}

/// One row of Locust's statistics table.
pub struct LocustRow {
    pub name: String,
    pub requests: String,
    pub fails: String,
    pub median_ms: String,
    pub average_ms: String,
    pub min_ms: String,
    pub max_ms: String,
    pub rps: String,
    /// Unanswered when the window closed: in none of the other columns.
    pub in_flight: String,
}

/// Locust's table for one target in one phase (first repetition): one row per endpoint, then Aggregated.
pub fn locust_rows(report: &RunView<'_>, target: usize, phase: usize) -> Option<Vec<LocustRow>> {
    let measurement = report.measurements(target, phase).next()?;
    let load = &measurement.load;
    Some(load.endpoints.iter().chain(std::iter::once(&load.aggregated)).map(locust_row).collect())
}

fn locust_row(stats: &EndpointStats) -> LocustRow {
    let latency = &stats.latency;
    let has_latency = latency.samples > 0;
    let ms = |micros: f64| if has_latency { format::ms(micros) } else { "–".to_owned() };
    LocustRow {
        name: stats.name.clone(),
        requests: format::count(stats.count),
        fails: format::count(stats.failures.total()),
        median_ms: format::at_least(ms(latency.median_us as f64), has_latency && latency.median_is_lower_bound()),
        average_ms: ms(latency.mean_us),
        min_ms: ms(latency.min_us as f64),
        max_ms: ms(latency.max_us as f64),
        rps: format::rate(stats.requests_per_second),
        in_flight: format::count(stats.in_flight.requests),
    }
}

/// Phases run with Locust's load model (users with think time): the ones that get a Locust table.
pub fn users_phases(report: &RunView<'_>) -> Vec<usize> {
    (0..report.phases.len())
        .filter(|&phase| matches!(report.phases[phase].load_model(), LoadModel::Users { .. }))
        .collect()
}

fn unit_of(basis: Basis) -> &'static str {
    match basis {
        Basis::Throughput => "req/s",
        Basis::P99Latency => "p99",
        Basis::Capacity => "capacity req/s",
    }
}

/// One target's phase around the worker the driver killed in it: its per-second successes and failures.
pub struct KillRow {
    pub target: usize,
    pub phase: usize,
    pub pid: u32,
    /// Seconds into the measured part.
    pub at_s: f64,
    /// The target's only process was killed (a single-process server).
    pub whole_server: bool,
    /// (successful, failed) requests in each second of the measured part (first repetition).
    pub seconds: Vec<(u64, u64)>,
}

impl KillRow {
    /// The index of the second the kill fell in.
    pub fn kill_second(&self) -> usize {
        self.at_s.max(0.0) as usize
    }

    /// Successful responses per second over the whole seconds before the kill's second.
    pub fn before_per_s(&self) -> f64 {
        let before = &self.seconds[..self.kill_second().min(self.seconds.len())];
        if before.is_empty() {
            return 0.0;
        }
        before.iter().map(|&(ok, _)| ok as f64).sum::<f64>() / before.len() as f64
    }

    /// Successful responses in each whole second after the kill's second.
    pub fn after(&self) -> Vec<u64> {
        self.seconds.iter().skip(self.kill_second() + 1).map(|&(ok, _)| ok).collect()
    }

    pub fn failed(&self) -> u64 {
        self.seconds.iter().map(|&(_, failed)| failed).sum()
    }
}

/// The kill the driver recorded for `target` in `phase`, with the timeline around it; None without one.
pub fn kill_row(report: &RunView<'_>, target: usize, phase: usize) -> Option<KillRow> {
    let measurement = report.measurements(target, phase).next()?;
    let kill = measurement.result.kill.as_ref()?;
    // Whole seconds of the measured part only: a last, partial second would read as a drop in throughput.
    let whole_seconds = measurement.result.duration_s.floor().max(1.0) as usize;
    let seconds = measurement
        .load
        .timeline
        .iter()
        .take(whole_seconds)
        .map(|second| (second.requests.saturating_sub(second.errors), second.errors))
        .collect();
    Some(KillRow {
        target,
        phase,
        pid: kill.pid,
        at_s: kill.at_ms as f64 / 1000.0,
        whole_server: kill.whole_server,
        seconds,
    })
}

/// A target run with improved code (`variant_of`) beside the original, in one phase.
pub struct VariantRow {
    pub phase: usize,
    pub original: usize,
    pub variant: usize,
    /// Successful req/s of the original and of the variant.
    pub rates: (f64, f64),
    /// CPU milliseconds per successful request of each (the process tree's CPU time over its responses).
    pub cpu_ms: (Option<f64>, Option<f64>),
    /// Median latency of each (a lower bound when it lands among requests that had no answer).
    pub p50: (Option<LatencyAt>, Option<LatencyAt>),
}

/// Every variant beside its original in every phase both ran, in suite order.
pub fn variant_rows(report: &RunView<'_>) -> Vec<VariantRow> {
    let mut rows = Vec::new();
    for variant in 0..report.targets.len() {
        let Some(original_name) = &report.targets[variant].result.variant_of else { continue };
        let Some(original) = (0..report.targets.len()).find(|&t| report.target_name(t) == original_name) else {
            continue;
        };
        for phase in 0..report.phases.len() {
            let (Some(before), Some(after)) = (report.throughput(original, phase), report.throughput(variant, phase))
            else {
                continue;
            };
            let cpu_ms = |target: usize, rate: f64| {
                report.cpu_cores(target, phase).filter(|_| rate > 0.0).map(|cores| cores.median * 1000.0 / rate)
            };
            let p50 = |target: usize| report.latency(target, phase).map(|latency| latency.bounded_at(50.0));
            rows.push(VariantRow {
                phase,
                original,
                variant,
                rates: (before.median, after.median),
                cpu_ms: (cpu_ms(original, before.median), cpu_ms(variant, after.median)),
                p50: (p50(original), p50(variant)),
            });
        }
    }
    rows
}

/// One target's Aggregated row of a Locust phase (first repetition), for the side-by-side table.
pub fn locust_summary(report: &RunView<'_>, phase: usize) -> Vec<(usize, LocustRow)> {
    report
        .phase_targets(phase)
        .into_iter()
        .filter_map(|target| {
            let measurement = report.measurements(target, phase).next()?;
            Some((target, locust_row(&measurement.load.aggregated)))
        })
        .collect()
}
