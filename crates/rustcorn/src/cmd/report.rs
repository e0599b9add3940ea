//! `rustcorn bench report RESULTS.json [-o report.html]`: renders a results file as the HTML report and writes
//! summary.md and findings.json next to it (the report crate does the work).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Render report.html, summary.md and findings.json from a results.json.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The results file a `rustcorn bench run` wrote (results/<run-id>/results.json).
    pub results: PathBuf,

    /// Where to write the HTML page; summary.md and findings.json go in the same folder. Default: report.html next to RESULTS.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// CI history for the trend chart (JSON Lines: {"commit", "date", "figures": {name: number}}). Default:
    /// history.jsonl next to RESULTS or in its parent folder, when there is one.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let results = bench::RunResults::read(&args.results)?;
    let options = match &args.history {
        Some(path) => {
            let history =
                report::History::read(path)?.with_context(|| format!("--history {}: no such file", path.display()))?;
            report::ReportOptions { history: Some(history) }
        }
        None => report::ReportOptions::for_results_file(&args.results)?,
    };
    let html_path = match args.output {
        Some(path) => path,
        None => args.results.parent().map(|folder| folder.join(report::HTML_FILE)).unwrap_or(report::HTML_FILE.into()),
    };
    if let Some(folder) = html_path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let files = report::write_report(&results, &html_path, &options)?;
    println!("Report: {}", files.html.display());
    println!("Summary: {}", files.summary.display());
    println!("Findings: {}", files.findings.display());
    Ok(ExitCode::SUCCESS)
}
