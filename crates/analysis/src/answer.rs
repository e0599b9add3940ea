//! The answer the page opens with: one row per kind of workload (CPU-bound, memory-bound, blocking I/O, async I/O,
//! the article's Locust mix), the model the verdict ranks first, its lead over the runner-up with the range the
//! repetitions allow, and what that model is called in uvicorn/gunicorn terms. Built from the verdicts, never
//! judged again; the HTML first screen and summary.md both print it.

use results::{LoadModel, TargetKind};

use crate::claims::roles::{self, Role};
use crate::data::RunView;
use crate::endpoint::EndpointKind;
use crate::verdict::{Call, Subject, Verdict};

/// The workloads of the answer table, in its order.
const KINDS: [EndpointKind; 4] =
    [EndpointKind::Cpu, EndpointKind::Memory, EndpointKind::BlockingIo, EndpointKind::AsyncIo];

/// One row of the answer table.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    /// The kind of work the row answers for; None for the article's Locust mix.
    pub kind: Option<EndpointKind>,
    /// "CPU-bound", "the article's Locust mix".
    pub workload: String,
    /// The verdict the row reads, with its index in the verdict list (for the evidence link); None when the run
    /// did not measure this workload.
    pub verdict: Option<usize>,
    /// The targets to use: the best alone on a lead, the best and those level with it otherwise.
    pub models: Vec<usize>,
    /// "1.80× (1.71–1.92×) over async-1" on a lead, "level: ranges over 3 repetitions overlap", "single run, no
    /// spread: ranks first, no lead called", or why nothing is said. No ratio is printed where no lead is called.
    pub lead: String,
    /// `models` in uvicorn/gunicorn terms, each name once, in the order of `models`.
    pub python: Vec<String>,
}

/// The answer rows, one per workload, those the run lacks included (they say so).
pub fn rows(report: &RunView<'_>, verdicts: &[Verdict]) -> Vec<AnswerRow> {
    let mut rows: Vec<AnswerRow> = KINDS
        .iter()
        .map(|&kind| {
            let found = verdicts
                .iter()
                .position(|verdict| matches!(&verdict.subject, Subject::Endpoint { kind: k, .. } if *k == kind));
            row(report, verdicts, Some(kind), found)
        })
        .collect();
    let locust = verdicts.iter().position(|verdict| {
        matches!(verdict.subject, Subject::Mix { .. })
            && matches!(report.phases[verdict.phase].load_model(), LoadModel::Users { .. })
    });
    rows.push(row(report, verdicts, None, locust));
    rows
}

fn row(report: &RunView<'_>, verdicts: &[Verdict], kind: Option<EndpointKind>, found: Option<usize>) -> AnswerRow {
    let workload = kind.map_or("the article's Locust mix", EndpointKind::label);
    let empty = |lead: &str| AnswerRow {
        kind,
        workload: workload.to_owned(),
        verdict: found,
        models: vec![],
        lead: lead.to_owned(),
        python: vec![],
    };
    let Some(index) = found else {
        return empty(if kind.is_none() {
            "not in this run: make bench-article runs the article's Locust profile"
        } else {
            "not in this run"
        });
    };
    let verdict = &verdicts[index];
    let Some(best) = verdict.ranking.first() else { return empty("no target has data") };
    let (models, lead) = match (&verdict.call, verdict.ranking.get(1)) {
        (_, None) => (vec![best.target], "the only target with data".to_owned()),
        (Call::Level(level), _) => {
            let mut models = vec![best.target];
            models.extend(level.iter().map(|&position| verdict.ranking[position].target));
            (models, format!("level: ranges over {} repetitions overlap", best.value.n))
        }
        (Call::TooFewRepetitions, Some(_)) => {
            (vec![best.target], format!("{}: ranks first, no lead called", verdict.no_lead_reason()))
        }
        (_, Some(next)) => {
            (vec![best.target], format!("{} over {}", verdict.ratio_text(best, next), report.target_name(next.target)))
        }
    };
    let lead = match report.phases[verdict.phase].load_model() {
        LoadModel::Capacity { objective, .. } => format!("{lead}; capacity at {objective}"),
        _ => lead,
    };
    let mut python: Vec<String> = Vec::new();
    for name in models.iter().map(|&target| python_equivalent(report, target, kind)) {
        if !python.contains(&name) {
            python.push(name);
        }
    }
    AnswerRow { kind, workload: workload.to_owned(), verdict: Some(index), models, lead, python }
}

/// What a target's server model is in Python terms for a workload (`kind`; None is the article's CPU and memory
/// mix): `uvicorn`, `gunicorn -w N -k uvicorn_worker.UvicornWorker` (N the workers observed), gunicorn sync
/// workers, a threaded server; an external target (a Python server) is its own command, named as the run names it. Threads stand for a Python threaded server only where the work waits on
/// the upstream: on CPU or memory work Python's threads take turns on the GIL, so Rust's threads have no equivalent.
pub fn python_equivalent(report: &RunView<'_>, target: usize, kind: Option<EndpointKind>) -> String {
    let result = report.targets[target].result;
    let workers = result.worker_count().unwrap_or(1);
    let holds_the_gil = !kind.is_some_and(EndpointKind::waits_on_upstream);
    match (roles::role(result), result.kind) {
        (_, TargetKind::External) => format!("{} (this run's command)", result.name),
        (Some(Role::SingleLoop), _) => "uvicorn".to_owned(),
        (Some(Role::PreforkAsync), _) => format!("gunicorn -w {workers} -k uvicorn_worker.UvicornWorker"),
        (Some(Role::SyncWorkers), _) => format!("gunicorn -w {workers} (sync workers)"),
        (None, TargetKind::Sync) if holds_the_gil => "no Python equivalent (threads without a GIL)".to_owned(),
        (None, TargetKind::Sync) => "a threaded server".to_owned(),
        (None, TargetKind::Prefork) => {
            format!("gunicorn -w {workers} --threads {} (gthread)", result.threads.unwrap_or(1))
        }
        (None, TargetKind::Async) => format!(
            "none (one loop on {} threads: the GIL forbids it)",
            result.threads.map_or_else(|| "several".to_owned(), |threads| threads.to_string())
        ),
    }
}
