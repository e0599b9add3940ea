//! The capacity search for people: one line per step as it runs (rate, achieved, p50, p99, verdict) under a
//! header, and the capacity with its range and why the search ended. `--json` prints the [`CapacityReport`] itself.

use std::fmt::Write;

use crate::capacity::{CapacityReport, SearchEnd, StepRecord};

/// The column titles above the step lines.
pub fn step_header() -> String {
    format!(
        "{:>4}  {:<8} {:>11} {:>11} {:>11} {:>11} {:>6}  verdict",
        "step", "phase", "offered/s", "achieved/s", "p50", "p99", "conns"
    )
}

/// One step: `~` before a latency marks a lower bound (a request in flight at the close was already older).
pub fn step_line(step: &StepRecord) -> String {
    let phase = serde_json::to_value(step.phase).ok().and_then(|value| value.as_str().map(str::to_owned));
    format!(
        "{:>4}  {:<8} {:>11.1} {:>11.1} {:>11} {:>11} {:>6}  {}",
        step.step,
        phase.unwrap_or_default(),
        step.offered_per_second,
        step.achieved_per_second,
        latency(step.p50_us, step.p50_lower_bound),
        latency(step.p99_us, step.p99_lower_bound),
        step.connections_open,
        step.verdict
    )
}

/// The search's answer: the capacity with its range, or why there is none.
pub fn summary(report: &CapacityReport) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "Objective: {}", report.objective);
    match (report.capacity_per_second, report.range_per_second) {
        (Some(capacity), Some((low, high))) => {
            let at_least = if report.at_least { "at least " } else { "" };
            let _ = writeln!(text, "Capacity:  {at_least}{capacity:.1} req/s (held between {low:.1} and {high:.1})");
        }
        (Some(capacity), None) => {
            let _ = writeln!(text, "Capacity:  {capacity:.1} req/s");
        }
        (None, _) => {
            let _ = writeln!(text, "Capacity:  none found");
        }
    }
    let _ = writeln!(text, "Ended:     {} ({} steps)", ending(report), report.steps.len());
    text
}

fn ending(report: &CapacityReport) -> String {
    let Some(ended) = report.ended else { return "cancelled before the search ended".to_owned() };
    match ended {
        SearchEnd::Confirmed => "the found rate held on every confirmation".to_owned(),
        SearchEnd::MaxRateHeld => "the maximum rate held; raise --max-rate to search further".to_owned(),
        SearchEnd::GeneratorBehind { per_second } => format!(
            "the load generator fell behind its schedule at {per_second:.1} req/s (its own limit, not the \
             target's; raise --max-connections or give it more cores)"
        ),
        SearchEnd::NothingHeld => "even the lowest rate tried missed the objective".to_owned(),
        SearchEnd::Unstable => "the found rate kept missing on confirmation".to_owned(),
        SearchEnd::StepLimit => "the step limit was reached".to_owned(),
    }
}

fn latency(micros: u64, lower_bound: bool) -> String {
    format!("{}{:.1} ms", if lower_bound { "≥ " } else { "" }, micros as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{Miss, Objective, SearchConfig, SearchPhase, StepVerdict};

    fn step(verdict: StepVerdict) -> StepRecord {
        StepRecord {
            step: 3,
            phase: SearchPhase::Bisect,
            offered_per_second: 600.0,
            achieved_per_second: 598.5,
            duration_secs: 3.3,
            p50_us: 101_200,
            p50_lower_bound: false,
            p99_us: 260_000,
            p99_lower_bound: true,
            judged_percentile: 99.0,
            judged_latency_us: 260_000,
            requests: 1975,
            failures: 0,
            in_flight: 60,
            connections_open: 64,
            bound_waits: 0,
            send_lag_p99_us: 40,
            generator_behind: false,
            verdict,
        }
    }

    #[test]
    fn a_step_line_shows_rate_latencies_and_the_verdict_with_its_figures() {
        let miss = Miss::Latency { percentile: 99.0, latency_us: 260_000, max_latency_us: 250_000 };
        let line = step_line(&step(StepVerdict::Misses(vec![miss])));
        for expected in ["bisect", "600.0", "598.5", "101.2 ms", "≥ 260.0 ms", "misses: p99 260.0 ms > 250.0 ms"] {
            assert!(line.contains(expected), "missing {expected:?} in {line:?}");
        }
        assert!(step_header().contains("verdict"));
    }

    #[test]
    fn the_summary_gives_the_capacity_its_range_and_the_ending() {
        let mut report = CapacityReport {
            objective: "p99 <= 250ms".parse::<Objective>().unwrap(),
            search: SearchConfig::default(),
            steps: vec![step(StepVerdict::Holds)],
            capacity_per_second: Some(625.0),
            range_per_second: Some((625.0, 650.0)),
            at_least: false,
            ended: Some(SearchEnd::Confirmed),
            cancelled: false,
        };
        let text = summary(&report);
        assert!(text.contains("Capacity:  625.0 req/s (held between 625.0 and 650.0)"), "{text}");
        assert!(text.contains("held on every confirmation (1 steps)"), "{text}");
        report.ended = Some(SearchEnd::GeneratorBehind { per_second: 1250.0 });
        report.at_least = true;
        let text = summary(&report);
        assert!(text.contains("at least 625.0") && text.contains("fell behind its schedule at 1250.0"), "{text}");
    }
}
