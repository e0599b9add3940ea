//! `rustcorn bench compare`: judges a new run against a baseline (plus a window of CI history) on figures that
//! survive a change of machine - normalised by each run's calibration, or ratios between models of the same run -
//! with a Mann-Whitney test over repetitions and an optional confirmation by a re-run. Renders markdown.

mod baseline;
mod figures;
mod judge;
mod markdown;
pub mod stats;

use std::collections::BTreeMap;

pub use baseline::{make_baseline, BaselineError};
pub use figures::{Better, Figure, FigureBasis, FigureKind, Metric};

use crate::history::HistoryLine;
use crate::results::RunResults;
use figures::{extract, usable_calibration, RunFigures};
use judge::{judge, reference_samples, Reference};

/// A failure rate this much higher (absolute, 0.01 = one request in a hundred) than the reference's is a regression.
pub const FAILURE_RATE_MARGIN: f64 = 0.01;

/// The knobs of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Relative change in the bad direction beyond which a figure regresses (0.25 = 25 %).
    pub threshold: f64,
    /// Significance level of the one-sided Mann-Whitney test.
    pub alpha: f64,
    /// How many of the latest passing history lines join the baseline's repetitions as reference samples.
    pub window: usize,
}

impl Default for CompareOptions {
    fn default() -> CompareOptions {
        CompareOptions { threshold: 0.25, alpha: 0.05, window: 10 }
    }
}

/// What is compared with what.
#[derive(Debug, Clone, Copy)]
pub struct CompareInputs<'a> {
    pub base: &'a RunResults,
    pub new: &'a RunResults,
    /// Earlier CI runs (results/history.jsonl); empty for none.
    pub history: &'a [HistoryLine],
    /// The first attempt when `new` is a re-run: a regression counts only when the first attempt showed it too.
    pub first_attempt: Option<&'a RunResults>,
}

/// The outcome of one row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Ok,
    /// Better beyond the threshold.
    Better,
    /// Worse beyond the threshold but not significantly so over the repetitions: passes.
    WithinNoise,
    /// Worse beyond the threshold in this run but not in the first attempt: passes.
    NotConfirmed,
    /// Shown for information, never gated (raw figures).
    Info,
    /// Measured in BASE, absent from NEW: reported, not gated (a failed target is).
    Missing,
    /// Measured in NEW only.
    Added,
    /// Fails the comparison.
    Regression,
    /// The target failed to run in NEW: fails the comparison.
    TargetFailed,
}

impl Judgement {
    pub fn fails(self) -> bool {
        matches!(self, Judgement::Regression | Judgement::TargetFailed)
    }
}

/// One line of the table: metric, base, new, change, verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The target, phase and load the row is about, e.g. "sync / cpu @c10".
    pub phase: String,
    /// What is measured and how it was made comparable, e.g. "req/s, normalised by the CPU-loop calibration".
    pub metric: String,
    pub base: String,
    pub new: String,
    pub change: String,
    pub verdict: Judgement,
    /// The verdict in words, with the figures and the test used.
    pub verdict_text: String,
}

/// The result of [`compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// Things the reader should know: calibration missing, machines differ, phases skipped.
    pub notes: Vec<String>,
    pub options: CompareOptions,
    /// "commit, date" of each side.
    pub base_label: String,
    pub new_label: String,
    /// Medians of NEW's figures (gated and raw) and its calibration: the history line of this run.
    pub new_figures: BTreeMap<String, f64>,
}

/// Why there is nothing to judge.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompareError {
    #[error("nothing to compare: {0}")]
    NothingToCompare(String),
    #[error("bad option: {0}")]
    BadOption(String),
}

impl Comparison {
    /// True when no row fails.
    pub fn passed(&self) -> bool {
        !self.rows.iter().any(|row| row.verdict.fails())
    }

    pub fn failing_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|row| row.verdict.fails())
    }

    /// The markdown summary: result line, table, notes.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// This run's line for results/history.jsonl.
    pub fn history_line(&self, new: &RunResults) -> HistoryLine {
        HistoryLine {
            commit: new.environment.git_commit.clone().unwrap_or_else(|| "unknown".into()),
            date: new.started_at.clone(),
            figures: self.new_figures.clone(),
            passed: Some(self.passed()),
        }
    }
}

/// Compares NEW with BASE (and the history window); see the module comment.
pub fn compare(inputs: CompareInputs<'_>, options: &CompareOptions) -> Result<Comparison, CompareError> {
    check_options(options)?;
    let mut notes = Vec::new();
    let calibrated = both_calibrated(inputs, &mut notes);
    let figures_of = |run: &RunResults| extract(run, if calibrated { usable_calibration(run) } else { None });
    let base = figures_of(inputs.base);
    let new = figures_of(inputs.new);
    let first = inputs.first_attempt.map(figures_of);
    note_environment(inputs, &base, &new, &mut notes);

    let mut rows = Vec::new();
    let mut judged_gated = 0;
    for base_figure in &base.figures {
        let Some(new_figure) = new.figures.iter().find(|figure| figure.match_key == base_figure.match_key) else {
            continue;
        };
        if base_figure.gated && base_figure.kind != FigureKind::FailureRate {
            judged_gated += 1;
        }
        let first_figure = first
            .as_ref()
            .and_then(|first| first.figures.iter().find(|figure| figure.match_key == base_figure.match_key));
        let reference = reference_samples(base_figure, new_figure, inputs.history, options);
        if let Some(row) = judge(base_figure, new_figure, &reference, first_figure, options) {
            rows.push(row);
        }
    }
    rows.extend(phase_presence_rows(&base, &new));
    group_rows_by_phase(&mut rows);
    if judged_gated == 0 && new.failed_targets.is_empty() {
        return Err(CompareError::NothingToCompare(nothing_to_compare_reason(&base, &new, calibrated)));
    }
    Ok(Comparison {
        rows,
        notes,
        options: options.clone(),
        base_label: run_label(inputs.base),
        new_label: run_label(inputs.new),
        new_figures: history_figures(inputs.new, &new),
    })
}

fn check_options(options: &CompareOptions) -> Result<(), CompareError> {
    if !(options.threshold > 0.0 && options.threshold < 1.0) {
        return Err(CompareError::BadOption(format!(
            "threshold must be between 0% and 100%, not {}%",
            options.threshold * 100.0
        )));
    }
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(CompareError::BadOption(format!("alpha must be between 0 and 1, not {}", options.alpha)));
    }
    Ok(())
}

/// Efficiency figures need a usable calibration of the same workload on both sides (and on the first attempt).
fn both_calibrated(inputs: CompareInputs<'_>, notes: &mut Vec<String>) -> bool {
    let mut sides = vec![("BASE", inputs.base), ("NEW", inputs.new)];
    if let Some(first) = inputs.first_attempt {
        sides.push(("the first attempt", first));
    }
    let missing: Vec<&str> =
        sides.iter().filter(|(_, run)| usable_calibration(run).is_none()).map(|(side, _)| *side).collect();
    if missing.is_empty() {
        return true;
    }
    let verb = if missing.len() == 1 { "has" } else { "have" };
    notes.push(format!(
        "{} {verb} no usable calibration (of workload version {}): CPU- and loopback-bound phases are compared by \
         ratios between models only.",
        missing.join(" and "),
        crate::calibration::WORKLOAD_VERSION
    ));
    false
}

fn note_environment(inputs: CompareInputs<'_>, base: &RunFigures, new: &RunFigures, notes: &mut Vec<String>) {
    let (base_env, new_env) = (&inputs.base.environment, &inputs.new.environment);
    if base_env.cpu_model != new_env.cpu_model || base_env.cores != new_env.cores {
        notes.push(format!(
            "BASE ran on {} ({} cores), NEW on {} ({} cores): only normalised figures and ratios are gated.",
            base_env.cpu_model, base_env.cores, new_env.cpu_model, new_env.cores
        ));
    }
    if inputs.new.partial {
        notes.push("NEW is a partial run (interrupted): phases it lacks are reported as missing.".into());
    }
    for (side, figures) in [("BASE", base), ("NEW", new)] {
        notes.extend(figures.notes.iter().map(|note| format!("{side}: {note}")));
    }
}

/// Rows for phases on one side only and for targets that failed in NEW.
fn phase_presence_rows(base: &RunFigures, new: &RunFigures) -> Vec<Row> {
    let mut rows = Vec::new();
    let presence_row = |phase: &figures::PhaseId, base: &str, new: &str, verdict, text: String| Row {
        phase: format!("{} / {} @{}", phase.target, phase.phase, phase.load_tag),
        metric: "phase".into(),
        base: base.into(),
        new: new.into(),
        change: String::new(),
        verdict,
        verdict_text: text,
    };
    for phase in base.phases.iter().filter(|phase| !new.phases.iter().any(|other| other.key == phase.key)) {
        let failure = new.failed_targets.iter().find(|(target, _)| *target == phase.target);
        let row = match failure {
            Some((_, reason)) => presence_row(
                phase,
                "measured",
                "-",
                Judgement::TargetFailed,
                format!("**TARGET FAILED** in NEW: {reason}"),
            ),
            None => presence_row(phase, "measured", "-", Judgement::Missing, "missing in NEW: not compared".into()),
        };
        rows.push(row);
    }
    for phase in new.phases.iter().filter(|phase| !base.phases.iter().any(|other| other.key == phase.key)) {
        rows.push(presence_row(phase, "-", "measured", Judgement::Added, "new in NEW: no baseline yet".into()));
    }
    for (target, reason) in &new.failed_targets {
        let already = rows
            .iter()
            .any(|row| row.verdict == Judgement::TargetFailed && row.phase.starts_with(&format!("{target} /")));
        if !already {
            rows.push(Row {
                phase: target.clone(),
                metric: "target".into(),
                base: String::new(),
                new: "failed".into(),
                change: String::new(),
                verdict: Judgement::TargetFailed,
                verdict_text: format!("**TARGET FAILED** in NEW: {reason}"),
            });
        }
    }
    rows
}

/// Keeps each phase's rows together, phases in order of first appearance (ratios are computed after the rest).
fn group_rows_by_phase(rows: &mut [Row]) {
    let mut order: Vec<String> = Vec::new();
    for row in rows.iter() {
        if !order.contains(&row.phase) {
            order.push(row.phase.clone());
        }
    }
    rows.sort_by_key(|row| order.iter().position(|phase| *phase == row.phase));
}

fn nothing_to_compare_reason(base: &RunFigures, new: &RunFigures, calibrated: bool) -> String {
    let list = |figures: &RunFigures| {
        let names: Vec<String> =
            figures.phases.iter().map(|phase| format!("{}/{}@{}", phase.target, phase.phase, phase.load_tag)).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let shared = base.phases.iter().any(|phase| new.phases.iter().any(|other| other.key == phase.key));
    if shared && !calibrated {
        return "the shared phases give no comparable figure: a calibration is missing and no phase was run by \
                more than one target (ratios need two)"
            .into();
    }
    format!(
        "BASE and NEW share no phase (matched by target, endpoints and load). BASE measured: {}. NEW measured: {}.",
        list(base),
        list(new)
    )
}

fn run_label(run: &RunResults) -> String {
    let commit =
        run.environment.git_commit.as_deref().map(|commit| &commit[..commit.len().min(10)]).unwrap_or("unknown");
    let dirty = if run.environment.git_dirty == Some(true) { " (dirty)" } else { "" };
    format!("{commit}{dirty}, {}", run.started_at)
}

/// NEW's figures by name (medians over repetitions) plus its calibration, for history.jsonl.
fn history_figures(run: &RunResults, figures: &RunFigures) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = figures
        .figures
        .iter()
        .filter(|figure| figure.kind != FigureKind::FailureRate)
        .map(|figure| (figure.name.clone(), stats::median(&figure.samples)))
        .filter(|(_, value)| value.is_finite())
        .collect();
    if let Some(calibration) = &run.calibration {
        out.insert("cal:cpu_loop_per_cpu_s".into(), calibration.cpu_loop_per_cpu_s);
        out.insert("cal:round_trips_per_cpu_s".into(), calibration.round_trips_per_cpu_s);
    }
    out
}

#[cfg(test)]
mod tests;
