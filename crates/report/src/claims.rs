//! The seed's four claims about Python servers, each checked against the run's data for the Python peers and for
//! the Rust models that answer them: where it holds, where not, or "not measured in this run". The verdict sections
//! of report.html and summary.md list them after the per-endpoint verdicts.

use bench::results::{Family, LoadModel, TargetKind, TargetResult};

use maud::{html, Markup};

use crate::data::Report;

/// A process uses "more than one core" above this (the sampler's 100 ms ticks and the runtime's own threads add a
/// few percent to a process held to one core by a lock).
const ONE_CORE: f64 = 1.25;

/// Below this a process was not held back by its CPU: the load, not the cores, set its pace.
const CPU_BOUND: f64 = 0.75;

/// The multi-process model "scales" when it serves at least this much more than the one-process model.
const SCALING_RATIO: f64 = 1.3;

/// What the data says about one claim for one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    Holds,
    /// The mechanism the claim names is at work, but a figure it implies is not there (said in the evidence).
    Partly,
    DoesNotHold,
    NotMeasured,
}

/// One claim checked for one family.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub family: Family,
    pub finding: Finding,
    /// The figures behind the finding, or why it could not be checked.
    pub evidence: String,
}

/// One of the seed's claims with its checks for Python and for Rust.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub statement: &'static str,
    pub checks: Vec<Check>,
}

/// What a target is, as far as the claims are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// One process, one event loop (uvicorn alone; rustcorn async --threads 1).
    SingleLoop,
    /// A master and several event-loop workers (gunicorn -k UvicornWorker; rustcorn prefork -k async).
    PreforkAsync,
    /// A master and workers serving one request at a time (gunicorn sync workers; prefork -k sync --max-threads 1).
    SyncWorkers,
}

/// The four claims, in the seed's order.
pub fn check_claims(report: &Report<'_>) -> Vec<Claim> {
    let families = [Family::Python, Family::Rust];
    let claim = |statement: &'static str, check: fn(&Report<'_>, Family) -> Check| Claim {
        statement,
        checks: families.iter().map(|family| check(report, *family)).collect(),
    };
    vec![
        claim("uvicorn alone cannot use more than one core for CPU-bound work", single_loop_cores),
        claim("gunicorn with UvicornWorker scales across cores", prefork_scales),
        claim("sync workers queue beyond their count", sync_workers_queue),
        claim("async I/O endpoints need no extra workers to overlap waits", async_overlaps),
    ]
}

impl Finding {
    pub fn label(self) -> &'static str {
        match self {
            Finding::Holds => "holds",
            Finding::Partly => "holds in part",
            Finding::DoesNotHold => "does not hold",
            Finding::NotMeasured => "not measured in this run",
        }
    }
}

impl Check {
    /// "Python: holds - py-uvicorn used 1.01 cores ..."
    pub fn sentence(&self) -> String {
        let family = match self.family {
            Family::Python => "Python",
            Family::Rust => "Rust",
        };
        format!("{family}: {} - {}", self.finding.label(), self.evidence)
    }
}

fn role(target: &TargetResult) -> Option<Role> {
    match target.kind {
        TargetKind::Async if target.threads == Some(1) => Some(Role::SingleLoop),
        TargetKind::Prefork => match flag_value(&target.command, &["-k", "--worker-class"]) {
            Some("async") => Some(Role::PreforkAsync),
            Some("sync") | None if target.threads == Some(1) => Some(Role::SyncWorkers),
            _ => None,
        },
        TargetKind::External => python_role(&target.command.join(" ")),
        TargetKind::Sync | TargetKind::Async => None,
    }
}

/// Recognises the seed's three Python servers by their command line.
fn python_role(command: &str) -> Option<Role> {
    if command.contains("gunicorn") {
        if command.contains("UvicornWorker") {
            Some(Role::PreforkAsync)
        } else if !command.contains(" -k ") && !command.contains("--worker-class") {
            Some(Role::SyncWorkers)
        } else {
            None
        }
    } else if command.contains("uvicorn") {
        Some(Role::SingleLoop)
    } else {
        None
    }
}

fn flag_value<'c>(command: &'c [String], names: &[&str]) -> Option<&'c str> {
    command.windows(2).find(|pair| names.contains(&pair[0].as_str())).map(|pair| pair[1].as_str())
}

/// The first target of `family` in `role` that has figures in `phase`.
fn find(report: &Report<'_>, family: Family, role_wanted: Role, phase: usize) -> Option<usize> {
    (0..report.targets.len()).find(|&target| {
        let result = report.targets[target].result;
        result.family == family && role(result) == Some(role_wanted) && report.has_data(target, phase)
    })
}

/// The closed-loop phase requesting only `path` with the most connections, and its connection count.
fn concurrency_phase(report: &Report<'_>, path: &str) -> Option<(usize, u32)> {
    report
        .phases
        .iter()
        .enumerate()
        .filter(|(_, phase)| phase.single_endpoint() == Some(path))
        .filter_map(|(index, phase)| match phase.load_model() {
            LoadModel::Concurrency { .. } => phase.connections().map(|connections| (index, connections)),
            _ => None,
        })
        .max_by_key(|(_, connections)| *connections)
}

fn not_measured(family: Family, what: impl Into<String>) -> Check {
    Check { family, finding: Finding::NotMeasured, evidence: what.into() }
}

fn req_per_s(report: &Report<'_>, target: usize, phase: usize) -> f64 {
    report.throughput(target, phase).map_or(0.0, |spread| spread.median)
}

fn cores_used(report: &Report<'_>, target: usize, phase: usize) -> f64 {
    report.cpu_cores(target, phase).map_or(0.0, |spread| spread.median)
}

fn single_loop_cores(report: &Report<'_>, family: Family) -> Check {
    let Some((phase, _)) = concurrency_phase(report, "/cpu-intensive") else {
        return not_measured(family, "no closed-loop phase on /cpu-intensive");
    };
    let Some(target) = find(report, family, Role::SingleLoop, phase) else {
        return not_measured(family, "no single-process event-loop target measured on /cpu-intensive");
    };
    let name = report.target_name(target);
    let cores = cores_used(report, target, phase);
    let given = report.target_cores(target);
    if given.is_some_and(|given| given < 2) {
        let evidence = format!("{name} was pinned to one core, so the run cannot tell whether it would use more");
        return not_measured(family, evidence);
    }
    let given_text = given.map_or(String::new(), |given| format!(" of the {given} it was given"));
    let evidence = format!(
        "{name} used {cores:.2} cores{given_text} on /cpu-intensive ({:.0} req/s)",
        req_per_s(report, target, phase)
    );
    if cores < CPU_BOUND {
        let evidence = format!("{evidence}: the load never made it need a second core, so the run cannot tell");
        return not_measured(family, evidence);
    }
    let finding = if cores <= ONE_CORE { Finding::Holds } else { Finding::DoesNotHold };
    Check { family, finding, evidence }
}

fn prefork_scales(report: &Report<'_>, family: Family) -> Check {
    let Some((phase, _)) = concurrency_phase(report, "/cpu-intensive") else {
        return not_measured(family, "no closed-loop phase on /cpu-intensive");
    };
    let Some(prefork) = find(report, family, Role::PreforkAsync, phase) else {
        return not_measured(family, "no multi-process event-loop target measured on /cpu-intensive");
    };
    let Some(single) = find(report, family, Role::SingleLoop, phase) else {
        return not_measured(family, "no single-process event-loop target to compare with on /cpu-intensive");
    };
    let (prefork_rate, single_rate) = (req_per_s(report, prefork, phase), req_per_s(report, single, phase));
    let ratio = if single_rate > 0.0 { prefork_rate / single_rate } else { f64::INFINITY };
    let (prefork_cores, single_cores) = (cores_used(report, prefork, phase), cores_used(report, single, phase));
    let evidence = format!(
        "on /cpu-intensive {} served {prefork_rate:.0} req/s on {prefork_cores:.2} cores, {ratio:.2}x {} \
         ({single_rate:.0} req/s on {single_cores:.2} cores)",
        report.target_name(prefork),
        report.target_name(single)
    );
    if prefork_cores <= ONE_CORE && single_cores < CPU_BOUND {
        let evidence = format!("{evidence}: neither was held back by its CPU, so the run cannot tell");
        return not_measured(family, evidence);
    }
    let finding = match (prefork_cores > ONE_CORE, ratio >= SCALING_RATIO) {
        (true, true) => Finding::Holds,
        (true, false) => Finding::Partly,
        (false, _) => Finding::DoesNotHold,
    };
    let evidence = if finding == Finding::Partly {
        format!("{evidence}: it uses the cores, but the one process already served as much")
    } else {
        evidence
    };
    Check { family, finding, evidence }
}

fn sync_workers_queue(report: &Report<'_>, family: Family) -> Check {
    let Some((phase, connections)) = concurrency_phase(report, "/sync-google") else {
        return not_measured(family, "no closed-loop phase on /sync-google");
    };
    let Some(target) = find(report, family, Role::SyncWorkers, phase) else {
        return not_measured(family, "no sync-worker target measured on /sync-google");
    };
    let result = report.targets[target].result;
    let slots = result.workers.unwrap_or(1) * result.threads.unwrap_or(1).max(1);
    if connections <= slots {
        return not_measured(family, format!("{connections} connections never exceeded the {slots} workers"));
    }
    let delay_s = report.results.upstream.delay_ms / 1000.0;
    let Some(p50_s) = report.latency(target, phase).map(|l| l.histogram.value_at_quantile(0.5) as f64 / 1e6) else {
        return not_measured(family, "no latency figures on /sync-google");
    };
    let rate = req_per_s(report, target, phase);
    let ceiling = f64::from(slots) / delay_s.max(1e-3);
    let evidence = format!(
        "{} ({slots} workers) served {rate:.0} req/s on /sync-google with {connections} connections (ceiling \
         {slots} / {:.0} ms = {ceiling:.0} req/s), median latency {:.0} ms against the upstream's {:.0} ms",
        report.target_name(target),
        delay_s * 1000.0,
        p50_s * 1000.0,
        delay_s * 1000.0
    );
    let (capped, waited) = (rate <= 1.25 * ceiling, p50_s >= 2.0 * delay_s);
    let finding = match (capped, waited) {
        (true, true) => Finding::Holds,
        (true, false) => Finding::Partly,
        (false, _) => Finding::DoesNotHold,
    };
    let evidence = if finding == Finding::Partly {
        // Little's law again: the measured latency accounts for only rate x p50 of the connections.
        format!(
            "{evidence}: throughput is capped by the workers, but the latency shows no queueing ({:.1} of {connections} connections accounted for)",
            rate * p50_s
        )
    } else {
        evidence
    };
    Check { family, finding, evidence }
}

fn async_overlaps(report: &Report<'_>, family: Family) -> Check {
    let Some((phase, connections)) = concurrency_phase(report, "/async-google") else {
        return not_measured(family, "no closed-loop phase on /async-google");
    };
    let Some(target) = find(report, family, Role::SingleLoop, phase) else {
        return not_measured(family, "no single-process event-loop target measured on /async-google");
    };
    let delay_s = report.results.upstream.delay_ms / 1000.0;
    let rate = req_per_s(report, target, phase);
    // Little's law: requests in flight on average = throughput x time each one spends waiting upstream.
    let in_flight = rate * delay_s;
    let evidence = format!(
        "one process, {}, served {rate:.0} req/s on /async-google with {connections} connections and a {:.0} ms \
         upstream: {in_flight:.1} waits overlapped on average",
        report.target_name(target),
        delay_s * 1000.0
    );
    let finding = if in_flight >= 0.5 * f64::from(connections) {
        Finding::Holds
    } else if in_flight > 1.5 {
        Finding::Partly
    } else {
        Finding::DoesNotHold
    };
    Check { family, finding, evidence }
}

/// The claims as a section of report.html, placed after the verdict.
pub fn html_section(report: &Report<'_>) -> Markup {
    html! {
        section #claims {
            h2 { "The seed's claims" }
            ul.verdicts {
                @for claim in check_claims(report) {
                    li {
                        strong { (claim.statement) }
                        ul {
                            @for check in &claim.checks {
                                li { (check.sentence()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &str) -> Vec<String> {
        words.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_python_peers_are_recognised_by_their_command_line() {
        assert_eq!(python_role("sh -c exec uvicorn app:app --no-access-log"), Some(Role::SingleLoop));
        assert_eq!(python_role("gunicorn -w 2 -k uvicorn_worker.UvicornWorker app:app"), Some(Role::PreforkAsync));
        assert_eq!(python_role("gunicorn -w 2 --no-control-socket app_wsgi:app"), Some(Role::SyncWorkers));
        assert_eq!(python_role("gunicorn -w 2 -k gevent app_wsgi:app"), None);
        assert_eq!(python_role("hypercorn app:app"), None);
    }

    #[test]
    fn the_prefork_worker_class_is_read_from_its_flag() {
        let command = argv("rustcorn serve prefork -w 2 -k async --bind 127.0.0.1:0");
        assert_eq!(flag_value(&command, &["-k", "--worker-class"]), Some("async"));
        let command = argv("rustcorn serve prefork --worker-class sync");
        assert_eq!(flag_value(&command, &["-k", "--worker-class"]), Some("sync"));
        assert_eq!(flag_value(&argv("rustcorn serve prefork -w 2"), &["-k"]), None);
    }

    #[test]
    fn a_check_reads_as_one_sentence() {
        let check = Check { family: Family::Rust, finding: Finding::NotMeasured, evidence: "no phase".into() };
        assert_eq!(check.sentence(), "Rust: not measured in this run - no phase");
    }
}
