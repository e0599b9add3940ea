//! `rustcorn load URL --find-capacity --slo "p99 <= 250ms"`: the flags of a capacity search, and its run - one
//! line per step as it is judged, then the capacity with its range (or the [`loadgen::capacity::CapacityReport`] as
//! JSON). The search itself is `loadgen::capacity`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use loadgen::capacity::{self, Objective, SearchConfig};
use loadgen::output::capacity as table;
use loadgen::{LoadPlan, Pacing, RunControl};

use crate::ranges;

/// Exit code for bad input: the same as clap's usage errors (and `rustcorn load`'s).
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, Clone, clap::Args)]
pub struct CapacityArgs {
    /// Search the highest offered rate (open loop) the target sustains while --slo holds: ramp x2 from
    /// --start-rate, bisect to 5 %, then confirm.
    #[arg(long, requires = "slo", conflicts_with_all = ["rate", "users"])]
    pub find_capacity: bool,
    /// The latency objective of --find-capacity, e.g. "p99 <= 250ms" (failures <= 0.1 % and achieved >= 98 % of
    /// the offered rate are also required). With --rate: the run's verdict against it is printed on stderr.
    #[arg(long, value_name = "OBJECTIVE", value_parser = parse_objective)]
    pub slo: Option<Objective>,
    /// The first rate offered (requests/s; 0.001..=1e7).
    #[arg(long, default_value_t = 100.0, requires = "find_capacity", value_parser = ranges::float(ranges::RATE))]
    pub start_rate: f64,
    /// The highest rate offered; holding there ends the search with "at least" it (0.001..=1e7).
    #[arg(long, default_value_t = 1_000_000.0, requires = "find_capacity", value_parser = ranges::float(ranges::RATE))]
    pub max_rate: f64,
    /// Re-runs of the found rate and the one above it (0..=20).
    #[arg(long, default_value_t = 3, requires = "find_capacity", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub confirmations: u32,
}

/// With --slo on a rate run: says on stderr whether the objective held at the offered rate.
pub fn print_verdict(args: &CapacityArgs, plan: &LoadPlan, report: &loadgen::LoadReport) {
    let (Some(objective), Pacing::Rate { per_second, .. } | Pacing::OpenRate { per_second, .. }) =
        (&args.slo, &plan.pacing)
    else {
        return;
    };
    let verdict = capacity::judge(report, *per_second, objective);
    eprintln!("rustcorn load: objective {objective} at {per_second}/s: {verdict}");
}

fn bad_input(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("rustcorn load: error: {error}");
    ExitCode::from(EXIT_BAD_INPUT)
}

pub(crate) fn parse_objective(text: &str) -> Result<Objective, String> {
    text.parse().map_err(|error: capacity::ObjectiveError| error.to_string())
}

impl CapacityArgs {
    fn config(&self) -> SearchConfig {
        SearchConfig {
            start_per_second: self.start_rate,
            max_per_second: self.max_rate,
            confirmations: self.confirmations,
            ..SearchConfig::default()
        }
    }
}

/// Runs the search, printing each step as it is judged (on stderr with --json, so stdout holds only the JSON).
/// Exits 0 when a capacity was found, 1 when none was, 2 for bad input.
pub fn run(args: &CapacityArgs, plan: &LoadPlan, json: bool, control: &RunControl) -> anyhow::Result<ExitCode> {
    let Some(objective) = &args.slo else { return Ok(bad_input(&"--find-capacity needs --slo")) };
    let mut steps_out: Box<dyn Write> = if json { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) };
    writeln!(steps_out, "Capacity search on {} for {objective}", plan.target.addr).context("cannot write")?;
    writeln!(steps_out, "{}", table::step_header()).context("cannot write")?;
    let on_step = |step: &capacity::StepRecord| {
        let _ = writeln!(steps_out, "{}", table::step_line(step));
        let _ = steps_out.flush();
    };
    let report = match capacity::find_capacity_with(plan, objective, &args.config(), control, on_step) {
        Ok(report) => report,
        Err(error) if error.is_bad_input() => return Ok(bad_input(&error)),
        Err(error) => return Err(error).context("the capacity search failed"),
    };
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &report).context("cannot write the report")?;
        writeln!(stdout).context("cannot write to stdout")?;
    } else {
        write!(stdout, "\n{}", table::summary(&report)).context("cannot write to stdout")?;
    }
    stdout.flush().context("cannot write to stdout")?;
    Ok(if report.capacity_per_second.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
