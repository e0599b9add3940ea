//! The `rustcorn` binary: parses arguments and dispatches to the library crates. No work happens here.

mod cmd;
mod logging;
mod ranges;
mod signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Gunicorn or Uvicorn, processes or an event loop? rustcorn serves the same endpoints from each server model,
/// loads them, and reports which model wins for which work.
#[derive(Debug, Parser)]
#[command(name = "rustcorn", version, about, propagate_version = true)]
struct Cli {
    /// Log filter for stderr (error, warn, info, debug, trace, or a tracing directive).
    #[arg(long, global = true, default_value = "info", env = "RUSTCORN_LOG")]
    log_level: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one of the server models.
    Serve(cmd::serve::Args),
    /// Run the local stand-in for google.com that /sync-google and /async-google call.
    Upstream(cmd::upstream::Args),
    /// Load a URL like wrk/oha (-c), wrk2 (--rate) or Locust (--users) and report HDR latency percentiles.
    Load(Box<cmd::load::Args>),
    /// Run benchmark suites against every server model and keep the results; compare runs.
    Bench(cmd::bench::Args),
}

/// Exit status of a usage error, clap's own.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // One line for a bad flag value (clap adds usage and a pointer to --help); --help and --version print as is.
        Err(error) if error.use_stderr() => {
            let rendered = error.render().to_string();
            logging::print_stderr(format_args!("rustcorn: error: {} (see --help)", ranges::first_line(&rendered)));
            return ExitCode::from(EXIT_USAGE);
        }
        Err(error) => error.exit(),
    };
    logging::init(&cli.log_level);
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            logging::print_stderr(format_args!("rustcorn: error: {error:#}"));
            ExitCode::from(1)
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => cmd::serve::run(args),
        Command::Upstream(args) => cmd::upstream::run(args),
        Command::Load(args) => cmd::load::run(*args),
        Command::Bench(args) => cmd::bench::run(args),
    }
}
