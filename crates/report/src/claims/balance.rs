//! Claim 7: gunicorn spreads requests evenly over its workers, from the requests each worker process served
//! (the prefork master's `--stats`, or the responses counted per `x-worker-pid`).

use bench::results::Family;

use super::roles::{self, Role};
use super::{closed_phase_with, not_measured, Check, Finding};
use crate::data::Report;
use crate::format;

/// Fewest over most requests per worker at or above which the spread is even...
const EVEN: f64 = 0.8;
/// ...and below which it is not even in part.
const UNEVEN: f64 = 0.5;

const PATHS: [&str; 4] = ["/cpu-intensive", "/memory-intensive", "/async-google", "/sync-google"];

pub fn evenly(report: &Report<'_>, family: Family) -> Check {
    let counted = |phase: usize| {
        roles::find(report, family, Role::PreforkAsync, |target| {
            report.worker_counts(target, phase).is_some_and(|counts| counts.len() >= 2)
        })
    };
    let Some((phase, target)) = PATHS.iter().find_map(|path| closed_phase_with(report, path, counted)) else {
        return not_measured(family, "no gunicorn-style target reported requests per worker in a closed-loop phase");
    };
    let counts = report.worker_counts(target, phase).unwrap_or_default();
    let requests: Vec<u64> = counts.iter().map(|&(_, requests)| requests).collect();
    let (fewest, most) = (requests.iter().min().copied().unwrap_or(0), requests.iter().max().copied().unwrap_or(0));
    let balance = if most > 0 { fewest as f64 / most as f64 } else { 0.0 };
    let listed: Vec<String> = requests.iter().map(|&count| format::count(count)).collect();
    let evidence = format!(
        "{}'s {} served {} requests in {} (fewest / most {})",
        report.target_name(target),
        roles::workers_text(requests.len() as u32),
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
