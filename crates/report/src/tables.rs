//! Tables as data, shared by the HTML page and summary.md: the headline table (targets x verdict subjects), each
//! phase's figures per target, and the Locust-style statistics table.

use bench::results::LoadModel;
use loadgen::{EndpointStats, LatencyBasis};

use crate::data::Report;
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
}

pub fn headline(report: &Report<'_>, verdicts: &[Verdict]) -> HeadlineTable {
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
                        text: verdict.cell_text(&entry.value),
                        best: verdict.best() == Some(target) && verdict.is_clear_lead(),
                        missing: false,
                    },
                    None => Cell { text: report.missing_short(target).to_owned(), best: false, missing: true },
                })
                .collect(),
        })
        .collect();
    HeadlineTable { columns, rows }
}

/// A phase's figures for one target, as text; None fields print as a dash.
pub struct PhaseRow {
    pub target: usize,
    /// None when the target has no figures in this phase: `missing` says why.
    pub figures: Option<PhaseFigures>,
    pub missing: String,
}

pub struct PhaseFigures {
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

pub fn phase_rows(report: &Report<'_>, phase: usize) -> Vec<PhaseRow> {
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

fn phase_figures(report: &Report<'_>, target: usize, phase: usize) -> Option<PhaseFigures> {
    let latency = report.latency(target, phase);
    let throughput = report.throughput(target, phase)?;
    let at = |percentile: f64| latency.map_or("–".to_owned(), |latency| format::ms(latency.at(percentile)));
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
pub fn phase_is_corrected(report: &Report<'_>, phase: usize) -> bool {
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
}

/// Locust's table for one target in one phase (first repetition): one row per endpoint, then Aggregated.
pub fn locust_rows(report: &Report<'_>, target: usize, phase: usize) -> Option<Vec<LocustRow>> {
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
        median_ms: ms(latency.median_us as f64),
        average_ms: ms(latency.mean_us),
        min_ms: ms(latency.min_us as f64),
        max_ms: ms(latency.max_us as f64),
        rps: format::rate(stats.requests_per_second),
    }
}

/// Phases run with Locust's load model (users with think time): the ones that get a Locust table.
pub fn users_phases(report: &Report<'_>) -> Vec<usize> {
    (0..report.phases.len())
        .filter(|&phase| matches!(report.phases[phase].load_model(), LoadModel::Users { .. }))
        .collect()
}

fn unit_of(basis: Basis) -> &'static str {
    match basis {
        Basis::Throughput => "req/s",
        Basis::P99Latency => "p99",
    }
}
