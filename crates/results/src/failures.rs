//! The run's failure threshold: a phase whose requests failed beyond it measured errors, not a server, so
//! `rustcorn bench run` exits non-zero and the table, summary.md and the report's verdict say which phase it was.
//! Phases that SIGKILL a process on purpose (`kill_worker_at`) are exempt: their failures are what they measure.

use crate::RunResults;

/// Default share of failed requests a phase may have (5 %): above the odd reset of a healthy run, far below a
/// target that answers errors or refuses connections.
pub const DEFAULT_MAX_FAILURES: f64 = 0.05;

/// A measured phase whose failures went beyond the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct FailingPhase {
    pub target: String,
    pub phase: String,
    pub repetition: u32,
    pub failed: u64,
    pub count: u64,
}

impl FailingPhase {
    /// "uvicorn / cpu #1: 21012 of 21012 requests failed (100.0 %)".
    pub fn describe(&self) -> String {
        let repetition = if self.repetition > 0 { format!(" #{}", self.repetition) } else { String::new() };
        let percent = self.failed as f64 / self.count.max(1) as f64 * 100.0;
        format!(
            "{} / {}{repetition}: {} of {} requests failed ({percent:.1} %)",
            self.target, self.phase, self.failed, self.count
        )
    }
}

impl RunResults {
    /// The share of failed requests a phase may have in this run: the one it was run with, else the default.
    pub fn max_failures(&self) -> f64 {
        self.max_failures.unwrap_or(DEFAULT_MAX_FAILURES)
    }

    /// Every measured phase (of every target and repetition) whose failed share is above [`Self::max_failures`].
    pub fn failing_phases(&self) -> Vec<FailingPhase> {
        let limit = self.max_failures();
        let mut failing = Vec::new();
        for target in &self.targets {
            for phase in target.phases.iter().filter(|phase| phase.kill.is_none()) {
                if phase.load.failure_ratio() > limit {
                    failing.push(FailingPhase {
                        target: target.name.clone(),
                        phase: phase.name.clone(),
                        repetition: phase.repetition,
                        failed: phase.load.aggregated.failures.total(),
                        count: phase.load.aggregated.count,
                    });
                }
            }
        }
        failing
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_phase_beyond_the_threshold_is_named_and_a_kill_phase_is_not() {
        let mut results = crate::testing::results();
        assert!(results.failing_phases().is_empty());
        let phase = &mut results.targets[0].phases[0];
        phase.load.aggregated.count = 200;
        phase.load.aggregated.failures.connect = 11;
        let failing = results.failing_phases();
        assert_eq!(failing.len(), 1, "11 of 200 is above 5 %");
        assert_eq!(failing[0].describe(), "sync / cpu: 11 of 200 requests failed (5.5 %)");
        results.max_failures = Some(0.1);
        assert!(results.failing_phases().is_empty(), "11 of 200 is within 10 %");
        results.max_failures = None;
        results.targets[0].phases[0].kill = Some(crate::WorkerKill { at_ms: 500, pid: 1, whole_server: true });
        assert!(results.failing_phases().is_empty(), "a kill phase fails on purpose");
    }
}
