//! The page's parts that come from the article's experiment: what its code costs against the improved variants,
//! the requests and failures per second around a killed worker, and the Locust run side by side.

use analysis::endpoint::EndpointKind;
use analysis::format;
use analysis::tables::{self, KillRow, LocustRow, VariantRow};
use maud::{html, Markup};

use super::cells::target_cell;
use super::methodology::negotiated;
use crate::page::Report;

/// "What the article's code costs": each variant beside its original, per phase both ran.
pub fn variants(report: &Report<'_>) -> Markup {
    let rows = tables::variant_rows(report);
    html! {
        section #variants {
            h2 { "What the article's code costs" }
            @if rows.is_empty() {
                p.missing {
                    "No target in this suite is a variant of another. `make bench-python` runs the article's app \
                     (bench-suite/python/main.py) beside improved.py, which keeps one HTTP session per process \
                     instead of opening one per request."
                }
            } @else {
                p {
                    "Each improved variant beside the target running the article's code as written, in every phase \
                     both ran: successful req/s, the CPU time each response cost (the process tree's CPU seconds \
                     over its successful responses) and the median latency."
                }
                p { (transport(report)) }
                @let findings = rows.iter().filter_map(|row| upstream_finding(report, row)).collect::<Vec<_>>();
                @if !findings.is_empty() {
                    ul.findings { @for finding in &findings { li { (finding) } } }
                }
                div.table-wrap {
                    table {
                        thead {
                            tr {
                                th.text { "Phase" } th { "Article's code" } th { "Improved" } th { "req/s" }
                                th { "improved req/s" } th { "ratio" } th { "CPU ms / request" } th { "improved" }
                                th { "p50 ms" } th { "improved" }
                            }
                        }
                        tbody {
                            @for row in &rows {
                                tr {
                                    td.text { (report.phases[row.phase].name) }
                                    td { (target_cell(report, row.original)) }
                                    td { (target_cell(report, row.variant)) }
                                    td { (format::rate(row.rates.0)) }
                                    td { (format::rate(row.rates.1)) }
                                    td { (format::ratio(row.rates.1 / row.rates.0.max(f64::MIN_POSITIVE))) }
                                    td { (optional(row.cpu_ms.0, |ms| format::significant(ms, 3))) }
                                    td { (optional(row.cpu_ms.1, |ms| format::significant(ms, 3))) }
                                    td { (median(row.p50.0)) }
                                    td { (median(row.p50.1)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a new connection to the upstream cost in this run: the I/O rows' differences are that cost.
fn transport(report: &Report<'_>) -> String {
    let upstream = &report.results.upstream;
    if !upstream.url.starts_with("https:") {
        return "The upstream spoke plain HTTP in this run: a connection opened per request costs a TCP connect \
                here, not the TLS handshake google.com costs, so the I/O rows understate the article's cost."
            .to_owned();
    }
    let settled = negotiated(upstream).map_or_else(String::new, |text| format!(" ({text})"));
    format!(
        "The upstream spoke TLS{settled}, as google.com does: every connection the article's code opens per request \
         costs a full handshake in the server under test, which a pooled session pays once per connection."
    )
}

/// A phase on /sync-google or /async-google, in words: what the article's per-request session cost in CPU per
/// response and in req/s beside the pooled variant. None for other phases or without CPU figures.
fn upstream_finding(report: &Report<'_>, row: &VariantRow) -> Option<String> {
    let phase = &report.phases[row.phase];
    let upstream = |share: &results::EndpointShare| {
        matches!(EndpointKind::of(&share.path), EndpointKind::BlockingIo | EndpointKind::AsyncIo)
    };
    if phase.example.endpoints.is_empty() || !phase.example.endpoints.iter().all(upstream) {
        return None;
    }
    let (Some(original_ms), Some(variant_ms)) = row.cpu_ms else { return None };
    let ms = |value: f64| format!("{} ms", format::significant(value, 3));
    Some(format!(
        "{} (phase {}): {} with the article's code used {} of CPU per response at {} req/s; {} with one pooled \
         session {} at {} req/s. The article's per-request session costs {} the CPU per response and serves {} the \
         requests per second.",
        phase.endpoints_text(),
        phase.name,
        report.target_name(row.original),
        ms(original_ms),
        format::rate(row.rates.0),
        report.target_name(row.variant),
        ms(variant_ms),
        format::rate(row.rates.1),
        format::ratio(original_ms / variant_ms.max(f64::MIN_POSITIVE)),
        format::ratio(row.rates.0 / row.rates.1.max(f64::MIN_POSITIVE)),
    ))
}

fn optional(value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "–".to_owned(), show)
}

/// A median in ms, "≥" when it is a lower bound.
fn median(value: Option<analysis::LatencyAt>) -> String {
    value.map_or_else(|| "–".to_owned(), |at| format::at_least(format::ms(at.us), at.lower_bound))
}

/// The kill in a phase that SIGKILLed a process of each target: successes (failures) per second around it.
pub fn kills(report: &Report<'_>, phase: usize) -> Markup {
    let rows: Vec<KillRow> =
        report.phase_targets(phase).into_iter().filter_map(|target| tables::kill_row(report, target, phase)).collect();
    let seconds = rows.iter().map(|row| row.seconds.len()).max().unwrap_or(0);
    html! {
        h4 { "Around the kill" }
        p {
            "The driver sent SIGKILL to one process of each target: a worker of a master (which respawns it), or a \
             single-process server's only process (which nothing restarts). Successful responses in each second of \
             the measured part, failed requests in brackets; the second of the kill is marked."
        }
        div.table-wrap {
            table {
                thead {
                    tr {
                        th { "Target" } th.text { "killed" } th { "at s" }
                        @for second in 0..seconds { th { "s" (second) } }
                    }
                }
                tbody {
                    @for row in &rows {
                        tr {
                            td { (target_cell(report, row.target)) }
                            td.text {
                                "pid " (row.pid) ", " (if row.whole_server { "the whole server" } else { "a worker" })
                            }
                            td { (format::significant(row.at_s, 3)) }
                            @for (second, (ok, failed)) in row.seconds.iter().enumerate() {
                                @if second == row.kill_second() {
                                    td.best { (format::count(*ok)) " (" (format::count(*failed)) ") ✝" }
                                } @else {
                                    td { (format::count(*ok)) " (" (format::count(*failed)) ")" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every target's Aggregated Locust row of `phase` in one table, with the article's columns.
pub fn locust_side_by_side(report: &Report<'_>, phase: usize) -> Markup {
    let rows = tables::locust_summary(report, phase);
    locust_table("Target", rows.iter().map(|(target, row)| (target_cell(report, *target), row)))
}

/// Locust's statistics table: a first column (a name or a target), then Locust's figures.
pub fn locust_table<'r>(first: &str, rows: impl Iterator<Item = (Markup, &'r LocustRow)>) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead {
                    tr {
                        th { (first) } th { "# requests" } th { "# fails" } th { "Median (ms)" } th { "Average (ms)" }
                        th { "Min (ms)" } th { "Max (ms)" } th { "RPS" } th { "In flight" }
                    }
                }
                tbody {
                    @for (label, row) in rows {
                        tr {
                            td { (label) } td { (row.requests) } td { (row.fails) } td { (row.median_ms) }
                            td { (row.average_ms) } td { (row.min_ms) } td { (row.max_ms) } td { (row.rps) }
                            td { (row.in_flight) }
                        }
                    }
                }
            }
        }
    }
}
