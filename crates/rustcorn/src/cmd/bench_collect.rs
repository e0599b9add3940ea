//! `rustcorn bench collect`: reads load agents' outputs back (from `kubectl logs` files, plain files, or a shared
//! directory; crates/bench's `collect` does the work), merges them exactly and prints the agents and the summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use loadgen::output::{Exporter, Json};

use super::bench_merge::{print_merged, DEFAULT_CLOCK_SKEW};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `kubectl logs` output files (holding rustcorn-frame lines), agents' AGENT.json/AGENT.hlog files, or
    /// directories of either.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Where the merged JSON report goes.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: PathBuf,
    /// Also write the merged .hlog here (needs every agent's .hlog).
    #[arg(long, value_name = "FILE")]
    hlog: Option<PathBuf>,
    /// Fail unless exactly this many agents are found (a Job's --agents: a missing pod is then an error).
    #[arg(long, value_name = "N")]
    expect: Option<usize>,
    /// The skew assumed between different hosts' clocks (kept by NTP), stated beside the start spread.
    #[arg(long, default_value = DEFAULT_CLOCK_SKEW, value_parser = humantime::parse_duration)]
    clock_skew: Duration,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let outputs = bench::collect::gather(&args.inputs).context("cannot collect the agents' outputs")?;
    if let Some(expected) = args.expect {
        if outputs.len() != expected {
            let found: Vec<&str> = outputs.iter().map(|output| output.agent.as_str()).collect();
            bail!("expected {expected} agents, found {}: {}", outputs.len(), found.join(", "));
        }
    }
    let merged = bench::collect::merge(&outputs).context("cannot merge the agents' outputs")?;
    if args.hlog.is_some() && merged.hlog.is_none() {
        bail!("--hlog: not every agent left an .hlog, so there is no merged .hlog");
    }
    let json = Json.export(&merged.report).context("cannot encode the merged report")?;
    std::fs::write(&args.output, json).with_context(|| format!("cannot write {}", args.output.display()))?;
    if let Some(path) = &args.hlog {
        std::fs::write(path, merged.hlog.as_deref().unwrap_or_default())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let done = format!("Collected {} agents into {}", outputs.len(), args.output.display());
    print_merged(&merged.report.agents, Some(&merged.report), args.clock_skew, &done)?;
    Ok(ExitCode::SUCCESS)
}
