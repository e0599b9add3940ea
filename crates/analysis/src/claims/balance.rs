//! Claim 7: gunicorn spreads requests evenly over its workers, from the requests each worker process served
//! (the prefork master's `--stats`, or the responses counted per `x-worker-pid`).

use results::Family;

use super::roles::{self, Role};
use super::{closed_phase_with, not_measured, Check, Finding};
use crate::data::RunView;
use crate::format;

/// Fewest over most requests per worker at or above which the spread is even...
const EVEN: f64 = 0.8;
/// ...and below which it is not even in part.
const UNEVEN: f64 = 0.5;

/// What is missing when no phase gives the counts.
const NONE_COUNTED: &str = "no gunicorn-style target reported requests per worker in a closed-loop phase";

const PATHS: [&str; 4] = ["/cpu-intensive", "/memory-intensive", "/async-google", "/sync-google"];

pub fn evenly(report: &RunView<'_>, family: Family) -> Check {
    let counted = |phase: usize| {
        roles::find(report, family, Role::PreforkAsync, |target| {
            report.worker_load(target, phase).is_some_and(|load| load.workers.len() >= 2)
        })
    };
    let Some((phase, target)) = PATHS.iter().find_map(|path| closed_phase_with(report, path, counted)) else {
        return not_measured(family, NONE_COUNTED);
    };
    let Some(load) = report.worker_load(target, phase) else {
        return not_measured(family, NONE_COUNTED);
    };
    let balance = load.balance().unwrap_or(0.0);
    let listed: Vec<String> = load.workers.iter().map(|worker| format::count(worker.requests)).collect();
    let evidence = format!(
        "{}'s {} served {} requests in {} (fewest / most {})",
        report.target_name(target),
        roles::workers_text(load.workers.len() as u32),
        listed.join(" · "),
        report.phases[phase].name,
        format::significant(balance, 2)
    );
    let finding = if balance >= EVEN {
        Finding::Holds
    } else if balance >= UNEVEN {
        Finding::Partly
    } else {
        Finding::DoesNotHold
    };
    Check::new(family, finding, evidence)
}
