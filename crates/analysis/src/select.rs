//! The one rule for "which phase does a figure come from", shared by the verdict and the article's claims: among
//! the single-endpoint phases on a path that pass a filter, a phase whose work is calibrated with `cpu_work` before
//! one sending a fixed count (the same CPU time on every target compares server models), then a capacity search
//! (each target at its own limit), then the closed-loop phase with the most connections (where models differ most),
//! failing that the highest rate, then the most users; ties go to the phase that measured more targets, then to the
//! earlier one. Phases that kill a worker mid-way are never picked: their throughput
//! holds a deliberate outage.

use std::cmp::Ordering;

use results::LoadModel;

use crate::data::RunView;

/// The best phase on `path` among those `eligible` accepts (called with a phase index).
pub fn best_phase(report: &RunView<'_>, path: &str, eligible: impl Fn(usize) -> bool) -> Option<usize> {
    let measured = |phase: usize| (0..report.targets.len()).filter(|&target| report.has_data(target, phase)).count();
    report
        .phases
        .iter()
        .enumerate()
        .filter(|(index, phase)| phase.single_endpoint() == Some(path) && !phase.kills_a_worker() && eligible(*index))
        .map(|(index, phase)| {
            let rank = (phase.cpu_work_s().is_some(), model_rank(phase.load_model()));
            (index, (rank, phase.offered_load(), measured(index)))
        })
        .max_by(|(ia, a), (ib, b)| {
            (a.0, a.1).partial_cmp(&(b.0, b.1)).unwrap_or(Ordering::Equal).then(a.2.cmp(&b.2)).then(ib.cmp(ia))
        })
        .map(|(index, _)| index)
}

/// A capacity search judges servers best: it finds each target's limit; then closed-loop phases, which saturate
/// the target.
fn model_rank(model: &LoadModel) -> u8 {
    match model {
        LoadModel::Capacity { .. } => 3,
        LoadModel::Concurrency { .. } => 2,
        LoadModel::Rate { .. } => 1,
        LoadModel::Users { .. } => 0,
    }
}

/// True for a closed-loop (wrk-style) phase.
pub fn closed_loop(report: &RunView<'_>, phase: usize) -> bool {
    report.phases[phase].connections().is_some()
}
