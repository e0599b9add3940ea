//! `rustcorn bench run` tells failure from success: a phase whose requests fail beyond `--max-failures` makes the
//! run exit 1 and is named in the table, summary.md and the verdict, whose req/s agree (successful responses);
//! a `serve` flag `rustcorn serve` would refuse is a located suite error before anything starts.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::Process;

fn workdir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rustcorn-bench-failures-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    dir
}

fn run_suite(dir: &Path, suite: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let path = dir.join("suite.toml");
    std::fs::write(&path, suite).expect("write the suite");
    let results = dir.join("results");
    let mut args = vec!["bench", "run", path.to_str().unwrap(), "--results-dir", results.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut run = Process::spawn(&args);
    let status = run.wait_exit(Duration::from_secs(120)).expect("the run ends");
    let mut stdout = String::new();
    while let Some(line) = run.next_line(Duration::from_millis(200)) {
        stdout.push_str(&line);
        stdout.push('\n');
    }
    // The stderr copy can lag the exit by a moment.
    std::thread::sleep(Duration::from_millis(200));
    (status.code(), stdout, run.stderr())
}

/// Every request of the phase answers 404.
const ALL_404: &str = r#"
name = "all-404"

[[targets]]
name = "sync"
serve = "sync --max-threads 4"

[[phases]]
name = "missing"
load = "concurrency"
connections = 2
duration = "1s"
tasks = [{ path = "/no-such-endpoint" }]
"#;

#[test]
fn bench_run_fails_beyond_the_failure_threshold_and_every_output_says_so() {
    let dir = workdir("404");
    let (code, stdout, stderr) = run_suite(&dir, ALL_404, &[]);
    assert_eq!(code, Some(1), "every request failed, the run must fail:\n{stdout}\n{stderr}");
    assert!(stderr.contains("failed beyond --max-failures 5%"), "{stderr}");
    let row = stdout.lines().find(|line| line.starts_with("sync ")).unwrap_or_else(|| panic!("no row:\n{stdout}"));
    // The cells after the load description: req/s, p50, p99, failed, ...
    let figures: Vec<&str> = row.split("closed loop").nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(figures.first(), Some(&"0.0"), "req/s counts successful responses only: {row}");
    assert!(stdout.contains("FAILED REQUESTS sync / missing: "), "{stdout}");
    let summary = std::fs::read_to_string(dir.join("results/latest/summary.md")).expect("summary.md");
    assert!(summary.contains("FAILED beyond the run's 5% limit"), "the verdict says so:\n{summary}");
    assert!(summary.contains("Only sync has data: 0 req/s"), "summary.md and the table agree:\n{summary}");
    assert!(!summary.contains("article's claims"), "no target has a role in the claims:\n{summary}");

    // The same run allowed every failure passes: the threshold is the user's.
    let allowed = workdir("404-allowed");
    let (code, stdout, stderr) = run_suite(&allowed, ALL_404, &["--max-failures", "100%"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("FAILED REQUESTS"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&allowed);
}

#[test]
fn bench_bad_serve_flag_is_a_located_suite_error_before_anything_starts() {
    let dir = workdir("bad-flag");
    let suite = ALL_404.replace("sync --max-threads 4", "sync --max-threads 0");
    let (code, stdout, stderr) = run_suite(&dir, &suite, &[]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("suite.toml:6:") && stderr.contains("field `serve`"), "{stderr}");
    assert!(stderr.contains("--max-threads") && stderr.contains("\"sync\""), "{stderr}");
    assert!(!dir.join("results").exists(), "nothing is written for a bad suite");
    let unknown = ALL_404.replace("sync --max-threads 4", "sync --max-thread 4");
    let (code, _, stderr) = run_suite(&dir, &unknown, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--max-thread"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
