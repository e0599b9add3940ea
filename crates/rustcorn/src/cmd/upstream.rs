//! `rustcorn upstream` (being written).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not wired yet: {args:?}")
}
