//! `rustcorn bench k8s-job`: prints the Kubernetes Indexed Job that runs N `rustcorn load` agents together
//! (crates/bench's `k8s` writes it). The load flags after the Job's own are checked here exactly as `rustcorn load`
//! would parse them, so a typo fails now rather than in N pods.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use bench::k8s::{self, JobOutput, JobSpec};
use clap::Parser;
use loadgen::agent;

use super::load;

/// Flags the Job sets in every pod itself; passing them as load flags would contradict it.
const MANAGED_FLAGS: [&str; 8] =
    ["--start-at", "--agent-id", "--frames", "--out-dir", "--json", "--hlog", "--csv", "--allow-remote"];

/// Time added to the Job's deadline beyond start wait, warm-up and run: the last requests, the reports, slow nodes.
const DEADLINE_MARGIN: Duration = Duration::from_secs(300);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Load agents: the Job's completions and parallelism, one pod each.
    #[arg(long, value_name = "N")]
    agents: u32,
    /// The container image holding rustcorn (see the Dockerfile).
    #[arg(long)]
    image: String,
    /// The URL every agent loads (as seen from inside the cluster).
    #[arg(long, value_name = "URL")]
    target: String,
    /// The Job's name (pods are NAME-INDEX-xxxxx).
    #[arg(long, default_value = "rustcorn-load")]
    name: String,
    /// The namespace to create the Job in (default: kubectl's current one).
    #[arg(long)]
    namespace: Option<String>,
    /// When the agents start, RFC 3339 or Unix milliseconds (default: now plus --start-in).
    #[arg(long, value_name = "TIME", value_parser = agent::parse_start_at, conflicts_with = "start_in")]
    start_at: Option<SystemTime>,
    /// How far ahead of now the agents start: time to apply the manifest, schedule pods and pull the image.
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = humantime::parse_duration)]
    start_in: Duration,
    /// Write the reports to this PersistentVolumeClaim (ReadWriteMany) instead of the pods' logs.
    #[arg(long, value_name = "CLAIM")]
    volume_claim: Option<String>,
    /// CPU of each agent (request = limit).
    #[arg(long, default_value = "1")]
    cpu: String,
    /// Memory of each agent (request = limit).
    #[arg(long, default_value = "256Mi")]
    memory: String,
    /// `rustcorn load` flags for every agent (e.g. -c 50 -z 60s), after the flags above.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "LOAD FLAGS")]
    load_flags: Vec<String>,
}

/// `rustcorn load`'s own parser, to check the flags the pods will get.
#[derive(Debug, Parser)]
#[command(name = "rustcorn load", no_binary_name = true)]
struct LoadCommand {
    #[command(flatten)]
    args: load::Args,
}

/// Exit code for flags that cannot make a Job (as for `rustcorn load`).
const EXIT_BAD_INPUT: u8 = 2;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match manifest(args) {
        Ok(manifest) => {
            print!("{manifest}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("rustcorn bench k8s-job: error: {error:#}");
            Ok(ExitCode::from(EXIT_BAD_INPUT))
        }
    }
}

fn manifest(args: Args) -> anyhow::Result<String> {
    let deadline_after_start = check_load_flags(&args.target, &args.load_flags)?;
    let start_at = args.start_at.unwrap_or_else(|| SystemTime::now() + args.start_in);
    let until_start = start_at.duration_since(SystemTime::now()).context("--start-at is already past")?;
    let spec = JobSpec {
        name: args.name,
        namespace: args.namespace,
        agents: args.agents,
        image: args.image,
        target: args.target,
        load_flags: args.load_flags,
        start_at,
        output: args.volume_claim.map_or(JobOutput::Logs, |claim| JobOutput::Volume { claim }),
        cpu: args.cpu,
        memory: args.memory,
        active_deadline: deadline_after_start.map(|run| until_start + run + DEADLINE_MARGIN),
    };
    Ok(k8s::manifest(&spec)?)
}

/// Parses the load flags as `rustcorn load` will, refuses the ones the Job manages, and returns warm-up plus
/// duration when the run has a duration.
fn check_load_flags(target: &str, flags: &[String]) -> anyhow::Result<Option<Duration>> {
    let parsed = url::Url::parse(target).with_context(|| format!("--target {target:?} is not a URL"))?;
    if parsed.scheme() != "http" || parsed.host_str().is_none() {
        bail!("--target {target:?}: an http:// URL with a host is needed");
    }
    for flag in flags {
        if let Some(managed) = MANAGED_FLAGS.iter().find(|m| flag == *m || flag.starts_with(&format!("{m}="))) {
            bail!("load flag {managed}: k8s-job sets it in every pod itself");
        }
    }
    // The target's host is a cluster name that need not resolve here: the flags are checked against loopback.
    let argv = std::iter::once("http://127.0.0.1/").chain(flags.iter().map(String::as_str));
    let command = LoadCommand::try_parse_from(argv).map_err(|error| anyhow::anyhow!("load flags: {error}"))?;
    let plan = load::plan_from(&command.args).map_err(|error| anyhow::anyhow!("load flags: {error}"))?;
    plan.validate().map_err(|error| anyhow::anyhow!("load flags: {error}"))?;
    Ok(plan.stop.duration.map(|duration| duration + plan.warmup))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn load_flags_are_checked_like_rustcorn_load_checks_them() {
        let target = "http://web.bench.svc.cluster.local:8000/health";
        assert_eq!(
            check_load_flags(target, &flags("-c 50 -z 60s --warmup 5s")).unwrap(),
            Some(Duration::from_secs(65))
        );
        assert_eq!(check_load_flags(target, &flags("-n 1000")).unwrap(), None);
        for (bad, expected) in [
            ("-c x", "load flags"),
            ("--bogus", "load flags"),
            ("--rate 0 -z 1s", "--rate"),
            ("--start-at 1", "--start-at"),
            ("--json", "--json"),
            ("--out-dir=/x", "--out-dir"),
        ] {
            let error = check_load_flags(target, &flags(bad)).unwrap_err().to_string();
            assert!(error.contains(expected), "{bad:?} gave {error}");
        }
        assert!(check_load_flags("https://x/", &[]).is_err());
        assert!(check_load_flags("web:8000", &[]).is_err());
    }
}
