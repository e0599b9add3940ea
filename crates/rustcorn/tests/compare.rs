//! `rustcorn bench compare` on fixture files (crates/bench/tests/fixtures/compare, made by make_fixtures.py):
//! exit status, the table on stdout and in the summary file, phases named, history appended.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/tests/fixtures/compare").join(format!("{name}.json"))
}

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rustcorn-compare-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn compare(base: &Path, new: &Path, extra: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(["bench", "compare"])
        .arg(base)
        .arg(new)
        .arg("--summary")
        .arg(dir.join("summary.md"))
        .args(extra)
        .output()
        .expect("run rustcorn bench compare")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn equal_runs_exit_0_and_write_the_summary() {
    let dir = scratch("equal");
    let output = compare(&fixture("base"), &fixture("equal"), &[], &dir);
    assert_eq!(output.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&output), stderr(&output));
    let table = stdout(&output);
    assert!(table.contains("**PASS**"), "{table}");
    assert!(table.contains("| phase | metric | base | new | change | verdict |"), "{table}");
    assert!(table.contains("normalised by the CPU-loop calibration"), "the verdict names the figures used:\n{table}");
    let summary = std::fs::read_to_string(dir.join("summary.md")).expect("summary.md written");
    assert_eq!(summary, table);
}

#[test]
fn a_twice_slower_phase_exits_1_and_is_named() {
    let dir = scratch("slower");
    let output = compare(&fixture("base"), &fixture("slower"), &[], &dir);
    assert_eq!(output.status.code(), Some(1), "stdout:\n{}\nstderr:\n{}", stdout(&output), stderr(&output));
    let table = stdout(&output);
    let result_line = table.lines().find(|line| line.starts_with("**FAIL**")).expect("a FAIL line");
    assert!(result_line.contains("1 regression(s): sync / cpu @c10"), "{result_line}");
    let regressions: Vec<&str> = table.lines().filter(|line| line.contains("**REGRESSION**")).collect();
    assert_eq!(regressions.len(), 1, "{table}");
    assert!(
        regressions[0].starts_with("| sync / cpu @c10 | req per CPU-second, normalised (CPU loop) |"),
        "{}",
        regressions[0]
    );
    assert!(regressions[0].contains("-49."), "a ~50% drop is shown: {}", regressions[0]);
}

#[test]
fn a_missing_phase_is_reported_and_does_not_fail() {
    let dir = scratch("missing");
    let output = compare(&fixture("base"), &fixture("missing"), &[], &dir);
    assert_eq!(output.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&output), stderr(&output));
    let table = stdout(&output);
    let row = table.lines().find(|line| line.starts_with("| async / health @c10 | phase |")).expect("a row for it");
    assert!(row.contains("missing in NEW"), "{row}");
}

#[test]
fn another_schema_version_exits_2_with_a_clear_message() {
    let dir = scratch("schema");
    let output = compare(&fixture("base"), &fixture("bad-schema"), &[], &dir);
    assert_eq!(output.status.code(), Some(2), "stdout:\n{}\nstderr:\n{}", stdout(&output), stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("cannot compare: NEW:"), "{message}");
    assert!(message.contains("has schema version 99; this rustcorn reads version 1"), "{message}");
    assert!(stdout(&output).is_empty(), "no table for unusable input");
    assert!(!dir.join("summary.md").exists(), "no summary for unusable input");
}

#[test]
fn unreadable_and_unrelated_input_exits_2() {
    let dir = scratch("unusable");
    let not_json = dir.join("not-results.json");
    std::fs::write(&not_json, "{\"hello\": 1}").expect("write");
    let output = compare(&fixture("base"), &not_json, &[], &dir);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("schema version 0"), "{}", stderr(&output));

    let output = compare(&fixture("base"), &dir.join("absent.json"), &[], &dir);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot read"), "{}", stderr(&output));

    let output = compare(&fixture("base"), &fixture("equal"), &["--threshold", "150%"], &dir);
    assert_eq!(output.status.code(), Some(2), "clap refuses a bad threshold: {}", stderr(&output));
}

#[test]
fn nothing_in_common_exits_2_and_lists_both_sides() {
    let dir = scratch("disjoint");
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("equal")).expect("fixture")).expect("json");
    for target in other["targets"].as_array_mut().expect("targets") {
        let renamed = format!("renamed-{}", target["name"].as_str().expect("name"));
        target["name"] = serde_json::json!(renamed);
    }
    let renamed = dir.join("renamed.json");
    std::fs::write(&renamed, other.to_string()).expect("write");
    let output = compare(&fixture("base"), &renamed, &[], &dir);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains("nothing to compare") && message.contains("share no phase"), "{message}");
    assert!(message.contains("renamed-sync/cpu@c10") && message.contains("BASE measured: sync/cpu@c10"), "{message}");
}

#[test]
fn append_history_writes_one_line_with_the_run_figures() {
    let dir = scratch("history");
    let history = dir.join("history.jsonl");
    let history_arg = history.to_str().expect("utf-8 path");
    for _ in 0..2 {
        let output =
            compare(&fixture("base"), &fixture("equal"), &["--history", history_arg, "--append-history"], &dir);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let output = compare(&fixture("base"), &fixture("slower"), &["--history", history_arg, "--append-history"], &dir);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("n=3 + 2 history"),
        "the passing lines joined the reference:\n{}",
        stdout(&output)
    );

    let text = std::fs::read_to_string(&history).expect("history written");
    let lines: Vec<serde_json::Value> =
        text.lines().map(|line| serde_json::from_str(line).expect("JSON line")).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["commit"], "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_eq!(lines[0]["date"], "2026-01-01T00:00:00Z");
    assert_eq!(lines[0]["passed"], true);
    assert_eq!(lines[2]["passed"], false);
    let figures = lines[0]["figures"].as_object().expect("figures");
    assert!(figures["eff:sync/cpu@c10"].as_f64().expect("a number") > 0.0);
    assert!(figures.contains_key("ratio:async_vs_sync/health@c10"), "{figures:?}");
    assert!(figures.contains_key("cal:cpu_loop_per_cpu_s"), "{figures:?}");
}

#[test]
fn a_regression_the_first_attempt_did_not_show_is_not_confirmed() {
    let dir = scratch("confirm");
    let first = fixture("equal");
    let first_arg = first.to_str().expect("utf-8 path");
    let output = compare(&fixture("base"), &fixture("slower"), &["--first-attempt", first_arg], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("not confirmed"), "{}", stdout(&output));

    let slower = fixture("slower");
    let slower_arg = slower.to_str().expect("utf-8 path");
    let output = compare(&fixture("base"), &fixture("slower"), &["--first-attempt", slower_arg], &dir);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("confirmed by a re-run"), "{}", stdout(&output));
}
