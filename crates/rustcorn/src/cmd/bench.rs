//! `rustcorn bench`: `run` a suite into results/<run-id>/ (crates/bench does the work); `report`, `compare`,
//! `baseline`, and for load from several machines `merge`, `k8s-job` and `collect`, each in its own module.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::signals::cancel_on_signals;
use anyhow::Context;
use bench::output::{Json, RunExporter, Table};
use bench::results::TargetStatus;
use bench::{Outcome, RunOptions};
use clap::Subcommand;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Run a suite (TOML, see bench-suite/README.md): every target x phase, results in results/<run-id>/.
    Run(RunArgs),
    /// Render report.html and summary.md from a results.json (cmd/report.rs).
    Report(super::report::Args),
    /// Compare a run with a baseline: markdown table, exit 1 on a regression, 2 on unusable input.
    Compare(super::bench_compare::Args),
    /// Make a run the CI baseline (results/baseline.json): refused for partial, failed or uncalibrated runs.
    Baseline(super::bench_baseline::Args),
    /// Merge what several load agents measured at the same time: .hlog interval logs or .json load reports.
    Merge(super::bench_merge::Args),
    /// Print a Kubernetes Indexed Job that runs N load agents starting together: AGENTS IMAGE TARGET [LOAD FLAGS].
    #[command(name = "k8s-job")]
    K8sJob(super::bench_k8s::Args),
    /// Read load agents' reports back from `kubectl logs` files or a directory and merge them exactly.
    Collect(super::bench_collect::Args),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The suite file, e.g. bench-suite/default.toml.
    suite: PathBuf,
    /// Folder that receives one folder per run and the `latest` link.
    #[arg(long, default_value = "results", value_name = "DIR")]
    results_dir: PathBuf,
    /// Allow external targets on addresses other than loopback.
    #[arg(long)]
    allow_remote: bool,
    /// No progress bar, no per-phase lines, no table: only the results path (or the JSON).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Print results.json on stdout at the end instead of the table (the path goes to stderr).
    #[arg(long)]
    json: bool,
}

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT), after partial results are written.
const EXIT_INTERRUPTED: u8 = 130;
/// Exit code for a suite or target that cannot be run as written.
const EXIT_BAD_INPUT: u8 = 2;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Run(args) => run_suite(args),
        Action::Report(args) => super::report::run(args),
        Action::Compare(args) => super::bench_compare::run(args),
        Action::Baseline(args) => super::bench_baseline::run(args),
        Action::Merge(args) => super::bench_merge::run(args),
        Action::K8sJob(args) => super::bench_k8s::run(args),
        Action::Collect(args) => super::bench_collect::run(args),
    }
}

fn run_suite(args: RunArgs) -> anyhow::Result<ExitCode> {
    let cancel = cancel_on_signals("stopping the run; writing partial results")?;
    let options = RunOptions {
        suite: args.suite.clone(),
        results_root: args.results_dir.clone(),
        rustcorn: std::env::current_exe().context("cannot find the rustcorn binary's own path")?,
        allow_remote: args.allow_remote,
        quiet: args.quiet || args.json,
    };
    let outcome = match bench::run(&options, &cancel) {
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
    show(&outcome, &args)?;
    Ok(exit_code(&outcome))
}

/// The table (or the JSON) and where the results are.
fn show(outcome: &Outcome, args: &RunArgs) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let results_json = outcome.dir.join("results.json");
    let report = render_report(outcome);
    if args.json {
        stdout.write_all(&Json.export(&outcome.results))?;
        eprintln!("Results: {}", results_json.display());
        if let Some(files) = &report {
            eprintln!("Report: {}", files.html.display());
        }
    } else {
        if !args.quiet {
            stdout.write_all(&Table.export(&outcome.results))?;
        }
        writeln!(stdout, "Results: {}", results_json.display())?;
        if let Some(files) = &report {
            writeln!(stdout, "Summary: {}", files.summary.display())?;
            writeln!(stdout, "Report: {}", files.html.display())?;
        }
    }
    stdout.flush()?;
    Ok(())
}

/// Renders report.html and summary.md next to results.json. A failure here is reported but loses nothing: the
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

/// 130 after Ctrl-C, 1 when no target could be measured, 0 otherwise (failed targets are in the results).
fn exit_code(outcome: &Outcome) -> ExitCode {
    if outcome.interrupted {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    let failed = outcome.results.targets.iter().filter(|t| matches!(t.status, TargetStatus::Failed { .. })).count();
    if failed > 0 {
        eprintln!("rustcorn: warning: {failed} of {} targets failed (see the table)", outcome.results.targets.len());
    }
    if failed == outcome.results.targets.len() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
