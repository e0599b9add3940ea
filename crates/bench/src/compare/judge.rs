//! Judging one figure of NEW against its reference samples (BASE's repetitions plus the history window): the
//! threshold, the Mann-Whitney test, the confirmation by a first attempt, and the words of each verdict.

use super::figures::{Better, Figure, FigureKind, Metric};
use super::{markdown, stats, CompareOptions, Judgement, Row, FAILURE_RATE_MARGIN};
use crate::history::{self, HistoryLine};

/// BASE's repetitions plus, for figures history knows, the latest passing runs' values.
pub(super) fn reference_samples(
    base: &Figure,
    new: &Figure,
    history: &[HistoryLine],
    options: &CompareOptions,
) -> Reference {
    let window = history::window_values(history, &new.name, options.window);
    let mut samples = base.samples.clone();
    samples.extend(&window);
    Reference { samples, from_base: base.samples.len(), from_history: window.len() }
}

/// The samples a new figure is judged against, and where they came from.
#[derive(Debug, Clone)]
pub(super) struct Reference {
    pub(super) samples: Vec<f64>,
    pub(super) from_base: usize,
    pub(super) from_history: usize,
}

pub(super) fn judge(
    base: &Figure,
    new: &Figure,
    reference: &Reference,
    first: Option<&Figure>,
    options: &CompareOptions,
) -> Option<Row> {
    let reference_median = stats::median(&reference.samples);
    let new_median = stats::median(&new.samples);
    let failure_rows = base.kind == FigureKind::FailureRate;
    if failure_rows && reference.samples.iter().chain(&new.samples).all(|value| *value == 0.0) {
        return None;
    }
    let mut row = Row {
        phase: format!("{} / {} @{}", new.target, new.phase, new.load_tag),
        metric: format!("{}, {}", metric_name(new), new.basis.tag),
        base: markdown::describe_samples(reference, new.metric),
        new: markdown::describe_samples(
            &Reference { samples: new.samples.clone(), from_base: new.samples.len(), from_history: 0 },
            new.metric,
        ),
        change: String::new(),
        verdict: Judgement::Ok,
        verdict_text: String::new(),
    };
    if failure_rows {
        let (verdict, text) = judge_failure_rate(reference_median, new_median, first);
        row.change = format!("{:+.2} points", (new_median - reference_median) * 100.0);
        (row.verdict, row.verdict_text) = (verdict, text);
        return Some(row);
    }
    if !(reference_median.is_finite() && reference_median > 0.0 && new_median.is_finite()) {
        row.verdict = if new.gated { Judgement::WithinNoise } else { Judgement::Info };
        row.verdict_text = "no judgement: the reference is zero or not a number".into();
        return Some(row);
    }
    let change = new_median / reference_median - 1.0;
    row.change = format!("{:+.1}%", change * 100.0);
    (row.verdict, row.verdict_text) = judge_relative(new, change, reference, first, options);
    Some(row)
}

fn metric_name(figure: &Figure) -> &'static str {
    match figure.metric {
        Metric::Throughput => "req/s",
        Metric::MedianLatency => "median latency (ms)",
        Metric::RequestsPerCpuSecond => "req per CPU-second",
        Metric::WorkShare => "cpu_work s per CPU-second",
        Metric::FailureRate => "failed requests",
    }
}

/// The change counted in the bad direction: positive means worse.
fn worsening(figure: &Figure, change: f64) -> f64 {
    match figure.better {
        Better::Higher => -change,
        Better::Lower => change,
    }
}

fn judge_relative(
    new: &Figure,
    change: f64,
    reference: &Reference,
    first: Option<&Figure>,
    options: &CompareOptions,
) -> (Judgement, String) {
    let threshold_percent = options.threshold * 100.0;
    let worse = worsening(new, change);
    if !new.gated {
        let why = match new.kind {
            FigureKind::Ratio => "the calibrated figures are gated instead",
            _ => "absolute figures move between machines and with their load",
        };
        return (Judgement::Info, format!("info, not gated: {why}"));
    }
    if worse <= options.threshold {
        if -worse > options.threshold {
            return (Judgement::Better, format!("better by more than {threshold_percent:.0}% ({})", new.basis.words));
        }
        return (Judgement::Ok, format!("ok, within {threshold_percent:.0}% ({})", new.basis.words));
    }
    let (significant, test) = significance(new, reference, options.alpha);
    if !significant {
        return (
            Judgement::WithinNoise,
            format!("worse by {:.0}% but within the noise: {test} ({})", worse * 100.0, new.basis.words),
        );
    }
    if let Some(first) = first {
        let first_worse = worsening(new, stats::median(&first.samples) / stats::median(&reference.samples) - 1.0);
        let first_confirms = first_worse > options.threshold;
        if !first_confirms {
            return (
                Judgement::NotConfirmed,
                format!(
                    "not confirmed: worse by {:.0}% in this run but {:.0}% in the first attempt ({})",
                    worse * 100.0,
                    first_worse * 100.0,
                    new.basis.words
                ),
            );
        }
    }
    let confirmed = if first.is_some() { ", confirmed by a re-run" } else { "" };
    (
        Judgement::Regression,
        format!(
            "**REGRESSION**: worse by {:.0}%, beyond {threshold_percent:.0}%; {test}{confirmed} ({})",
            worse * 100.0,
            new.basis.words
        ),
    )
}

/// The one-sided Mann-Whitney test of NEW worse than the reference, in words; too few samples for the test to
/// reach the significance level leaves the threshold alone to decide, and the words say so.
fn significance(new: &Figure, reference: &Reference, alpha: f64) -> (bool, String) {
    let (new_samples, reference_samples): (Vec<f64>, Vec<f64>) = match new.better {
        Better::Higher => (new.samples.clone(), reference.samples.clone()),
        Better::Lower => (new.samples.iter().map(|v| -v).collect(), reference.samples.iter().map(|v| -v).collect()),
    };
    let sizes = format!("n={} vs {}", new_samples.len(), reference_samples.len());
    if stats::smallest_p(new_samples.len(), reference_samples.len()) > alpha {
        return (true, format!("too few repetitions for a test ({sizes}), threshold only"));
    }
    match stats::p_new_smaller(&new_samples, &reference_samples) {
        Some(p) => (p <= alpha, format!("Mann-Whitney p={p:.3} ({sizes}, alpha {alpha})")),
        None => (true, format!("no test possible ({sizes}), threshold only")),
    }
}

fn judge_failure_rate(reference: f64, new: f64, first: Option<&Figure>) -> (Judgement, String) {
    let margin_points = FAILURE_RATE_MARGIN * 100.0;
    if new - reference <= FAILURE_RATE_MARGIN {
        return (Judgement::Ok, format!("ok, within {margin_points:.0} point of the reference"));
    }
    if let Some(first) = first {
        if stats::median(&first.samples) - reference <= FAILURE_RATE_MARGIN {
            return (Judgement::NotConfirmed, "not confirmed: the first attempt had no extra failures".into());
        }
    }
    (Judgement::Regression, format!("**REGRESSION**: more than {margin_points:.0} point more requests failed"))
}
