//! `rustcorn bench`: the benchmark driver's subcommands, each dispatching to its module.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Compare a run with a baseline: markdown table, exit 1 on a regression, 2 on unusable input.
    Compare(super::bench_compare::Args),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        BenchCommand::Compare(args) => super::bench_compare::run(args),
    }
}
