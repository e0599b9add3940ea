//! End to end on real servers: `scripts/ci-bench.sh` makes a baseline from a small suite, then checks a run in which
//! the sync target does four times the work per /cpu-intensive request (`--cpu-iterations` x4): the check must fail
//! after its confirming re-run and name that phase.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Two models, a CPU-bound and a memory-bound phase; ci-bench.sh sets repetitions (3 by default).
fn suite(sync_flags: &str) -> String {
    format!(
        r#"name = "inject"

[[targets]]
name = "sync"
serve = "sync --max-threads 8{sync_flags}"

[[targets]]
name = "async-1"
serve = "async --threads 1"

[[phases]]
name = "cpu"
load = "concurrency"
connections = 8
warmup = "200ms"
duration = "500ms"
tasks = [{{ path = "/cpu-intensive" }}]

[[phases]]
name = "memory"
load = "concurrency"
connections = 8
warmup = "200ms"
duration = "500ms"
tasks = [{{ path = "/memory-intensive" }}]
"#
    )
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rustcorn-inject-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn ci_bench(mode: &str, suite: &Path, dir: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ci-bench.sh");
    Command::new("bash")
        .arg(script)
        .arg(mode)
        .env("RUSTCORN", env!("CARGO_BIN_EXE_rustcorn"))
        .env("CI_BENCH_SUITE", suite)
        .env("CI_BENCH_BASELINE", dir.join("baseline.json"))
        .env("CI_BENCH_HISTORY", "none")
        .env("CI_BENCH_OUT", dir.join("out"))
        .env("CI_BENCH_RESULTS", dir.join("results"))
        .output()
        .expect("run scripts/ci-bench.sh")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn heavy_quadrupled_cpu_work_fails_bench_ci_and_names_the_phase() {
    let dir = scratch();
    let base_suite = dir.join("base.toml");
    std::fs::write(&base_suite, suite("")).expect("write suite");
    let baseline = ci_bench("baseline", &base_suite, &dir);
    assert_eq!(baseline.status.code(), Some(0), "baseline: {}", describe(&baseline));
    assert!(dir.join("baseline.json").is_file());

    let regressed_suite = dir.join("regressed.toml");
    std::fs::write(&regressed_suite, suite(" --cpu-iterations 400000")).expect("write suite");
    let check = ci_bench("check", &regressed_suite, &dir);
    assert_eq!(check.status.code(), Some(1), "check: {}", describe(&check));
    assert!(String::from_utf8_lossy(&check.stderr).contains("measuring again"), "{}", describe(&check));

    let summary = std::fs::read_to_string(dir.join("out/summary.md")).expect("summary.md");
    let result_line = summary.lines().find(|line| line.starts_with("**FAIL**")).expect("a FAIL line");
    assert!(result_line.contains("sync / cpu @c8"), "{result_line}\n{summary}");
    let confirmed = summary
        .lines()
        .find(|line| line.starts_with("| sync / cpu @c8 |") && line.contains("**REGRESSION**"))
        .unwrap_or_else(|| panic!("no regression row for sync / cpu:\n{summary}"));
    assert!(confirmed.contains("confirmed by a re-run"), "{confirmed}");
    assert!(summary.contains("First attempt (before the re-run)"), "{summary}");
    std::fs::remove_dir_all(&dir).ok();
}
