//! `rustcorn bench merge`: combines what several load agents measured against one target at the same time, exactly:
//! HDR interval logs (`.hlog`, from `rustcorn load --hlog`) or load reports (`.json`, from `rustcorn load --json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use loadgen::output::{hlog, Exporter, Json};
use loadgen::LoadReport;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Two or more files of one kind: all `.hlog` or all `.json` load reports.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// Where the merged file goes (same kind as the inputs).
    #[arg(long, short = 'o')]
    output: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let contents = args
        .inputs
        .iter()
        .map(|path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<Vec<Vec<u8>>>>()?;
    let merged = if args.inputs.iter().all(|path| has_extension(path, "hlog")) {
        let logs: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
        hlog::merge(&logs).context("cannot merge the interval logs")?
    } else if args.inputs.iter().all(|path| has_extension(path, "json")) {
        merge_reports(&args.inputs, &contents)?
    } else {
        bail!("inputs must all be .hlog interval logs or all be .json load reports");
    };
    std::fs::write(&args.output, merged).with_context(|| format!("cannot write {}", args.output.display()))?;
    println!("Merged {} files into {}", args.inputs.len(), args.output.display());
    Ok(ExitCode::SUCCESS)
}

fn merge_reports(paths: &[PathBuf], contents: &[Vec<u8>]) -> anyhow::Result<Vec<u8>> {
    let reports = paths
        .iter()
        .zip(contents)
        .map(|(path, bytes)| {
            serde_json::from_slice::<LoadReport>(bytes)
                .with_context(|| format!("{} is not a load report (rustcorn load --json)", path.display()))
        })
        .collect::<anyhow::Result<Vec<LoadReport>>>()?;
    let merged = loadgen::merge(&reports).context("cannot merge the load reports")?;
    Json.export(&merged).context("cannot encode the merged report")
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension().is_some_and(|found| found == extension)
}
