//! The methodology section: machine, cores and pinning, versions, git commit, targets and their commands (with the
//! sync model's keep-alive bound), the upstream, each phase's load model, how repetitions make the verdict, the
//! CPU work per request each target was sent, what each endpoint does, and the suite file (its header values left
//! out).

use analysis::endpoint::{path_only, EndpointKind};
use analysis::format;
use analysis::verdict::MIN_REPETITIONS;
use maud::{html, Markup};
use results::{CpuWork, LatencySummary, LoadModel, SentRequest, TargetKind, UpstreamHolds, UpstreamSettings};

use super::cells::target_cell;
use super::keep_alive::keep_alive_text;
use crate::page::Report;

pub fn section(report: &Report<'_>) -> Markup {
    let results = report.results;
    let environment = &results.environment;
    let pinning = &results.pinning;
    let commit = match (&environment.git_commit, environment.git_dirty) {
        (Some(commit), Some(true)) => format!("{commit} (with uncommitted changes)"),
        (Some(commit), _) => commit.clone(),
        (None, _) => "not a git checkout".to_owned(),
    };
    // The driver keeps the suite without header values; results.json files written before it did still have them.
    let suite_text = results::redact::redact_header_values(&results.suite.text);
    html! {
        div.folded-body {
            h3 { "Machine and software" }
            dl.facts {
                dt { "CPU" } dd { (environment.cpu_model) }
                dt { "Logical cores" } dd { (environment.cores) " (online: " (cores(&pinning.online_cores)) ")" }
                dt { "Kernel" } dd { (environment.kernel) }
                dt { "Host" } dd { (environment.hostname) }
                dt { "rustc" } dd { (environment.rustc) }
                dt { "rustcorn" } dd { (environment.crate_version) }
                dt { "Git commit" } dd { code { (commit) } }
                dt { "Run" } dd { (results.run_id) ", " (results.started_at) " to " (results.finished_at) }
            }
            h3 { "CPU pinning" }
            p {
                "Each process was restricted to its cores with sched_setaffinity, so the server, the load generator \
                 and the upstream do not compete for the same core unless listed together."
            }
            div.table-wrap {
                table {
                    thead { tr { th.text { "Process" } th.text { "Cores" } th.text { "Why" } } }
                    tbody {
                        tr { td { "load generator" } td.text { (cores(&pinning.load_cores)) } td.text { "driver's load threads" } }
                        tr { td { "upstream" } td.text { (cores(&pinning.upstream_cores)) } td.text { "google.com stand-in" } }
                        @for target in &pinning.targets {
                            tr { td { (target.target) } td.text { (cores(&target.cores)) } td.text { (target.reason) } }
                        }
                    }
                }
            }
            h3 { "Targets" }
            div.table-wrap {
                table {
                    thead { tr { th { "Target" } th.text { "Model" } th { "Workers" } th { "Threads" } th.text { "Command" } } }
                    tbody {
                        @for (index, view) in report.targets.iter().enumerate() {
                            tr {
                                td { (target_cell(report, index)) }
                                td.text {
                                    (kind_text(view.result.kind))
                                    @if let Some(keep_alive) = keep_alive_text(view.result) { "; " (keep_alive) }
                                }
                                td { (view.result.worker_count().map_or("–".to_owned(), |w| w.to_string())) }
                                td { (view.result.threads.map_or("–".to_owned(), |t| t.to_string())) }
                                td.text { code { (view.result.command.join(" ")) } }
                            }
                        }
                    }
                }
            }
            h3 { "Upstream" }
            p {
                "/sync-google and /async-google call a local stand-in for google.com at " code { (results.upstream.url) }
                ": it answers after " (format::significant(results.upstream.delay_ms, 3)) " ms (jitter "
                (format::significant(results.upstream.jitter_ms, 3)) " ms) with a "
                (format::bytes(results.upstream.body_bytes as f64)) " body. It is async and never the bottleneck, so \
                 the difference between the two endpoints is the server model's."
            }
            p { (transport_text(&results.upstream)) }
            p { (holds_text(results.upstream.holds.as_ref())) }
            h3 { "Load" }
            div.table-wrap {
                table {
                    thead {
                        tr { th.text { "Phase" } th.text { "Endpoints" } th.text { "Load model" } th { "Warm-up s" } th { "Measured s" } th { "Repetitions" } }
                    }
                    tbody {
                        @for phase in &report.phases {
                            tr {
                                td { (phase.name) }
                                td.text { code { (phase.endpoints_text()) } }
                                td.text { (load_model_text(phase.load_model())) " — " (phase.example.load_description) }
                                td { (format::significant(phase.example.warmup_s, 3)) }
                                td { (format::significant(phase.example.duration_s, 3)) }
                                td { (phase.repetitions) }
                            }
                        }
                    }
                }
            }
            (requests_sent(report))
            ul {
                li {
                    strong { "users" } " (Locust's model): each user sends a request, waits for the answer, thinks a \
                     random time, repeats. req/s is set by the users and their think time as long as the server keeps \
                     up, so these phases are judged on latency."
                }
                li {
                    strong { "concurrency" } " (wrk's model): each connection sends its next request as soon as the \
                     previous answer arrives: the server's maximum throughput at that concurrency."
                }
                li {
                    strong { "rate" } " (wrk2's model): requests at a fixed rate whatever the answers; latency counts \
                     from each request's intended send time (coordinated omission corrected), and the service time \
                     from the actual send is shown beside it."
                }
                li {
                    "Throughput counts successful responses only. Latency is kept in microseconds in HdrHistograms \
                     (3 significant digits) and rounded only for display. The target's whole process tree is sampled \
                     from /proc every ~100 ms: CPU time, RSS, and PSS from smaps_rollup."
                }
                li {
                    "Throughput and latency count what wrk counts: the responses completed inside the measured \
                     window (warm-up requests answered in it included), divided by the window. Requests still \
                     unanswered when the window closed are in neither: their connections are closed, and the \
                     verdict's table and the Locust tables show how many there were and how long they had waited. \
                     In rate phases every request due before the close is accounted for: answered, or in flight \
                     (sent, or due but not yet sent because the load generator had fallen behind)."
                }
                li {
                    "Gunicorn's sync worker does not keep connections alive (its keepalive setting applies to async \
                     workers): a gunicorn-exact sync target closes each connection after its response, which costs a \
                     connect per request."
                }
            }
            (repetitions_section())
            (cpu_work_section(report))
            h3 { "Endpoints" }
            dl.facts {
                @for (path, kind) in endpoints(report) {
                    dt { code { (path) } " — " (kind.label()) }
                    dd { (kind.description()) }
                }
            }
            h3 { "Suite file" }
            p { code { (results.suite.path) } " (" (results.suite.name) "), as it was when the run started:" }
            @if suite_text != results.suite.text {
                p { "The values of its phases' headers are left out here (…): they may be secrets." }
            }
            pre { (suite_text) }
        }
    }
}

/// How the targets reached the upstream: HTTPS with what its handshakes negotiated (the upstream's own count), or
/// plain HTTP, which leaves out the handshake google.com costs.
fn transport_text(upstream: &UpstreamSettings) -> String {
    if !upstream.url.starts_with("https:") {
        return "Plain HTTP: no TLS handshake, which google.com costs each new connection (a suite's `[upstream] \
                tls = true` adds it)."
            .to_owned();
    }
    let ca = upstream.ca_file.as_deref().unwrap_or("a CA made for the run");
    let trusted = format!(
        "HTTPS (rustls, an ECDSA P-256 certificate as google.com serves) from a CA made for the run ({ca}), which \
         every target was told to trust: --upstream-ca for the Rust models, SSL_CERT_FILE and REQUESTS_CA_BUNDLE \
         for the others."
    );
    let Some(tls) = upstream.holds.as_ref().and_then(|holds| holds.tls.as_ref()) else {
        return format!("{trusted} What the handshakes negotiated is not in this results file.");
    };
    let count = |resumed: bool| tls.handshakes.iter().filter(|n| n.resumed == resumed).map(|n| n.count).sum::<u64>();
    format!(
        "{trusted} The upstream counted {} full handshakes and {} resumed ones, {} failed; negotiated: {}.",
        format::count(count(false)),
        format::count(count(true)),
        format::count(tls.failed_handshakes),
        negotiated(upstream).unwrap_or_else(|| "nothing".to_owned()),
    )
}

/// What the upstream's TLS handshakes settled on, e.g. "TLSv1.3, TLS_AES_256_GCM_SHA384, X25519" (distinct
/// combinations joined by "; "); None over plain HTTP or without the upstream's record.
pub fn negotiated(upstream: &UpstreamSettings) -> Option<String> {
    let tls = upstream.holds.as_ref()?.tls.as_ref()?;
    let mut seen: Vec<String> = Vec::new();
    for n in &tls.handshakes {
        let text = format!("{}, {}, {}", n.version, n.cipher_suite, n.key_exchange);
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    (!seen.is_empty()).then(|| seen.join("; "))
}

/// What the upstream's own record says about the holds it gave (the ground truth under the I/O endpoints).
fn holds_text(holds: Option<&UpstreamHolds>) -> String {
    let Some(holds) = holds else {
        return "The upstream's record of the holds it gave is not in this results file.".to_owned();
    };
    let (hold, late) = (&holds.hold, &holds.late);
    let at = |summary: &LatencySummary, percentile: f64| summary.at(percentile).unwrap_or(0) as f64;
    // To the microsecond: the point is how close to the asked delay the holds were, which 3 digits would hide.
    let exact = |micros: f64| format!("{:.3} ms", micros / 1000.0);
    let record = format!(
        "Its own record over the whole run: {} requests held {} at the median, {} at p99, {} at most (from the \
         parsed request to the response handed back to hyper), that is {} late at the median and {} at p99.",
        format::count(hold.samples),
        exact(at(hold, 50.0)),
        exact(at(hold, 99.0)),
        exact(hold.max_us as f64),
        format::latency_us(at(late, 50.0)),
        format::latency_us(at(late, 99.0)),
    );
    match spin_text(holds) {
        Some(spin) => format!("{record} {spin}"),
        None => record,
    }
}

/// What the upstream's precision cost: the time it busy-polled before deadlines, as a share of one core.
fn spin_text(holds: &UpstreamHolds) -> Option<String> {
    let (spun, ran) = (holds.spun_us?, holds.ran_us.filter(|&ran| ran > 0)?);
    Some(format!(
        "To release on time from an idle CPU, which wakes a few hundred microseconds late, its timer wakes shortly \
         before each deadline and busy-polls until it: {:.1} ms over the run, {:.2} % of one core.",
        spun as f64 / 1000.0,
        100.0 * spun as f64 / ran as f64
    ))
}

/// One line per phase whose requests were not plain GETs with keep-alive: what they were, header names only.
fn requests_sent(report: &Report<'_>) -> Markup {
    let shaped: Vec<(&str, &SentRequest)> =
        report.phases.iter().filter_map(|phase| Some((phase.name, phase.example.request.as_ref()?))).collect();
    if shaped.is_empty() {
        return html! {};
    }
    html! {
        ul {
            @for (phase, request) in shaped {
                li { "Phase " (phase) " sent " (request_text(request)) "." }
            }
        }
    }
}

/// E.g. "POST with 2 headers (Authorization, Content-Type) and a 1,024-byte body, no keep-alive (a new
/// connection per request)". Header values are never shown: they may be secrets.
pub(crate) fn request_text(request: &SentRequest) -> String {
    let mut parts = Vec::new();
    match request.header_names.len() {
        0 => {}
        1 => parts.push(format!("1 header ({})", request.header_names[0])),
        count => parts.push(format!("{count} headers ({})", request.header_names.join(", "))),
    }
    if request.body_bytes > 0 {
        parts.push(format!("a {}-byte body", format::count(request.body_bytes)));
    }
    let mut text = request.method.clone();
    if !parts.is_empty() {
        text.push_str(" with ");
        text.push_str(&parts.join(" and "));
    }
    if !request.keep_alive {
        text.push_str(", no keep-alive (a new connection per request)");
    }
    text
}

fn repetitions_section() -> Markup {
    html! {
        h3 { "Repetitions and the verdict" }
        p {
            "Each target ran each phase as many times as the Load table says, every time as a fresh process. The \
             repetitions of a phase go round by round, one run of every target per round, each round starting one \
             target further along, so that a slow drift of the shared machine, or the place right after a phase \
             change, favours no target. A figure in the verdict and the headline table is the median of its \
             repetitions, and its interval is their range, min–max, shown in brackets. A lead is called only when \
             the best target's range overlaps no other target's, with at least " (MIN_REPETITIONS) " repetitions of \
             each; otherwise the targets are level. Two targets that are truly equal still show separate ranges by \
             chance: 1 time in 10 with 3 repetitions each (2 of the 20 equally likely orders of 6 values), 1 in 126 \
             with 5."
        }
    }
}

/// The `?iterations=` each target was sent in phases calibrated with `cpu_work`, and the phases that send a fixed
/// count (the article's loop as written).
fn cpu_work_section(report: &Report<'_>) -> Markup {
    let calibrated: Vec<usize> =
        (0..report.phases.len()).filter(|&phase| report.phases[phase].cpu_work_s().is_some()).collect();
    let literal: Vec<usize> = (0..report.phases.len())
        .filter(|&phase| {
            let info = &report.phases[phase];
            info.cpu_work_s().is_none()
                && info.example.endpoints.iter().any(|share| EndpointKind::of(&share.path) == EndpointKind::Cpu)
        })
        .collect();
    if calibrated.is_empty() && literal.is_empty() {
        return html! {};
    }
    html! {
        h3 { "CPU work per request" }
        p {
            "A task with " code { "cpu_work" } " asks for a CPU time per request instead of an iteration count. \
             Before the run the driver started each target once and, idle, sent it sequential requests, searching \
             the " code { "?iterations=" } " count at which the duration the endpoint itself reports (the median of \
             up to 15 requests) came within ±5 % of that cost; every phase then sent that count to that target. So \
             every target does the same CPU work per request, and the comparison is of server models rather than of \
             how fast each language runs the loop."
        }
        @if !calibrated.is_empty() {
            div.table-wrap {
                table {
                    thead {
                        tr {
                            th.text { "Phase" } th { "Target" } th { "asked" } th { "?iterations=" }
                            th { "measured (median)" } th { "requests" } th { "probes" }
                        }
                    }
                    tbody {
                        @for &phase in &calibrated {
                            @for (target, path, work) in cpu_work_rows(report, phase) {
                                tr {
                                    td.text { (report.phases[phase].name) " " code { (path) } }
                                    td { (target_cell(report, target)) }
                                    td { (format::latency_us(work.requested_s * 1e6)) }
                                    td { (format::count(work.iterations)) }
                                    td { (format::latency_us(work.measured_s * 1e6)) }
                                    td { (work.samples) }
                                    td { (work.probes) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @for phase in literal {
            p {
                "Phase " (report.phases[phase].name) " (" code { (report.phases[phase].endpoints_text()) } ") sends \
                 the article's loop as written: the same iteration count to every target (the servers' default, \
                 100,000 = 1000 × 100, where the query does not say), not calibrated, so a request costs each target \
                 what its language makes of the loop."
            }
        }
    }
}

/// (target, path, cpu_work) of every calibrated task of `phase`, from each target's first repetition.
fn cpu_work_rows<'r>(report: &'r Report<'_>, phase: usize) -> Vec<(usize, &'r str, &'r CpuWork)> {
    let mut rows = Vec::new();
    for target in 0..report.targets.len() {
        let Some(measurement) = report.measurements(target, phase).next() else { continue };
        for share in &measurement.result.endpoints {
            if let Some(work) = &share.cpu_work {
                rows.push((target, share.path.as_str(), work));
            }
        }
    }
    rows
}

/// Every endpoint path the phases requested, in first-seen order.
fn endpoints(report: &Report<'_>) -> Vec<(String, EndpointKind)> {
    let mut seen: Vec<(String, EndpointKind)> = Vec::new();
    for phase in &report.phases {
        for share in &phase.example.endpoints {
            let path = path_only(&share.path).to_owned();
            if !seen.iter().any(|(existing, _)| *existing == path) {
                let kind = EndpointKind::of(&path);
                seen.push((path, kind));
            }
        }
    }
    seen
}

fn cores(list: &[u32]) -> String {
    if list.is_empty() {
        return "any (not pinned)".to_owned();
    }
    list.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

fn kind_text(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Sync => "sync: thread per connection",
        TargetKind::Async => "async: event loop",
        TargetKind::Prefork => "prefork: master + workers",
        TargetKind::External => "external command",
    }
}

fn load_model_text(model: &LoadModel) -> String {
    match model {
        LoadModel::Users { users, think_min_s, think_max_s } => format!(
            "users: {users}, think {}–{} s",
            format::significant(*think_min_s, 3),
            format::significant(*think_max_s, 3)
        ),
        LoadModel::Concurrency { connections } => format!("concurrency: {connections} connections"),
        LoadModel::Rate { rate_per_s, connections } => {
            format!("rate: {} req/s over {connections} connections", format::rate(*rate_per_s))
        }
        LoadModel::Capacity { objective, max_connections } => {
            format!("capacity search: the highest open-loop rate with {objective}, up to {max_connections} connections")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_as_its_method_header_names_body_size_and_keep_alive() {
        let request = |method: &str, names: &[&str], body_bytes: u64, keep_alive: bool| SentRequest {
            method: method.into(),
            header_names: names.iter().map(|name| (*name).to_owned()).collect(),
            body_bytes,
            keep_alive,
        };
        assert_eq!(
            request_text(&request("POST", &["Authorization", "Content-Type"], 1024, false)),
            "POST with 2 headers (Authorization, Content-Type) and a 1,024-byte body, no keep-alive (a new \
             connection per request)"
        );
        assert_eq!(request_text(&request("PUT", &[], 7, true)), "PUT with a 7-byte body");
        assert_eq!(request_text(&request("GET", &["X-A"], 0, true)), "GET with 1 header (X-A)");
        assert_eq!(request_text(&request("GET", &[], 0, false)), "GET, no keep-alive (a new connection per request)");
    }
}
