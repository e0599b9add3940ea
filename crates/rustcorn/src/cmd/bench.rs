//! `rustcorn bench`: dispatches to its subcommands, each in its own module: `run` a suite into results/<run-id>/
//! (bench_run), `servers`, `report`, `compare`, `baseline`, and for load from several machines `merge`, `k8s-job`
//! and `collect`.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Run a suite (TOML, see bench-suite/README.md): every target x phase, results in results/<run-id>/.
    Run(super::bench_run::RunArgs),
    /// Render report.html, summary.md and findings.json from a results.json.
    Report(super::report::Args),
    /// Compare a run with a baseline: markdown table, exit 1 on a regression, 2 on unusable input.
    Compare(super::bench_compare::Args),
    /// Make a run the CI baseline (results/baseline.json): refused for partial, failed or uncalibrated runs.
    Baseline(super::bench_baseline::Args),
    /// Merge what several load agents measured at the same time: .hlog interval logs or .json load reports.
    Merge(super::bench_merge::Args),
    /// Print a Kubernetes Indexed Job that runs N load agents starting together: AGENTS IMAGE TARGET [LOAD FLAGS].
    #[command(name = "k8s-job")]
    K8sJob(super::bench_k8s::Args),
    /// Read load agents' reports back from `kubectl logs` files or a directory and merge them exactly.
    Collect(super::bench_collect::Args),
    /// Compare your own servers, hyperfine-style: `bench servers 'uvicorn app:app --port {port}' 'gunicorn -w 4
    /// ... -b 127.0.0.1:{port}' --path /cpu-intensive -c 32 -z 10s`; same results, table and report as `run`.
    Servers(Box<super::bench_servers::Args>),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Run(args) => super::bench_run::run_suite(args),
        Action::Report(args) => super::report::run(args),
        Action::Compare(args) => super::bench_compare::run(args),
        Action::Baseline(args) => super::bench_baseline::run(args),
        Action::Merge(args) => super::bench_merge::run(args),
        Action::K8sJob(args) => super::bench_k8s::run(args),
        Action::Collect(args) => super::bench_collect::run(args),
        Action::Servers(args) => super::bench_servers::run(*args),
    }
}
