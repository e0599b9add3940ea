//! `rustcorn bench report` end to end: the real binary renders the report crate's committed fixture, writes
//! report.html and summary.md, refuses bad input with a clear error, and the page passes a headless-browser check
//! (scripts/browser-check.sh: Chromium from Debian's packages, skipped with a message where it cannot be installed).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> PathBuf {
    workspace_root().join("crates/analysis/tests/fixtures/small.json")
}

/// A fresh folder under target/ for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

fn rustcorn(args: &[&Path]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rustcorn"));
    command.args(["bench", "report"]);
    command.args(args);
    command.output().expect("run rustcorn")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bench_report_writes_html_and_summary_next_to_the_results() {
    let dir = scratch("default");
    let results = dir.join("results.json");
    std::fs::copy(fixture(), &results).expect("copy fixture");
    let output = rustcorn(&[&results]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html written");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"), "a page with charts");
    let summary = std::fs::read_to_string(dir.join("summary.md")).expect("summary.md written");
    assert!(summary.contains("## Verdict") && summary.contains("prefork-w2 serves the most"), "{summary}");
    assert!(text(&output.stdout).contains("report.html"), "it says where the report is");
}

#[test]
fn bench_report_output_flag_picks_the_file_and_its_folder() {
    let dir = scratch("output");
    let page = dir.join("nested/folder/custom.html");
    let output = rustcorn(&[&fixture(), Path::new("-o"), &page]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(page.is_file(), "custom.html written");
    assert!(dir.join("nested/folder/summary.md").is_file(), "summary.md beside it");
}

#[test]
fn bench_report_uses_the_history_file_in_the_results_parent_folder() {
    let dir = scratch("history");
    let run = dir.join("20260101T000000Z");
    std::fs::create_dir_all(&run).expect("run folder");
    std::fs::copy(fixture(), run.join("results.json")).expect("copy fixture");
    let line = r#"{"commit": "abc", "date": "2026-01-01", "figures": {"eff:prefork-w2/cpu-c8@c8": 2.0}}"#;
    std::fs::write(dir.join("history.jsonl"), format!("{line}\n{line}\n")).expect("history");
    let output = rustcorn(&[&run.join("results.json")]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(html.contains("id=\"chart-trend\""), "the trend chart is drawn from ../history.jsonl");
}

#[test]
fn bench_report_on_a_missing_file_fails_clearly() {
    let missing = scratch("missing").join("nope.json");
    let output = rustcorn(&[&missing]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot read") && stderr.contains("nope.json"), "{stderr}");
}

#[test]
fn bench_report_on_a_file_that_is_not_results_fails_clearly() {
    let dir = scratch("garbage");
    let bad = dir.join("results.json");
    std::fs::write(&bad, "{\"schema_version\": 1, \"run_id\": 7}").expect("write");
    let output = rustcorn(&[&bad]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("is not a rustcorn results file"), "{stderr}");
    assert!(!dir.join("report.html").exists(), "nothing half-written");
}

/// Renders the fixture, then loads the page in headless Chromium: screenshots of the first screen at 1280x800 and
/// 390x844 (kept in target/report-check/), the answer and claims tables within the first screen, the page at most
/// 8,000 px tall with every <details> closed, every figure in the PDF print, no console message, no request.
/// Prints a SKIP line and passes only where Chromium or pdftotext cannot be installed, and never under CI=true (the
/// script fails there). "heavy" in the name puts it in the one-at-a-time group: Chromium (and its first install)
/// takes both cores for a while.
#[test]
fn heavy_report_page_passes_the_headless_browser_check() {
    let check_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../report-check");
    std::fs::create_dir_all(&check_dir).expect("target/report-check");
    let page = check_dir.join("report.html");
    let output = rustcorn(&[&fixture(), Path::new("-o"), &page]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));

    let script = workspace_root().join("scripts/browser-check.sh");
    let output = Command::new("bash").arg(&script).arg(&page).arg(&check_dir).output().expect("run browser-check.sh");
    let stdout = text(&output.stdout);
    match output.status.code() {
        Some(0) => {
            for shot in ["desktop-top.png", "phone-top.png", "desktop-long.png", "phone.png", "print.pdf"] {
                assert!(check_dir.join(shot).is_file(), "{shot} kept as a test artifact");
            }
            println!("{stdout}");
        }
        Some(77) => support::skip("headless browser check", &stdout),
        _ => panic!("browser check failed:\n{stdout}\n{}", text(&output.stderr)),
    }
}
