//! What a target is as far as the article's claims are concerned (uvicorn alone, gunicorn + UvicornWorker,
//! gunicorn sync workers, or their Rust models), recognised from its kind and command line, and how to find the
//! one a claim is about.

use results::{Family, TargetKind, TargetResult};

use crate::data::RunView;

/// FastAPI runs plain `def` handlers on anyio's default thread pool of this many threads; the Rust async model's
/// `--blocking-threads` defaults to the same.
pub const DEFAULT_THREAD_POOL: u32 = 40;

pub use results::Role;

/// The role the suite declared, else the one the built-in model's flags or the Python server's command line show.
pub fn role(target: &TargetResult) -> Option<Role> {
    if target.role.is_some() {
        return target.role;
    }
    match target.kind {
        TargetKind::Async if target.threads == Some(1) => Some(Role::SingleLoop),
        TargetKind::Prefork => match flag_value(&target.command, &["-k", "--worker-class"]) {
            Some("async") => Some(Role::PreforkAsync),
            Some("sync") | None if target.threads == Some(1) => Some(Role::SyncWorkers),
            _ => None,
        },
        TargetKind::External => Role::recognise(&target.command.join(" ")),
        TargetKind::Sync | TargetKind::Async => None,
    }
}

pub fn flag_value<'c>(command: &'c [String], names: &[&str]) -> Option<&'c str> {
    command.windows(2).find(|pair| names.contains(&pair[0].as_str())).map(|pair| pair[1].as_str())
}

/// Every target of `family` in `role` that runs the article's own code (not a `variant_of` another), in suite
/// order.
pub fn originals(report: &RunView<'_>, family: Family, wanted: Role) -> Vec<usize> {
    (0..report.targets.len())
        .filter(|&target| {
            let result = report.targets[target].result;
            result.family == family && result.variant_of.is_none() && role(result) == Some(wanted)
        })
        .collect()
}

/// The first original target of `family` in `role` that `accept` accepts.
pub fn find(report: &RunView<'_>, family: Family, wanted: Role, accept: impl Fn(usize) -> bool) -> Option<usize> {
    originals(report, family, wanted).into_iter().find(|&target| accept(target))
}

/// The threads that run a single-loop target's blocking handlers: its `--blocking-threads` when the command says,
/// else FastAPI's (and the Rust model's) default of 40.
pub fn thread_pool(target: &TargetResult) -> u32 {
    flag_value(&target.command, &["--blocking-threads"])
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_THREAD_POOL)
}

/// Requests a target serves at once: workers x threads per worker.
pub fn slots(target: &TargetResult) -> u32 {
    target.worker_count().unwrap_or(1) * target.threads.unwrap_or(1).max(1)
}

/// True when the target has two workers or more: "the other workers" exist, and it can spread over cores.
pub fn several_workers(report: &RunView<'_>, target: usize) -> bool {
    report.targets[target].result.worker_count().unwrap_or(1) >= 2
}

/// "1 worker", "4 workers".
pub fn workers_text(workers: u32) -> String {
    format!("{workers} worker{}", if workers == 1 { "" } else { "s" })
}
