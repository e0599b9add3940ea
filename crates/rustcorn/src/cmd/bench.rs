//! `rustcorn bench`: the benchmark driver's subcommands. `report` renders a results file (cmd/report.rs).

use std::process::ExitCode;

use clap::Subcommand;

/// Run suites, compare and report results.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Render report.html and summary.md from a results.json.
    Report(super::report::Args),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        BenchCommand::Report(args) => super::report::run(args),
    }
}
