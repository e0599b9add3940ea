//! The table printed when a run ends: per target x phase, throughput, latency, failures, CPU and memory.

use std::fmt::Write;

use super::RunExporter;
use crate::results::{RunResults, TargetStatus};

pub struct Table;

/// "in flight": requests unanswered when the measured window closed, left out of every other figure.
const HEADINGS: [&str; 10] =
    ["target", "phase", "load", "req/s", "p50 ms", "p99 ms", "failed", "in flight", "CPU cores", "RSS MiB"];

impl RunExporter for Table {
    fn export(&self, results: &RunResults) -> Vec<u8> {
        let mut rows: Vec<[String; 10]> = Vec::new();
        for target in &results.targets {
            for phase in &target.phases {
                let aggregated = &phase.load.aggregated;
                let mut name = phase.name.clone();
                if phase.repetition > 0 {
                    let _ = write!(name, " #{}", phase.repetition);
                }
                if phase.interrupted {
                    name.push_str(" (interrupted)");
                }
                rows.push([
                    target.name.clone(),
                    name,
                    short_load(&phase.load_description),
                    // Successful responses only, as summary.md and the report count throughput: a target that
                    // fails fast must not look fast.
                    format!("{:.1}", phase.load.successful_per_second().unwrap_or(0.0)),
                    bounded_millis(aggregated.latency.median_us, aggregated.latency.median_is_lower_bound()),
                    aggregated
                        .latency
                        .percentile(99.0)
                        .map_or_else(|| millis(0), |p| bounded_millis(p.latency_us, p.lower_bound)),
                    aggregated.failures.total().to_string(),
                    aggregated.in_flight.requests.to_string(),
                    format!("{:.2}", phase.resources.summary.cpu_cores_avg),
                    format!("{:.1}", phase.resources.summary.rss_peak_bytes as f64 / (1024.0 * 1024.0)),
                ]);
            }
        }
        let mut text = render(&rows);
        text.push_str("req/s: successful responses per second; failed requests are counted under `failed` only\n");
        for target in &results.targets {
            if let TargetStatus::Failed { reason, stderr_tail } = &target.status {
                let _ = writeln!(text, "FAILED {}: {reason}", target.name);
                for line in stderr_tail.iter().rev().take(5).rev() {
                    let _ = writeln!(text, "    {line}");
                }
            }
        }
        for failing in results.failing_phases() {
            let limit = results.max_failures() * 100.0;
            let _ = writeln!(text, "FAILED REQUESTS {}, beyond the {limit}% allowed", failing.describe());
        }
        if results.partial {
            text.push_str("PARTIAL run: interrupted before every phase was measured\n");
        }
        text.into_bytes()
    }
}

fn render(rows: &[[String; 10]]) -> String {
    let mut widths = HEADINGS.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let line = |text: &mut String, cells: &[&str]| {
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            // Names left-aligned, figures right-aligned.
            if index < 3 {
                let _ = write!(text, "{cell:<width$}  ");
            } else {
                let _ = write!(text, "{cell:>width$}  ");
            }
        }
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        text.push('\n');
    };
    line(&mut text, &HEADINGS);
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&mut text, &cells);
    }
    text
}

fn short_load(description: &str) -> String {
    description.split(" (").next().unwrap_or(description).to_owned()
}

fn millis(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

/// [`millis`], "≥" before a lower bound (a percentile among requests that had no answer).
fn bounded_millis(micros: u64, lower_bound: bool) -> String {
    if lower_bound {
        format!("≥ {}", millis(micros))
    } else {
        millis(micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_figures_and_failures() {
        let text = String::from_utf8(Table.export(&crate::testing::results())).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("target") && lines[0].contains("p99 ms  failed  in flight"), "{text}");
        assert!(lines[1].starts_with("sync") && lines[1].contains("8 connections, closed loop"), "{text}");
        assert!(lines[1].contains("1.50"), "p50 of 1500 us in ms: {text}");
        assert!(text.contains("FAILED broken: exited"), "{text}");
        assert!(text.contains("    boom"), "{text}");
    }

    #[test]
    fn throughput_counts_successful_responses_only() {
        let mut results = crate::testing::results();
        let load = &mut results.targets[0].phases[0].load;
        load.aggregated.count = 1000;
        load.aggregated.failures.status = 1000;
        load.aggregated.requests_per_second = 500.0;
        let text = String::from_utf8(Table.export(&results)).unwrap();
        let row = text.lines().nth(1).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert!(cells.contains(&"0.0") && !cells.contains(&"500.0"), "every request failed: {row}");
        assert!(cells.contains(&"1000"), "the failures are shown: {row}");
        assert!(
            text.contains("FAILED REQUESTS sync / cpu: 1000 of 1000 requests failed (100.0 %), beyond the 5% allowed"),
            "{text}"
        );
    }
}
