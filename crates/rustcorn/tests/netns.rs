//! scripts/netns-agents.sh 3: three agents, each in its own network namespace, load one server in another, started
//! by one --start-at and merged. Checks the three promises of load from several machines: the merged count is the
//! server's own count, the merged percentiles are those of one histogram fed every agent's samples, and the agents
//! started within 5 ms of each other. Skips (saying why) where namespaces cannot be made; under CI=true, where
//! they can (root on this machine), a skip is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use loadgen::output::hlog;
use loadgen::{LoadReport, REPORTED_PERCENTILES};

const AGENTS: usize = 3;
/// The script's exit code when namespaces cannot be made (automake's SKIP).
const EXIT_SKIP: i32 = 77;
/// How close together the agents' first requests must leave.
const START_SPREAD_US: u64 = 5_000;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_report(path: &Path) -> LoadReport {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("{} is not a report: {error}", path.display()))
}

/// The number on the script's line starting with `prefix`.
fn figure(stdout: &str, prefix: &str) -> u64 {
    let line = stdout.lines().find_map(|line| line.strip_prefix(prefix)).unwrap_or_else(|| panic!("no {prefix:?}"));
    line.split_whitespace().next().and_then(|number| number.parse().ok()).expect("a count")
}

#[test]
fn heavy_netns_agents_merge_to_the_servers_count() {
    let out = std::env::temp_dir().join(format!("rustcorn-netns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new("bash")
        .arg(repo_root().join("scripts/netns-agents.sh"))
        .arg(AGENTS.to_string())
        .env("RUSTCORN", env!("CARGO_BIN_EXE_rustcorn"))
        .env("OUT", &out)
        .env("REQUESTS", "1000")
        .output()
        .expect("run scripts/netns-agents.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(EXIT_SKIP) {
        let reason = stdout.trim();
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "namespaces work on the CI machine (root), yet: {reason}"
        );
        eprintln!("SKIPPED heavy_netns_agents_merge_to_the_servers_count: {reason}");
        return;
    }
    assert!(output.status.success(), "netns-agents.sh failed ({}):\n{stdout}\n{stderr}", output.status);

    // 1. The merged count is the server's own.
    let merged_count = figure(&stdout, "Merged count:");
    let served = figure(&stdout, "Server's count:");
    let merged = read_report(&out.join("merged.json"));
    assert_eq!(merged.aggregated.count, merged_count);
    assert!(merged_count > 0);
    assert_eq!(merged_count + merged.warmup_requests, served, "{stdout}");

    // 2. The merged percentiles are those of one histogram fed every agent's samples (read from the agents' own
    //    per-second .hlog intervals, a path apart from the reports' aggregated histograms that the merge added).
    let agents: Vec<LoadReport> =
        (1..=AGENTS).map(|i| read_report(&out.join(format!("agents/agent-{i}.json")))).collect();
    let mut one = loadgen::histogram::new_histogram();
    for i in 1..=AGENTS {
        let log = std::fs::read(out.join(format!("agents/agent-{i}.hlog"))).expect("agent's hlog");
        for interval in hlog::read(&log).expect("the agent's log parses") {
            one.add(&interval.histogram).expect("add");
        }
    }
    let latency = &merged.aggregated.latency;
    assert_eq!(one.len(), latency.samples);
    assert_eq!(latency.min_us, agents.iter().map(|a| a.aggregated.latency.min_us).min().unwrap_or(0));
    assert_eq!(latency.max_us, agents.iter().map(|a| a.aggregated.latency.max_us).max().unwrap_or(0));
    for (percentile, reported) in REPORTED_PERCENTILES.iter().zip(&latency.percentiles) {
        // Every report clamps a histogram's percentile into the exact [min, max] it also keeps.
        let expected = one.value_at_percentile(*percentile).clamp(latency.min_us, latency.max_us);
        assert_eq!(reported.latency_us, expected, "p{percentile}");
    }

    // 3. The agents started together: one window start, and first requests within 5 ms.
    let windows: Vec<u64> = merged.agents.iter().map(|agent| agent.window_start_unix_us).collect();
    let firsts: Vec<u64> = merged.agents.iter().filter_map(|agent| agent.first_request_unix_us).collect();
    assert_eq!(firsts.len(), AGENTS, "every agent sent requests");
    let spread = |values: &[u64]| values.iter().max().unwrap_or(&0) - values.iter().min().unwrap_or(&0);
    assert!(spread(&windows) <= START_SPREAD_US, "window starts {windows:?}");
    assert!(spread(&firsts) <= START_SPREAD_US, "first requests {firsts:?} are {} µs apart", spread(&firsts));
    assert!(stdout.contains(&format!("Agents: {AGENTS} on 1 host")), "{stdout}");
    let _ = std::fs::remove_dir_all(&out);
}
