//! Unit tests of `compare` on results built in memory; the CLI is tested on fixture files in crates/rustcorn/tests.

use super::*;
use crate::results::{LoadModel, TargetStatus};
use crate::testing::{calibration, failing_phase, phase, run_with, target};

/// sync and async on /cpu-intensive and /health, three repetitions each, at the given speeds.
fn two_models(sync_cpu: f64, async_cpu: f64, health: f64, cal: Option<Calibration>) -> RunResults {
    let jitter = [1.0, 1.02, 0.98];
    let phases = |cpu: f64| {
        let mut phases = Vec::new();
        for (repetition, factor) in jitter.iter().enumerate() {
            phases.push(phase("cpu", "/cpu-intensive", repetition as u32, cpu * factor));
            phases.push(phase("health", "/health", repetition as u32, health * factor));
        }
        phases
    };
    run_with(vec![target("sync", phases(sync_cpu)), target("async", phases(async_cpu))], cal)
}

use crate::calibration::Calibration;

fn inputs<'a>(base: &'a RunResults, new: &'a RunResults) -> CompareInputs<'a> {
    CompareInputs { base, new, history: &[], first_attempt: None }
}

fn row<'a>(comparison: &'a Comparison, phase: &str, metric_starts: &str) -> &'a Row {
    comparison
        .rows
        .iter()
        .find(|row| row.phase == phase && row.metric.starts_with(metric_starts))
        .unwrap_or_else(|| panic!("no row {phase} / {metric_starts}: {:#?}", comparison.rows))
}

#[test]
fn equal_runs_pass_with_every_gated_figure_ok() {
    let run = two_models(1000.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let comparison = compare(inputs(&run, &run), &CompareOptions::default()).expect("compare");
    assert!(comparison.passed(), "{}", comparison.to_markdown());
    for row in &comparison.rows {
        assert!(matches!(row.verdict, Judgement::Ok | Judgement::Info), "{row:?}");
    }
    assert!(comparison.to_markdown().contains("**PASS**"));
}

#[test]
fn a_twice_slower_phase_fails_and_is_named() {
    let base = two_models(1000.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let new = two_models(500.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    assert!(!comparison.passed());
    let failing: Vec<&str> = comparison.failing_rows().map(|row| row.phase.as_str()).collect();
    assert_eq!(failing, vec!["sync / cpu @c10"], "{}", comparison.to_markdown());
    let normalised = row(&comparison, "sync / cpu @c10", "req per CPU-second, normalised (CPU loop)");
    assert_eq!(normalised.change, "-50.0%");
    assert!(normalised.verdict_text.contains("Mann-Whitney p=0.050"), "{}", normalised.verdict_text);
    // async did not change; its ratio to sync doubled, shown but not gated while calibrations exist.
    assert_eq!(row(&comparison, "async / cpu @c10", "req per CPU-second, ratio to sync").verdict, Judgement::Info);
    assert!(comparison.to_markdown().contains("**FAIL**: 1 regression(s): sync / cpu @c10"));
}

#[test]
fn a_slower_machine_is_not_a_regression_once_normalised() {
    let base = two_models(1000.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let new = two_models(500.0, 500.0, 10_000.0, Some(calibration(0.5, 0.5)));
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    assert!(comparison.passed(), "{}", comparison.to_markdown());
    assert_eq!(row(&comparison, "sync / cpu @c10", "req/s, raw").verdict, Judgement::Info);
}

#[test]
fn a_uniform_slowdown_on_the_same_machine_is_caught_by_the_normalised_figures() {
    let base = two_models(1000.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let new = two_models(400.0, 400.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    let failing: Vec<&str> = comparison.failing_rows().map(|row| row.phase.as_str()).collect();
    assert_eq!(failing, vec!["sync / cpu @c10", "async / cpu @c10"]);
}

#[test]
fn a_missing_phase_is_reported_but_does_not_fail() {
    let base = two_models(1000.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let mut new = base.clone();
    new.targets[1].phases.retain(|phase| phase.name != "health");
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    assert!(comparison.passed());
    let missing = row(&comparison, "async / health @c10", "phase");
    assert_eq!(missing.verdict, Judgement::Missing);
    assert!(missing.verdict_text.contains("missing in NEW"));
}

#[test]
fn a_failed_target_fails_the_comparison() {
    let base = two_models(1000.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let mut new = base.clone();
    new.targets[1].phases.clear();
    new.targets[1].status = TargetStatus::Failed { reason: "not ready within 10s".into(), stderr_tail: vec![] };
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    assert!(!comparison.passed());
    let failed = row(&comparison, "async / cpu @c10", "phase");
    assert_eq!(failed.verdict, Judgement::TargetFailed);
    assert!(failed.verdict_text.contains("not ready within 10s"));
}

#[test]
fn without_calibration_ratios_decide_and_the_notes_say_so() {
    let base = two_models(1000.0, 1000.0, 20_000.0, None);
    let new = two_models(1000.0, 400.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    assert!(
        comparison.notes.iter().any(|note| note.contains("BASE has no usable calibration")),
        "{:?}",
        comparison.notes
    );
    assert!(!comparison.rows.iter().any(|row| row.metric.contains("normalised")));
    assert!(comparison.rows.iter().any(|row| row.metric.starts_with("req/s, raw")));
    let failing: Vec<&str> = comparison.failing_rows().map(|row| row.metric.as_str()).collect();
    assert_eq!(failing, vec!["req per CPU-second, ratio to sync"]);
}

#[test]
fn one_target_without_calibration_is_nothing_to_compare() {
    let run = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 1.0)])], None);
    let error = compare(inputs(&run, &run), &CompareOptions::default()).expect_err("nothing to compare");
    assert!(matches!(&error, CompareError::NothingToCompare(reason) if reason.contains("ratios need two")), "{error}");
}

#[test]
fn disjoint_runs_are_nothing_to_compare_and_both_sides_are_listed() {
    let base =
        run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 1.0)])], Some(calibration(1.0, 1.0)));
    let new =
        run_with(vec![target("async", vec![phase("cpu", "/cpu-intensive", 0, 1.0)])], Some(calibration(1.0, 1.0)));
    let error = compare(inputs(&base, &new), &CompareOptions::default()).expect_err("nothing shared");
    let text = error.to_string();
    assert!(
        text.contains("share no phase") && text.contains("sync/cpu@c10") && text.contains("async/cpu@c10"),
        "{text}"
    );
}

#[test]
fn overlapping_repetitions_are_within_the_noise() {
    let cal = Some(calibration(1.0, 1.0));
    let reps = |values: &[f64]| {
        let phases = values.iter().enumerate().map(|(i, v)| phase("cpu", "/cpu-intensive", i as u32, *v)).collect();
        run_with(vec![target("sync", phases)], cal.clone())
    };
    let base = reps(&[1000.0, 1000.0, 600.0]);
    let new = reps(&[700.0, 650.0, 1100.0]);
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    let normalised = row(&comparison, "sync / cpu @c10", "req per CPU-second, normalised");
    assert_eq!(normalised.verdict, Judgement::WithinNoise, "{normalised:?}");
    assert!(comparison.passed());
}

#[test]
fn single_repetitions_fall_back_to_the_threshold_and_say_so() {
    let cal = Some(calibration(1.0, 1.0));
    let base = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 1000.0)])], cal.clone());
    let new = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 700.0)])], cal);
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    let normalised = row(&comparison, "sync / cpu @c10", "req per CPU-second, normalised");
    assert_eq!(normalised.verdict, Judgement::Regression);
    assert!(normalised.verdict_text.contains("too few repetitions for a test"), "{}", normalised.verdict_text);
}

#[test]
fn history_joins_the_reference() {
    let cal = Some(calibration(1.0, 1.0));
    let base = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 1000.0)])], cal.clone());
    let new = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 700.0)])], cal);
    // History says this machine runs at ~700 lately: the new run is no regression against that.
    let history: Vec<HistoryLine> = (0..5)
        .map(|i| HistoryLine {
            commit: format!("c{i}"),
            date: "2026-01-01T00:00:00Z".into(),
            figures: BTreeMap::from([("eff:sync/cpu@c10".to_owned(), 690.0 * 2.0 + f64::from(i) * 5.0)]),
            passed: Some(true),
        })
        .collect();
    let comparison = compare(
        CompareInputs { base: &base, new: &new, history: &history, first_attempt: None },
        &CompareOptions::default(),
    )
    .expect("compare");
    let normalised = row(&comparison, "sync / cpu @c10", "req per CPU-second, normalised");
    assert_eq!(normalised.verdict, Judgement::Ok, "{normalised:?}");
    assert!(normalised.base.contains("n=1 + 5 history"), "{}", normalised.base);
}

#[test]
fn a_regression_must_show_in_the_first_attempt_too() {
    let base = two_models(1000.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let slow = two_models(500.0, 1000.0, 20_000.0, Some(calibration(1.0, 1.0)));
    let first_fine = CompareInputs { base: &base, new: &slow, history: &[], first_attempt: Some(&base) };
    let comparison = compare(first_fine, &CompareOptions::default()).expect("compare");
    assert!(comparison.passed());
    assert_eq!(row(&comparison, "sync / cpu @c10", "req per CPU-second, normalised").verdict, Judgement::NotConfirmed);

    let first_slow = CompareInputs { base: &base, new: &slow, history: &[], first_attempt: Some(&slow) };
    let comparison = compare(first_slow, &CompareOptions::default()).expect("compare");
    let normalised = row(&comparison, "sync / cpu @c10", "req per CPU-second, normalised");
    assert_eq!(normalised.verdict, Judgement::Regression);
    assert!(normalised.verdict_text.contains("confirmed by a re-run"));
}

#[test]
fn failed_requests_beyond_the_margin_fail() {
    let cal = Some(calibration(1.0, 1.0));
    let base = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 1000.0)])], cal.clone());
    let new = run_with(vec![target("sync", vec![failing_phase("cpu", "/cpu-intensive", 0, 1000.0, 50)])], cal);
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    let failures = row(&comparison, "sync / cpu @c10", "failed requests");
    assert_eq!(failures.verdict, Judgement::Regression);
    assert_eq!(failures.change, "+5.00 points");
    assert!(!comparison.passed());
}

#[test]
fn an_upstream_bound_phase_under_a_fixed_rate_is_judged_on_its_raw_median_latency() {
    let at_rate = |median_us: u64| {
        let mut phase = phase("google", "/sync-google", 0, 100.0);
        phase.load_model = LoadModel::Rate { rate_per_s: 100.0, connections: 4 };
        phase.load.aggregated.latency.median_us = median_us;
        run_with(vec![target("sync", vec![phase])], None)
    };
    let comparison =
        compare(inputs(&at_rate(100_000), &at_rate(200_000)), &CompareOptions::default()).expect("compare");
    let latency = row(&comparison, "sync / google @r100", "median latency (ms), upstream-bound, raw");
    assert_eq!(latency.verdict, Judgement::Regression, "{latency:?}");
    assert_eq!(latency.change, "+100.0%");
    assert!(latency.verdict_text.contains("paced by the upstream's fixed delay"), "{}", latency.verdict_text);
}

#[test]
fn more_cpu_per_request_is_a_regression_even_when_throughput_holds() {
    let cal = Some(calibration(1.0, 1.0));
    let base = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 1000.0)])], cal.clone());
    let mut hungrier = phase("cpu", "/cpu-intensive", 0, 1000.0);
    hungrier.resources.summary.cpu_cores_avg = 1.0;
    let new = run_with(vec![target("sync", vec![hungrier])], cal);
    let comparison = compare(inputs(&base, &new), &CompareOptions::default()).expect("compare");
    assert_eq!(row(&comparison, "sync / cpu @c10", "req per CPU-second").verdict, Judgement::Regression);
    assert_eq!(row(&comparison, "sync / cpu @c10", "req/s, raw").verdict, Judgement::Info);
}

#[test]
fn the_history_line_holds_gated_and_raw_medians_and_the_calibration() {
    let run = two_models(1000.0, 2000.0, 20_000.0, Some(calibration(2.0, 1.0)));
    let comparison = compare(inputs(&run, &run), &CompareOptions::default()).expect("compare");
    let line = comparison.history_line(&run);
    assert_eq!(line.commit, "0123456789abcdef");
    assert_eq!(line.passed, Some(true));
    // 1000 req/s on half a core at twice the reference CPU speed.
    assert_eq!(line.figures["eff:sync/cpu@c10"], 1000.0);
    assert_eq!(line.figures["raw:async/cpu@c10"], 2000.0);
    assert_eq!(line.figures["ratio:async_vs_sync/cpu@c10"], 2.0);
    assert_eq!(line.figures["cal:cpu_loop_per_cpu_s"], 2.0 * crate::calibration::REFERENCE_CPU_LOOP_PER_CPU_S);
    assert!(!line.figures.keys().any(|name| name.starts_with("fail:")));
}

#[test]
fn a_threshold_outside_zero_to_one_is_refused() {
    let run = two_models(1.0, 1.0, 1.0, None);
    let options = CompareOptions { threshold: 1.5, ..CompareOptions::default() };
    assert!(matches!(compare(inputs(&run, &run), &options), Err(CompareError::BadOption(_))));
}

/// The fixture files the CLI tests compare are valid results files (bad-schema.json only by its version).
#[test]
fn the_compare_fixtures_validate_against_the_committed_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema_text = std::fs::read_to_string(root.join("../results/schema/results.schema.json")).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for name in ["base", "equal", "slower", "missing", "bad-schema"] {
        let path = root.join(format!("tests/fixtures/compare/{name}.json"));
        let instance: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture is JSON");
        let errors: Vec<String> = validator.iter_errors(&instance).map(|error| error.to_string()).collect();
        assert!(errors.is_empty(), "{name}.json: {errors:#?}");
        if name != "bad-schema" {
            RunResults::read(&path).unwrap_or_else(|error| panic!("{name}.json: {error}"));
        }
    }
}
