//! `rustcorn bench merge`: combines what several load agents measured against one target at the same time, exactly:
//! HDR interval logs (`.hlog`, from `rustcorn load --hlog`) or load reports (`.json`, from `rustcorn load --json`).
//! Agents whose windows do not overlap are refused; the agents, the spread of their starts and the clock assumption
//! are printed above the merged summary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use loadgen::agent::check_windows;
use loadgen::output::{agents, hlog, Exporter, Json, Terminal};
use loadgen::{AgentWindow, LoadReport};

/// NTP keeps hosts on one network within a few milliseconds; 10 ms is a cautious bound to state.
pub const DEFAULT_CLOCK_SKEW: &str = "10ms";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Two or more files of one kind: all `.hlog` or all `.json` load reports.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// Where the merged file goes (same kind as the inputs).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// The skew assumed between different hosts' clocks (kept by NTP), stated beside the start spread.
    #[arg(long, default_value = DEFAULT_CLOCK_SKEW, value_parser = humantime::parse_duration)]
    clock_skew: Duration,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let contents = args
        .inputs
        .iter()
        .map(|path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<Vec<Vec<u8>>>>()?;
    let (merged, agents, report) = if args.inputs.iter().all(|path| has_extension(path, "hlog")) {
        let logs: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
        let merged = hlog::merge(&logs).context("cannot merge the interval logs")?;
        let agents = hlog::read_agents(&merged).context("cannot read the merged log's agents")?;
        (merged, agents, None)
    } else if args.inputs.iter().all(|path| has_extension(path, "json")) {
        let report = merge_reports(&args.inputs, &contents)?;
        let bytes = Json.export(&report).context("cannot encode the merged report")?;
        (bytes, report.agents.clone(), Some(report))
    } else {
        bail!("inputs must all be .hlog interval logs or all be .json load reports");
    };
    std::fs::write(&args.output, merged).with_context(|| format!("cannot write {}", args.output.display()))?;
    let done = format!("Merged {} files into {}", args.inputs.len(), args.output.display());
    print_merged(&agents, report.as_ref(), args.clock_skew, &done)?;
    Ok(ExitCode::SUCCESS)
}

/// The agents with their start spread and clock statement, the merged summary when there is a report, and `done`.
pub fn print_merged(
    agents: &[AgentWindow],
    report: Option<&LoadReport>,
    clock_skew: Duration,
    done: &str,
) -> anyhow::Result<()> {
    let spread = check_windows(agents)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(agents::describe(agents, &spread, clock_skew).as_bytes())?;
    if let Some(report) = report {
        stdout.write_all(&Terminal.export(report).context("cannot render the merged report")?)?;
    }
    writeln!(stdout, "{done}")?;
    stdout.flush()?;
    Ok(())
}

fn merge_reports(paths: &[PathBuf], contents: &[Vec<u8>]) -> anyhow::Result<LoadReport> {
    let reports = paths
        .iter()
        .zip(contents)
        .map(|(path, bytes)| {
            serde_json::from_slice::<LoadReport>(bytes)
                .with_context(|| format!("{} is not a load report (rustcorn load --json)", path.display()))
        })
        .collect::<anyhow::Result<Vec<LoadReport>>>()?;
    loadgen::merge(&reports).context("cannot merge the load reports")
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension().is_some_and(|found| found == extension)
}
