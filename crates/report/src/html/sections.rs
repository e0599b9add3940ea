//! The page's sections from the header to the trend: verdict, failed targets, one section per phase, scaling,
//! requests per worker, Locust tables and the CI trend. Methodology has its own module.

use analysis::format;
use analysis::tables;
use analysis::verdict::Verdict;
use maud::{html, Markup};
use results::TargetStatus;

use super::cells::{target_cell, verdict_anchor};
use super::{figure, gated};
use crate::charts::{self, workers::WorkerRow};
use crate::page::Report;

pub fn header(report: &Report<'_>, title: &str) -> Markup {
    let results = report.results;
    let environment = &results.environment;
    html! {
        header {
            h1 { (title) }
            p.meta {
                "Run " (results.run_id) ", " (results.started_at) " to " (results.finished_at) ". "
                (environment.cpu_model) ", " (environment.cores) " cores, " (environment.kernel) "."
            }
            @if results.partial {
                p.banner {
                    strong { "Partial run." }
                    " The run was interrupted (or is still running): phases that were not measured are marked \
                     \"no data\", never drawn as zero."
                }
            }
            @for warning in &report.warnings {
                p.warning { (warning) }
            }
        }
    }
}

pub fn verdict(report: &Report<'_>, verdicts: &[Verdict]) -> Markup {
    let failed: Vec<&str> =
        report.targets.iter().filter(|target| target.failure().is_some()).map(|target| target.name()).collect();
    html! {
        section #verdict {
            h2 { "Verdict, endpoint by endpoint" }
            @if verdicts.is_empty() {
                p.missing { "No phase has data to judge." }
            } @else {
                ul.verdicts {
                    @for (index, verdict) in verdicts.iter().enumerate() {
                        li id=(verdict_anchor(index)) { strong { (verdict.subject.title()) } ": " (verdict.sentence(report)) }
                    }
                }
            }
            @if !failed.is_empty() {
                p.missing {
                    "No figures from " (failed.join(", ")) ": the target failed (see " a href="#problems" { "Failed targets" } ")."
                }
            }
            p.caption {
                "Each endpoint is judged on its capacity search when the run has one: the highest open-loop rate at \
                 which the latency objective held, with its range over the search and its confirmations. Otherwise \
                 on its closed-loop phase with the most connections (for CPU work, a phase \
                 calibrated with cpu_work first): req/s, successful responses per second, higher is better. \
                 Endpoints run only at a fixed rate or with Locust users, and mixed phases, are judged on p99 \
                 latency, lower is better. Figures count the responses completed inside the measured window; the \
                 requests still in flight when it closed are counted under them, with how long they had waited."
            }
        }
    }
}

/// The capacity phases' latency-versus-throughput charts, where the models break; nothing without such a phase.
pub fn capacity(report: &Report<'_>) -> Markup {
    let phases: Vec<usize> = (0..report.phases.len()).filter(|&phase| report.phases[phase].is_capacity()).collect();
    html! {
        @if !phases.is_empty() {
            section #capacity {
                h2 { "Capacity: latency against throughput" }
                p {
                    "Each target's capacity is the highest open-loop rate at which the latency objective held, found                      by an exponential ramp and a bisection, then confirmed on fresh processes, round after round                      across the targets. Where a curve turns up is where the model breaks."
                }
                @for phase in phases {
                    (figure(&charts::capacity::figure(report, phase), charts::capacity::takeaway(report, phase)))
                }
            }
        }
    }
}

pub fn problems(report: &Report<'_>) -> Markup {
    let failed: Vec<usize> = (0..report.targets.len()).filter(|&t| report.targets[t].failure().is_some()).collect();
    html! {
        @if !failed.is_empty() {
            section #problems {
                h2 { "Failed targets" }
                p { "These targets did not complete the run; phases measured before the failure are kept and shown." }
                @for target in failed {
                    @let result = report.targets[target].result;
                    h3 { (target_cell(report, target)) }
                    @if let TargetStatus::Failed { reason, stderr_tail } = &result.status {
                        p { strong { "Reason: " } (reason) }
                        p { "Command: " code { (result.command.join(" ")) } }
                        @if !stderr_tail.is_empty() {
                            p { "Last lines of its stderr:" }
                            pre { (stderr_tail.join("\n")) }
                        }
                    }
                }
            }
        }
    }
}

pub fn phases(report: &Report<'_>) -> Markup {
    html! {
        section #phases {
            h2 { "Phases" }
            p {
                "One fold per load phase, in the order they ran: the figures of every target, the latency \
                 distribution, and the phase over time. A phase whose targets are level (their ranges over the \
                 repetitions overlap on req/s and p99) says so in one sentence instead of drawing coinciding lines."
            }
            @for phase in 0..report.phases.len() {
                (phase_section(report, phase))
            }
        }
    }
}

fn phase_section(report: &Report<'_>, phase: usize) -> Markup {
    let info = &report.phases[phase];
    let corrected = tables::phase_is_corrected(report, phase);
    let rows = tables::phase_rows(report, phase);
    let repetitions = info.repetitions;
    let level = analysis::verdict::phase_level(report, phase);
    let summary = match &level {
        Some(_) => "level: no difference between the targets".to_owned(),
        None => charts::latency::takeaway(report, phase).unwrap_or_else(|| "no figures".to_owned()),
    };
    html! {
        details.phase id=(charts::phase_anchor(phase, info.name)) {
            summary { h3 { "Phase " (info.name) } span.summary-note { (summary) } }
            p {
                "Endpoints: " code { (info.endpoints_text()) } ". Load: " (info.example.load_description)
                "; " (format::significant(info.example.warmup_s, 3)) " s warm-up, "
                (format::significant(info.example.duration_s, 3)) " s measured"
                @if repetitions > 1 { ", " (repetitions) " repetitions (throughput: median, range in brackets)" }
                "."
                @if repetitions == 1 && level.is_none() {
                    " Single run, no spread: a difference smaller than the machine's run-to-run noise cannot be told \
                     apart, so no lead is called on it."
                }
            }
            div.table-wrap {
                table {
                    thead {
                        tr {
                            th { "Target" } th { "req/s" } th { "p50 ms" } th { "p99 ms" }
                            @if corrected { th { "p99 ms, service time" } }
                            th { "p99.9 ms" } th { "max ms" } th { "failed" } th { "CPU cores" }
                            th { "RSS MiB" } th { "PSS MiB" }
                        }
                    }
                    tbody {
                        @for row in &rows {
                            tr {
                                td { (target_cell(report, row.target)) }
                                @match &row.figures {
                                    Some(figures) => {
                                        td { (figures.throughput) } td { (figures.p50) } td { (figures.p99) }
                                        @if corrected { td { (figures.service_p99.as_deref().unwrap_or("–")) } }
                                        td { (figures.p99_9) } td { (figures.max) } td { (figures.failures) }
                                        td { (figures.cpu_cores) } td { (figures.rss) } td { (figures.pss) }
                                    }
                                    None => {
                                        td.missing colspan=(if corrected { 10 } else { 9 }) { (row.missing) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if corrected {
                p.caption {
                    "Rate phase: latencies count from each request's intended send time (coordinated omission \
                     corrected, as wrk2 does); the service-time column counts from the actual send."
                }
            }
            @if rows.iter().any(|row| row.figures.as_ref().is_some_and(|figures| figures.lower_bound)) {
                p.caption { (tables::LOWER_BOUND_RULE) }
            }
            @if info.kills_a_worker() { (super::article::kills(report, phase)) }
            @match &level {
                Some(level) => { p.level { (level.sentence()) } }
                None => {
                    (figure(&charts::latency::figure(report, phase), charts::latency::takeaway(report, phase)))
                    (figure(&charts::timeline::figure(report, phase), charts::timeline::takeaway(report, phase)))
                }
            }
        }
    }
}

pub fn scaling(report: &Report<'_>) -> Markup {
    html! {
        div.folded-body {
            (gated(
                &charts::scaling::concurrency(report),
                "No req/s-against-concurrency chart: no endpoint ran in closed-loop phases at two or more connection \
                 counts in this suite.",
            ))
            (gated(
                &charts::scaling::workers(report),
                "No req/s-against-workers chart: the suite has no targets that differ only in their worker count, \
                 measured in a closed-loop phase.",
            ))
        }
    }
}

pub fn workers(report: &Report<'_>) -> Markup {
    let rows = charts::workers::rows(report);
    let even = charts::workers::even_sentence(report, &rows);
    html! {
        div.folded-body {
            @if rows.is_empty() {
                p.missing {
                    "No target has requests per worker: prefork targets write them with --stats, and the load \
                     generator counts the x-worker-pid header of multi-process targets."
                }
            } @else {
                @match charts::workers::figure(report, &rows) {
                    Some(chart) => { (figure(&chart, charts::workers::takeaway(report, &rows))) }
                    None => { p.takeaway { (charts::workers::takeaway(report, &rows).unwrap_or_default()) } }
                }
                @if let Some(even) = even { p.level { (even) } }
                (worker_table(report, &rows))
            }
        }
    }
}

fn worker_table(report: &Report<'_>, rows: &[WorkerRow]) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr { th { "Target" } th.text { "Phase" } th { "workers" } th { "requests" } th.text { "per worker" } th { "fewest / most" } th.text { "counted by" } } }
                tbody {
                    @for row in rows {
                        tr {
                            td { (target_cell(report, row.target)) }
                            td.text { (report.phases[row.phase].name) }
                            td { (row.load.workers.len()) }
                            td { (format::count(row.load.total())) }
                            td.text {
                                (row.load.workers.iter().map(|worker| format::count(worker.requests)).collect::<Vec<_>>().join(" · "))
                            }
                            td {
                                @match row.load.balance().filter(|_| row.load.workers.len() > 1) {
                                    Some(balance) => { (format::significant(balance, 2)) }
                                    None => { "–" }
                                }
                            }
                            td.text { (row.source_text()) }
                        }
                    }
                }
            }
        }
    }
}

pub fn locust(report: &Report<'_>) -> Markup {
    let phases = tables::users_phases(report);
    html! {
        div.folded-body {
            @if phases.is_empty() {
                p.missing { "No phase used Locust's load model (users with think time) in this suite." }
            } @else {
                p {
                    "Locust's statistics table for each phase run with its load model (users with think time, the \
                     article's profile): first every target's Aggregated row side by side, with the columns the \
                     article reads (requests, failures, median, average, min and max response time, requests per \
                     second), then each target's table per endpoint. First repetition; times in milliseconds; RPS \
                     counts failed requests too, as Locust does. In flight: requests still unanswered when the window \
                     closed, in none of the other columns."
                }
            }
            @for phase in phases {
                h3 { "Phase " (report.phases[phase].name) ": " (report.phases[phase].example.load_description) }
                (super::article::locust_side_by_side(report, phase))
                @for target in report.phase_targets(phase) {
                    h4 { (target_cell(report, target)) }
                    @match tables::locust_rows(report, target, phase) {
                        Some(rows) => {
                            (super::article::locust_table("Name", rows.iter().map(|row| (html! { (row.name) }, row))))
                        }
                        None => { p.missing { (report.missing_reason(target)) } }
                    }
                }
            }
        }
    }
}

/// True when the run has CI history of its own: figures in results/history.jsonl measured on this run's targets,
/// phases and loads. A user's `make bench` beside the committed CI history gets no trend section.
pub fn trend_applies(report: &Report<'_>) -> bool {
    report.options.history.as_ref().is_some_and(|history| !crate::figure_words::shared(report, history).is_empty())
}

/// The trend of the CI history's figures this run shares, named in words; nothing when there are none.
pub fn trend(report: &Report<'_>) -> Markup {
    let Some(history) = report.options.history.as_ref() else { return html! {} };
    let names = crate::figure_words::shared(report, history);
    if names.is_empty() {
        return html! {};
    }
    html! {
        section #trend {
            h2 { "Trend over CI runs" }
            @match charts::trend::figure(history, &names) {
                Some(chart) => { (figure(&chart, charts::trend::takeaway(history, &names))) }
                None => { p.missing { (history.path) " has no run with a numeric figure." } }
            }
            @for skipped in &history.skipped {
                p.warning { (history.path) ", " (skipped) " (line skipped)" }
            }
        }
    }
}
