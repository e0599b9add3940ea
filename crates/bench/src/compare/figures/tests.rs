use super::*;
use crate::testing::{calibration, phase, run_with, target};

fn value(figures: &RunFigures, name: &str) -> f64 {
    figures.figures.iter().find(|figure| figure.name == name).unwrap_or_else(|| panic!("{name}")).samples[0]
}

#[test]
fn requests_per_cpu_second_are_normalised_by_the_matching_calibration() {
    // 1000 req/s on half a core = 2000 requests per CPU-second.
    let cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
    let health = phase("health", "/health", 0, 8000.0);
    let run = run_with(vec![target("sync", vec![cpu, health])], Some(calibration(2.0, 4.0)));
    let figures = extract(&run, usable_calibration(&run));
    assert_eq!(value(&figures, "eff:sync/cpu@c10"), 1000.0);
    assert_eq!(value(&figures, "eff:sync/health@c10"), 4000.0);
    assert_eq!(value(&figures, "raw:sync/cpu@c10"), 1000.0);
    assert_eq!(value(&figures, "fail:sync/cpu@c10"), 0.0);
    let gated: Vec<&str> =
        figures.figures.iter().filter(|figure| figure.gated).map(|figure| figure.name.as_str()).collect();
    assert_eq!(gated, vec!["eff:sync/cpu@c10", "fail:sync/cpu@c10", "eff:sync/health@c10", "fail:sync/health@c10"]);
}

#[test]
fn upstream_bound_phases_are_gated_raw_and_need_no_calibration() {
    let google = phase("google", "/async-google", 0, 400.0);
    let cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
    let run = run_with(vec![target("async", vec![google, cpu])], None);
    let figures = extract(&run, None);
    let names: Vec<&str> = figures.figures.iter().map(|figure| figure.name.as_str()).collect();
    assert!(names.contains(&"upstream:async/google@c10"), "{names:?}");
    assert!(!names.contains(&"raw:async/google@c10"), "no duplicate raw row: {names:?}");
    assert!(!names.iter().any(|name| name.starts_with("eff:")), "{names:?}");
    assert!(names.contains(&"raw:async/cpu@c10"), "{names:?}");
}

#[test]
fn ratios_pair_repetitions_against_the_first_target_and_are_gated_only_without_calibration() {
    let sync = target("sync", vec![phase("cpu", "/cpu-intensive", 0, 100.0), phase("cpu", "/cpu-intensive", 1, 200.0)]);
    let asyn =
        target("async", vec![phase("cpu", "/cpu-intensive", 1, 100.0), phase("cpu", "/cpu-intensive", 0, 300.0)]);
    let uncalibrated = run_with(vec![sync.clone(), asyn.clone()], None);
    let figures = extract(&uncalibrated, None);
    let ratio = figures.figures.iter().find(|figure| figure.kind == FigureKind::Ratio).expect("a ratio");
    assert_eq!(ratio.name, "ratio:async_vs_sync/cpu@c10");
    assert_eq!(ratio.metric, Metric::RequestsPerCpuSecond);
    assert_eq!(ratio.samples, vec![3.0, 0.5]);
    assert!(ratio.gated);
    assert_eq!(figures.phases.len(), 2);

    let calibrated = run_with(vec![sync, asyn], Some(calibration(1.0, 1.0)));
    let figures = extract(&calibrated, usable_calibration(&calibrated));
    let ratio = figures.figures.iter().find(|figure| figure.kind == FigureKind::Ratio).expect("a ratio");
    assert!(!ratio.gated);
}

#[test]
fn a_phase_without_cpu_time_has_no_efficiency_figure() {
    let mut cpu = phase("cpu", "/cpu-intensive", 0, 1000.0);
    cpu.resources.summary.cpu_cores_avg = 0.0;
    let run = run_with(vec![target("external", vec![cpu])], Some(calibration(1.0, 1.0)));
    let figures = extract(&run, usable_calibration(&run));
    assert!(!figures.figures.iter().any(|figure| figure.kind == FigureKind::Efficiency));
}

#[test]
fn interrupted_and_empty_phases_are_skipped_with_a_note() {
    let mut interrupted = phase("cpu", "/cpu-intensive", 0, 100.0);
    interrupted.interrupted = true;
    let mut empty = phase("health", "/health", 0, 100.0);
    empty.load.aggregated.count = 0;
    let run = run_with(vec![target("sync", vec![interrupted, empty])], None);
    let figures = extract(&run, None);
    assert!(figures.figures.is_empty());
    assert_eq!(figures.notes.len(), 2, "{:?}", figures.notes);
    assert!(figures.notes[0].contains("interrupted"));
    assert!(figures.notes[1].contains("no request finished"));
}

fn with_cpu_work(mut phase: PhaseResult, measured_s: f64) -> PhaseResult {
    phase.endpoints[0].cpu_work =
        Some(crate::results::CpuWork { requested_s: 0.002, iterations: 2_800_000, measured_s, samples: 15, probes: 3 });
    phase
}

#[test]
fn cpu_work_phases_are_judged_on_the_share_of_cpu_in_that_work_under_their_own_names() {
    // 200 req/s of 2.1 ms each on half a core: 0.42 CPU-seconds of work per 0.5 CPU-second.
    let sync = target("sync", vec![with_cpu_work(phase("cpu", "/cpu-intensive", 0, 200.0), 0.0021)]);
    let asyn = target("async", vec![with_cpu_work(phase("cpu", "/cpu-intensive", 0, 220.0), 0.0019)]);
    let run = run_with(vec![sync, asyn], Some(calibration(2.0, 2.0)));
    let figures = extract(&run, usable_calibration(&run));
    let names: Vec<&str> = figures.figures.iter().map(|figure| figure.name.as_str()).collect();
    assert!(!names.iter().any(|name| name.starts_with("eff:")), "{names:?}");
    let share = value(&figures, "work:sync/cpu@c10+2ms");
    assert!((share - 0.84).abs() < 1e-9, "{share}");
    let work = figures.figures.iter().find(|figure| figure.kind == FigureKind::WorkShare).expect("work share");
    assert!(work.gated && work.better == Better::Higher);
    // The ratio compares the work done, not the requests: async's count was a little cheaper.
    let ratio = value(&figures, "ratio:async_vs_sync/cpu@c10+2ms");
    assert!((ratio - (220.0 * 0.0019) / (200.0 * 0.0021)).abs() < 1e-9, "{ratio}");
    assert!(names.contains(&"raw:sync/cpu@c10+2ms"), "{names:?}");
}

#[test]
fn a_cpu_work_phase_matches_no_phase_sending_a_fixed_count() {
    let fixed = run_with(vec![target("sync", vec![phase("cpu", "/cpu-intensive", 0, 9000.0)])], None);
    let calibrated =
        run_with(vec![target("sync", vec![with_cpu_work(phase("cpu", "/cpu-intensive", 0, 400.0), 0.002)])], None);
    let (fixed, calibrated) = (extract(&fixed, None), extract(&calibrated, None));
    assert_ne!(fixed.phases[0].key, calibrated.phases[0].key);
    assert!(fixed.figures.iter().all(|a| calibrated.figures.iter().all(|b| a.match_key != b.match_key)));
    assert_eq!(cost_tag(0.0005), "500us");
}
