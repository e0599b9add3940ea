//! The overview chart: targets x endpoints as a heat map, each cell the target's figure relative to the best in its
//! column (req/s over the best's, or the best's p99 over the target's) with the absolute figure under it. One
//! table in place of a bar panel per endpoint; its takeaway names the widest gap.

use analysis::format;
use analysis::tables;
use analysis::verdict::{Basis, Verdict};
use maud::{html, Markup};

use super::cells::{in_flight_note, target_cell};
use crate::page::Report;

/// A target's standing in a verdict's column: 1.0 for the best, less for the others; None without a figure.
fn relative(verdict: &Verdict, target: usize) -> Option<f64> {
    let best = verdict.ranking.first()?.value.median;
    let mine = verdict.ranking.iter().find(|entry| entry.target == target)?.value.median;
    let share = match verdict.basis {
        Basis::Throughput | Basis::Capacity => mine / best,
        Basis::P99Latency => best / mine,
    };
    share.is_finite().then_some(share)
}

/// "prefork-sync-2 reaches 4 % of async-2 on /async-google", the widest gap of any column; None when no column
/// has two targets.
pub fn takeaway(report: &Report<'_>, verdicts: &[Verdict]) -> Option<String> {
    let (verdict, worst, share) = verdicts
        .iter()
        .filter_map(|verdict| {
            let worst = verdict
                .ranking
                .iter()
                .skip(1)
                .filter_map(|entry| Some((entry.target, relative(verdict, entry.target)?)));
            worst.min_by(|a, b| a.1.total_cmp(&b.1)).map(|(target, share)| (verdict, target, share))
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))?;
    let best = verdict.best()?;
    let measure = match verdict.basis {
        Basis::Throughput => "of the req/s of",
        Basis::P99Latency => "of the p99 speed of",
        Basis::Capacity => "of the capacity of",
    };
    Some(format!(
        "Widest gap: {} reaches {} {measure} {} on {}.",
        report.target_name(worst),
        format::percent(share),
        report.target_name(best),
        verdict.subject.short_title()
    ))
}

pub fn figure(report: &Report<'_>, verdicts: &[Verdict]) -> Markup {
    let table = tables::headline(report, verdicts);
    html! {
        figure.chart.overview #chart-overview {
            figcaption { "Every model on every endpoint, relative to the best in each column" }
            @if let Some(takeaway) = takeaway(report, verdicts) { p.takeaway { (takeaway) } }
            div.table-wrap {
                table.heat {
                    thead {
                        tr {
                            th { "Target" }
                            @for column in &table.columns { th { (column.title) br; small { (column.detail) } } }
                        }
                    }
                    tbody {
                        @for row in &table.rows {
                            tr {
                                td { (target_cell(report, row.target)) }
                                @for (verdict, cell) in verdicts.iter().zip(&row.cells) {
                                    @match relative(verdict, row.target).filter(|_| !cell.missing) {
                                        Some(share) => {
                                            td class=(if cell.best { "best" } else { "" })
                                                style=(format!("background:rgba(31,95,168,{:.2})", 0.06 + 0.5 * share.clamp(0.0, 1.0))) {
                                                span.share { (format::percent(share)) } br;
                                                small { (cell.text) } (in_flight_note(cell))
                                            }
                                        }
                                        None => { td.missing { (cell.text) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.caption {
                "100 % is the best target in its column: req/s relative to the most req/s for closed-loop phases, \
                 the lowest p99 over the target's p99 for phases paced by users or a rate. The darker the cell, the \
                 closer to the best. Under each share, the figure itself. "
                (analysis::verdict::LEAD_RULE)
            }
            @if verdicts.iter().any(|verdict| verdict.ranking.iter().any(|entry| entry.lower_bound)) {
                p.caption { (tables::LOWER_BOUND_RULE) }
            }
        }
    }
}
