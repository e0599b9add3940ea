//! `rustcorn bench baseline RUN.json [--out results/baseline.json]`: checks that a run can serve as the CI
//! baseline (complete, calibrated, no failed target), slims it (`bench::compare::make_baseline`) and writes it
//! atomically. `make baseline` calls it after a quick-suite run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bench::compare::make_baseline;
use bench::output::{Json, RunExporter};
use bench::results::RunResults;
use bench::store::write_atomically;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run's results.json, e.g. results/latest/results.json.
    run: PathBuf,
    /// Where the baseline goes.
    #[arg(long, default_value = "results/baseline.json")]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let run = RunResults::read(&args.run)?;
    let baseline = make_baseline(run).with_context(|| format!("{} cannot be the baseline", args.run.display()))?;
    if let Some(parent) = args.out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    write_atomically(&args.out, &Json.export(&baseline))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("Baseline: {} (from {})", args.out.display(), args.run.display());
    Ok(ExitCode::SUCCESS)
}
