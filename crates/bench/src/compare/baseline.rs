//! `rustcorn bench baseline`: turns a run into the committed `results/baseline.json` - only from a complete run
//! with a calibration and no failed target, slimmed of what `compare` never reads (per-second timelines, resource
//! samples, hlog names) so that the committed file stays small.

use crate::calibration::WORKLOAD_VERSION;
use crate::results::{RunResults, TargetStatus};

/// Why a run cannot become the baseline.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BaselineError {
    #[error("the run is partial (interrupted): a baseline needs every phase")]
    Partial,
    #[error("target {target} failed ({reason}): a baseline needs every target")]
    TargetFailed { target: String, reason: String },
    #[error("the run has no usable calibration (of workload version {WORKLOAD_VERSION}): normalised figures need one")]
    NoCalibration,
    #[error("the run measured no phase")]
    Empty,
}

/// Checks `run` and returns it slimmed for committing.
pub fn make_baseline(mut run: RunResults) -> Result<RunResults, BaselineError> {
    if run.partial {
        return Err(BaselineError::Partial);
    }
    for target in &run.targets {
        if let TargetStatus::Failed { reason, .. } = &target.status {
            return Err(BaselineError::TargetFailed { target: target.name.clone(), reason: reason.clone() });
        }
    }
    let calibrated = run.calibration.as_ref().is_some_and(|c| c.is_usable() && c.workload_version == WORKLOAD_VERSION);
    if !calibrated {
        return Err(BaselineError::NoCalibration);
    }
    if run.targets.iter().all(|target| target.phases.is_empty()) {
        return Err(BaselineError::Empty);
    }
    for phase in run.targets.iter_mut().flat_map(|target| target.phases.iter_mut()) {
        phase.load.timeline.clear();
        phase.resources.samples.clear();
        phase.hlog = None;
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{calibration, phase, run_with, target};

    fn complete_run() -> RunResults {
        let mut cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
        cpu.load.timeline.push(loadgen::SecondStats {
            second: 0,
            requests: 1,
            errors: 0,
            p50_us: 1,
            p99_us: 1,
            histogram: String::new(),
        });
        cpu.resources.samples.push(Default::default());
        cpu.hlog = Some("sync.cpu.r0.hlog".into());
        run_with(vec![target("sync", vec![cpu])], Some(calibration(1.0, 1.0)))
    }

    #[test]
    fn a_complete_run_is_slimmed_and_keeps_its_figures() {
        let run = complete_run();
        let baseline = make_baseline(run.clone()).expect("a good baseline");
        let (before, after) = (&run.targets[0].phases[0], &baseline.targets[0].phases[0]);
        assert!(after.load.timeline.is_empty() && after.resources.samples.is_empty() && after.hlog.is_none());
        assert_eq!(after.load.aggregated, before.load.aggregated);
        assert_eq!(after.resources.summary, before.resources.summary);
        assert_eq!(baseline.calibration, run.calibration);
    }

    #[test]
    fn partial_failed_and_uncalibrated_runs_are_refused() {
        let mut partial = complete_run();
        partial.partial = true;
        assert_eq!(make_baseline(partial), Err(BaselineError::Partial));

        let mut failed = complete_run();
        failed.targets[0].status = TargetStatus::Failed { reason: "exited".into(), stderr_tail: vec![] };
        assert!(matches!(make_baseline(failed), Err(BaselineError::TargetFailed { target, .. }) if target == "sync"));

        let mut uncalibrated = complete_run();
        uncalibrated.calibration = None;
        assert_eq!(make_baseline(uncalibrated), Err(BaselineError::NoCalibration));

        let mut empty = complete_run();
        empty.targets[0].phases.clear();
        assert_eq!(make_baseline(empty), Err(BaselineError::Empty));
    }
}
