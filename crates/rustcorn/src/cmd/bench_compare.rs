//! `rustcorn bench compare BASE.json NEW.json`: reads both runs (and the CI history), calls
//! `bench::compare::compare`, prints the markdown table, writes it to the summary file, and maps the verdict to the
//! exit status: 0 pass, 1 regression, 2 unusable input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bench::compare::{compare, CompareError, CompareInputs, CompareOptions};
use bench::history;
use bench::results::{ReadError, RunResults};

/// Exit status for input that cannot be compared (schema mismatch, unreadable file, nothing in common).
const EXIT_UNUSABLE: u8 = 2;
const EXIT_REGRESSION: u8 = 1;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The reference run's results.json (CI: results/baseline.json).
    base: PathBuf,
    /// The run to judge.
    new: PathBuf,
    /// Relative change in the bad direction beyond which a figure regresses: "25%" or "0.25".
    #[arg(long, default_value = "25%", value_parser = parse_threshold)]
    threshold: f64,
    /// Significance level of the one-sided Mann-Whitney test over repetitions.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Where the markdown summary goes (a CI job summary).
    #[arg(long, default_value = "summary.md")]
    summary: PathBuf,
    /// CI history (results/history.jsonl): its latest passing runs join BASE as reference samples.
    #[arg(long)]
    history: Option<PathBuf>,
    /// How many of the latest passing history lines join the reference.
    #[arg(long, default_value_t = 10)]
    window: usize,
    /// Append NEW's figures to the --history file, with whether it passed.
    #[arg(long, requires = "history")]
    append_history: bool,
    /// NEW is a re-run of this first attempt: a regression counts only when the first attempt showed it too.
    #[arg(long)]
    first_attempt: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match judge(&args) {
        Ok(code) => Ok(code),
        Err(Unusable(message)) => {
            eprintln!("rustcorn bench compare: cannot compare: {message}");
            Ok(ExitCode::from(EXIT_UNUSABLE))
        }
    }
}

/// Input that cannot be compared, said in a sentence.
struct Unusable(String);

impl From<CompareError> for Unusable {
    fn from(error: CompareError) -> Unusable {
        Unusable(error.to_string())
    }
}

impl From<anyhow::Error> for Unusable {
    fn from(error: anyhow::Error) -> Unusable {
        Unusable(format!("{error:#}"))
    }
}

fn judge(args: &Args) -> Result<ExitCode, Unusable> {
    let base = read_run("BASE", &args.base)?;
    let new = read_run("NEW", &args.new)?;
    let first_attempt = args.first_attempt.as_deref().map(|path| read_run("first attempt", path)).transpose()?;
    let history_lines = match &args.history {
        Some(path) => history::read(path).map_err(|error| Unusable(error.to_string()))?,
        None => Vec::new(),
    };
    let options = CompareOptions { threshold: args.threshold, alpha: args.alpha, window: args.window };
    let inputs =
        CompareInputs { base: &base, new: &new, history: &history_lines, first_attempt: first_attempt.as_ref() };
    let comparison = compare(inputs, &options)?;

    let markdown = comparison.to_markdown();
    print!("{markdown}");
    write_summary(&args.summary, &markdown)?;
    if let (Some(path), true) = (&args.history, args.append_history) {
        history::append(path, &comparison.history_line(&new)).map_err(|error| Unusable(error.to_string()))?;
    }
    Ok(if comparison.passed() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REGRESSION) })
}

fn read_run(side: &str, path: &Path) -> Result<RunResults, Unusable> {
    RunResults::read(path).map_err(|error| {
        let hint = match error {
            ReadError::Version { .. } if side == "BASE" => " (refresh the baseline with `make baseline`)",
            _ => "",
        };
        Unusable(format!("{side}: {error}{hint}"))
    })
}

fn write_summary(path: &Path, markdown: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, markdown).with_context(|| format!("cannot write the summary {}", path.display()))
}

/// "25%", "25 %" or "0.25" -> 0.25.
fn parse_threshold(text: &str) -> Result<f64, String> {
    let fraction = bench::failures::parse_share(text)
        .ok_or_else(|| format!("{text:?} is not a percentage like 25% or a fraction like 0.25"))?;
    if fraction > 0.0 && fraction < 1.0 {
        Ok(fraction)
    } else {
        Err(format!("{text:?}: the threshold must lie strictly between 0% and 100%"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_as_percentages_or_fractions() {
        assert_eq!(parse_threshold("25%"), Ok(0.25));
        assert_eq!(parse_threshold(" 40 % "), Ok(0.4));
        assert_eq!(parse_threshold("0.3"), Ok(0.3));
        assert!(parse_threshold("100%").is_err());
        assert!(parse_threshold("25 percent").is_err());
        assert!(parse_threshold("-5%").is_err());
    }
}
