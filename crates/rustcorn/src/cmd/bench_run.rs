//! `rustcorn bench run SUITE`: runs a suite into results/<run-id>/ (crates/bench does the work), then shows the
//! table (or JSON) and writes the report; [`RunFlags`] and [`finish_run`] are shared with `bench servers`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bench::output::{Json, RunExporter, Table};
use bench::results::TargetStatus;
use bench::{Outcome, RunOptions};

use crate::signals::cancel_on_signals;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The suite file, e.g. bench-suite/default.toml.
    suite: PathBuf,
    #[command(flatten)]
    flags: RunFlags,
}

/// How a run is kept and shown: shared by `bench run` and `bench servers`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunFlags {
    /// Folder that receives one folder per run and the `latest` link.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results_dir: PathBuf,
    /// Allow external targets on addresses other than loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// No progress bar, no per-phase lines, no table: only the results path (or the JSON).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print results.json on stdout at the end instead of the table (the path goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Share of failed requests a phase may have (e.g. 5% or 0.05); beyond it the run exits 1 and the table,
    /// summary.md and the report's verdict name the phase. Phases with `kill_worker_at` are exempt.
    #[arg(long, default_value = "5%", value_name = "SHARE", value_parser = bench::failures::parse_max_failures)]
    pub max_failures: f64,
}

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT), after partial results are written.
const EXIT_INTERRUPTED: u8 = 130;
/// Exit code for a suite or target that cannot be run as written.
const EXIT_BAD_INPUT: u8 = 2;

pub fn run_suite(args: RunArgs) -> anyhow::Result<ExitCode> {
    let cancel = cancel_on_signals("stopping the run; writing partial results")?;
    let options = args.flags.options(args.suite.clone())?;
    finish_run(bench::run(&options, &cancel), &args.flags)
}

impl RunFlags {
    /// The driver's options for the suite at (or named) `suite`.
    pub(crate) fn options(&self, suite: PathBuf) -> anyhow::Result<RunOptions> {
        Ok(RunOptions {
            suite,
            suite_text: None,
            results_root: self.results_dir.clone(),
            rustcorn: std::env::current_exe().context("cannot find the rustcorn binary's own path")?,
            allow_remote: self.allow_remote,
            quiet: self.quiet || self.json,
            max_failures: self.max_failures,
        })
    }
}

/// Exit status and output of a run: 2 for bad input, 130 for Ctrl-C before anything was measured, else the table
/// (or JSON), the report, and [`exit_code`].
pub(crate) fn finish_run(outcome: Result<Outcome, bench::RunError>, flags: &RunFlags) -> anyhow::Result<ExitCode> {
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) if error.is_bad_input() => {
            eprintln!("rustcorn: error: {error}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
        Err(bench::RunError::Interrupted) => {
            eprintln!("rustcorn: interrupted before the first phase; nothing was written");
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        Err(error) => return Err(error.into()),
    };
    show(&outcome, flags)?;
    Ok(exit_code(&outcome))
}

/// The table (or the JSON) and where the results are.
fn show(outcome: &Outcome, args: &RunFlags) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let results_json = outcome.dir.join("results.json");
    let report = render_report(outcome);
    if args.json {
        stdout.write_all(&Json.export(&outcome.results))?;
        eprintln!("Results: {}", results_json.display());
        if let Some(files) = &report {
            eprintln!("Findings: {}", files.findings.display());
            eprintln!("Report: {}", files.html.display());
        }
    } else {
        if !args.quiet {
            stdout.write_all(&Table.export(&outcome.results))?;
        }
        writeln!(stdout, "Results: {}", results_json.display())?;
        if let Some(files) = &report {
            writeln!(stdout, "Findings: {}", files.findings.display())?;
            writeln!(stdout, "Summary: {}", files.summary.display())?;
            writeln!(stdout, "Report: {}", files.html.display())?;
        }
    }
    stdout.flush()?;
    Ok(())
}

/// Renders report.html, summary.md and findings.json next to results.json. A failure here is reported but loses nothing: the
/// results are already on disk and `rustcorn bench report` can render them again.
fn render_report(outcome: &Outcome) -> Option<report::ReportFiles> {
    match report::write_run_report(&outcome.dir, &outcome.results) {
        Ok(files) => Some(files),
        Err(error) => {
            eprintln!("rustcorn: warning: cannot render the report: {error:#}");
            None
        }
    }
}

/// 130 after Ctrl-C; 1 when no target could be measured or a phase's requests failed beyond `--max-failures`
/// (the table names it); 0 otherwise (a target that failed to start is in the results and the table).
fn exit_code(outcome: &Outcome) -> ExitCode {
    if outcome.interrupted {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    let targets = &outcome.results.targets;
    let failed = targets.iter().filter(|t| matches!(t.status, TargetStatus::Failed { .. })).count();
    if failed > 0 {
        eprintln!("rustcorn: warning: {failed} of {} targets failed (see the table)", targets.len());
    }
    let failing = outcome.results.failing_phases();
    if !failing.is_empty() {
        let limit = outcome.results.max_failures() * 100.0;
        eprintln!(
            "rustcorn: error: {} phase(s) failed beyond --max-failures {limit}%: {}",
            failing.len(),
            failing.iter().map(|phase| phase.describe()).collect::<Vec<_>>().join("; ")
        );
    }
    if failed == targets.len() || !failing.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
