//! The markdown form of a [`Comparison`]: a result line, the table (phase, metric, base, new, change, verdict) and
//! the notes. `rustcorn bench compare` prints it and writes it to summary.md (a CI job summary).

use std::fmt::Write;

use super::{Comparison, Judgement, Metric, Reference};

pub fn render(comparison: &Comparison) -> String {
    let mut out = String::new();
    let options = &comparison.options;
    let _ = writeln!(out, "## rustcorn bench compare\n");
    let _ = writeln!(out, "{}\n", result_line(comparison));
    let _ = writeln!(out, "- BASE: {}", comparison.base_label);
    let _ = writeln!(out, "- NEW: {}", comparison.new_label);
    let _ = writeln!(
        out,
        "- Gated: requests per CPU-second of each target normalised by its run's calibration (CPU loop, loopback \
         round trip), in phases with cpu_work the share of the target's CPU time spent in that work, the raw \
         figures of phases paced by the upstream's fixed delay, and failure rates; ratios between models when a \
         run has no calibration. Raw throughput is shown, not gated. Threshold {:.0}%, \
         one-sided Mann-Whitney at alpha {}, reference = BASE's repetitions + up to {} passing history runs.\n",
        options.threshold * 100.0,
        options.alpha,
        options.window
    );
    let _ = writeln!(out, "| phase | metric | base | new | change | verdict |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for row in &comparison.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&row.phase),
            cell(&row.metric),
            cell(&row.base),
            cell(&row.new),
            cell(&row.change),
            cell(&row.verdict_text)
        );
    }
    if !comparison.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:\n");
        for note in &comparison.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

fn result_line(comparison: &Comparison) -> String {
    let failing: Vec<String> = comparison.failing_rows().map(|row| format!("{} ({})", row.phase, row.metric)).collect();
    if failing.is_empty() {
        let noisy = comparison
            .rows
            .iter()
            .filter(|row| matches!(row.verdict, Judgement::WithinNoise | Judgement::NotConfirmed))
            .count();
        let suffix = if noisy > 0 {
            format!(" ({noisy} figure(s) moved beyond the threshold within the noise)")
        } else {
            String::new()
        };
        return format!("**PASS**: no regression beyond {:.0}%{suffix}.", comparison.options.threshold * 100.0);
    }
    format!("**FAIL**: {} regression(s): {}.", failing.len(), failing.join("; "))
}

/// A table cell: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// "median (min-max, n=3 + 10 history)" in the metric's unit.
pub(super) fn describe_samples(reference: &Reference, metric: Metric) -> String {
    let samples = &reference.samples;
    let median = super::stats::median(samples);
    let shown = |value: f64| format_value(value, metric);
    if samples.len() <= 1 {
        return shown(median);
    }
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let counts = if reference.from_history > 0 {
        format!("n={} + {} history", reference.from_base, reference.from_history)
    } else {
        format!("n={}", samples.len())
    };
    format!("{} ({}-{}, {counts})", shown(median), shown(min), shown(max))
}

fn format_value(value: f64, metric: Metric) -> String {
    match metric {
        Metric::FailureRate => format!("{:.2}%", value * 100.0),
        _ => significant_digits(value),
    }
}

/// Four significant digits, at most three decimals. It differs from the report's three digits on purpose: these
/// are figures a reviewer compares across runs in a CI comment, where a 0.1 % step should show, and zero keeps its
/// decimals so a column of figures lines up.
fn significant_digits(value: f64) -> String {
    crate::numbers::significant(value, 4, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_about_four_significant_digits() {
        assert_eq!(significant_digits(12345.6), "12346");
        assert_eq!(significant_digits(123.456), "123.5");
        assert_eq!(significant_digits(12.3456), "12.35");
        assert_eq!(significant_digits(0.123456), "0.123");
        assert_eq!(format_value(0.0123, Metric::FailureRate), "1.23%");
    }

    #[test]
    fn samples_show_median_range_and_origin() {
        let reference = Reference { samples: vec![10.0, 30.0, 20.0], from_base: 2, from_history: 1 };
        assert_eq!(describe_samples(&reference, Metric::Throughput), "20.00 (10.00-30.00, n=2 + 1 history)");
        let single = Reference { samples: vec![5.0], from_base: 1, from_history: 0 };
        assert_eq!(describe_samples(&single, Metric::Throughput), "5.000");
    }

    #[test]
    fn cells_escape_pipes() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
