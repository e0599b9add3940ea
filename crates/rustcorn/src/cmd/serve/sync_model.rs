//! Wiring of this server model (being written).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: super::CommonArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not wired yet: {args:?}")
}
