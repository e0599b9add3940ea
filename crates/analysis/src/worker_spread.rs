//! The sentence the verdict adds when a multi-process target's workers shared a phase poorly: a worker left
//! (nearly) idle changes what a throughput or CPU figure means ("the model does not use the cores" when one
//! worker simply took every connection), so the reader is told beside the figure. Rust and Python targets alike:
//! the counts come from the master's `--stats` or from the `x-worker-pid` header ([`results::WorkerLoad`]).

use crate::data::RunView;
use crate::format;

/// Fewest over most requests per worker below which the verdict names the spread.
pub const POOR_SPREAD: f64 = 0.5;
/// Workers listed one by one; more are summarised by their fewest and most.
const LISTED_WORKERS: usize = 4;

/// " prefork-async-2's workers served 53,904 and 0 requests: spread 0.00 (fewest/most)." for the worst
/// repetition of `phase` on `target` when it is below [`POOR_SPREAD`]; None when every repetition shared well or
/// nothing counted requests per worker.
pub fn poor_spread_text(report: &RunView<'_>, target: usize, phase: usize) -> Option<String> {
    let loads: Vec<_> = report
        .measurements(target, phase)
        .filter_map(|measurement| Some((measurement.result.repetition, measurement.worker_load(report)?)))
        .filter(|(_, load)| load.workers.len() > 1)
        .collect();
    let (repetition, worst, balance) = loads
        .iter()
        .filter_map(|(repetition, load)| Some((*repetition, load, load.balance()?)))
        .min_by(|a, b| a.2.total_cmp(&b.2))?;
    if balance >= POOR_SPREAD {
        return None;
    }
    let served = if worst.workers.len() <= LISTED_WORKERS {
        let counts: Vec<String> = worst.workers.iter().map(|worker| format::count(worker.requests)).collect();
        format!("served {} requests", format::join_and(&counts))
    } else {
        let (fewest, most) = (format::count(worst.fewest()), format::count(worst.most()));
        format!("served between {fewest} and {most} requests each ({} workers)", worst.workers.len())
    };
    let which = if loads.len() > 1 {
        format!(" in repetition {} of {}", repetition + 1, report.phases[phase].repetitions)
    } else {
        String::new()
    };
    Some(format!(" {}'s workers {served}{which}: spread {balance:.2} (fewest/most).", report.target_name(target)))
}
