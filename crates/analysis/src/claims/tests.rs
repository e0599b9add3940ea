//! The claims on results shaped like each shipped suite (its targets, phases, pinning and kills, with figures from
//! a simple model of each server), and each claim flipping when the figures behind it do.

use std::path::PathBuf;

use bench::pinning::Pinning;
use bench::suite::{Launch, LoadSpec, PhaseSpec, Suite, TargetSpec};
use loadgen::LoadReport;
use results::{PhaseResult, RunResults, SuiteSource, TargetResult, TargetStatus, WorkerKill, WorkerRequests};

use super::roles::{self, Role};
use super::*;

const MIB: f64 = 1024.0 * 1024.0;

fn suite(file: &str) -> Suite {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-suite").join(file);
    Suite::load(&path).unwrap_or_else(|error| panic!("{error}"))
}

/// A measured load report to copy: the report fixture's first, so its shape follows the model.
fn template() -> (RunResults, LoadReport) {
    let text = include_str!("../../tests/fixtures/small.json");
    let results: RunResults = serde_json::from_str(text).expect("the report fixture reads");
    let load = results.targets[0].phases[0].load.clone();
    (results, load)
}

/// A load report of `rate` successful req/s over `duration_s`, every latency `p50_us`, one timeline entry per second
/// with `per_second(second)` successful and `errors(second)` failed requests.
fn load_report(
    template: &LoadReport,
    duration_s: f64,
    p50_us: u64,
    per_second: impl Fn(u64) -> u64,
    errors: impl Fn(u64) -> u64,
) -> LoadReport {
    let seconds = duration_s.ceil() as u64;
    // A last part-second (a 1.5 s phase) counts its part only, as the load generator's window does.
    let part = |second: u64| (duration_s - second as f64).clamp(0.0, 1.0);
    let per_second = |second: u64| (per_second(second) as f64 * part(second)).round() as u64;
    let errors = |second: u64| (errors(second) as f64 * part(second)).round() as u64;
    let ok: u64 = (0..seconds).map(per_second).sum();
    let failed: u64 = (0..seconds).map(errors).sum();
    let mut histogram = loadgen::histogram::new_histogram();
    histogram.record_n(p50_us.max(1), ok.max(1)).expect("record");
    let mut load = template.clone();
    load.duration_secs = duration_s;
    let stats = &mut load.aggregated;
    stats.count = ok + failed;
    stats.failures = loadgen::FailureCounts { read: failed, ..loadgen::FailureCounts::default() };
    stats.latency.samples = ok.max(1);
    stats.latency.min_us = p50_us;
    stats.latency.max_us = p50_us;
    stats.latency.median_us = p50_us;
    stats.latency.histogram = loadgen::histogram::encode(&histogram);
    load.endpoints = vec![load.aggregated.clone()];
    let second = template.timeline.first().cloned().expect("the fixture has a timeline");
    load.timeline = (0..seconds)
        .map(|index| loadgen::SecondStats {
            second: index,
            requests: per_second(index) + errors(index),
            errors: errors(index),
            ..second.clone()
        })
        .collect();
    load
}

/// What each server model serves, from its role and the cores it has: enough for every claim to hold.
struct Model<'s> {
    suite: &'s Suite,
    pinning: Pinning,
    template: LoadReport,
}

impl Model<'_> {
    fn phase(&self, target: &TargetResult, spec: &TargetSpec, phase: &PhaseSpec) -> PhaseResult {
        let role = roles::role(target);
        let workers = target.workers.unwrap_or(1);
        let cores = self.pinning.target_in(&spec.name, &phase.name).len() as u32;
        let path = phase.tasks[0].path_and_query.split('?').next().unwrap_or("");
        let delay_s = self.suite.upstream.delay.as_secs_f64();
        let python = target.family == Family::Python;
        let per_core = if python { 300.0 } else { 1000.0 };
        let offered = match phase.load {
            LoadSpec::Concurrency { connections } => connections,
            LoadSpec::Users { users, .. } | LoadSpec::Rate { connections: users, .. } => users,
            // A capacity search offers whatever its connections allow: the model's own limit sets the rate.
            LoadSpec::Capacity(ref spec) => spec.max_connections,
        };
        let (rate, cpu) = match (path, role) {
            ("/sync-google", Some(Role::SingleLoop)) => (f64::from(offered.min(40)) / delay_s, 0.2),
            ("/sync-google", Some(Role::SyncWorkers)) => (f64::from(offered.min(workers)) / delay_s, 0.1),
            ("/sync-google" | "/async-google", _) => (f64::from(offered) / delay_s, 0.3),
            (_, Some(Role::SingleLoop)) => (per_core, 1.0),
            _ => {
                let parallel = workers.min(cores).min(offered).max(1);
                (per_core * f64::from(parallel), f64::from(parallel))
            }
        };
        let p50_us = (f64::from(offered) / rate * 1e6) as u64;
        let duration_s = phase.duration.as_secs_f64();
        let kill_second = phase.kill_worker_at.map(|at| at.as_secs());
        let whole_server = workers == 1 && role != Some(Role::PreforkAsync);
        let per_second = |second: u64| match kill_second {
            Some(killed) if second > killed && whole_server => 0,
            Some(killed) if second > killed => (rate / 2.0) as u64,
            _ => rate as u64,
        };
        let errors = |second: u64| match kill_second {
            Some(killed) if second == killed => u64::from(offered / 2),
            Some(killed) if second > killed && whole_server => 100,
            _ => 0,
        };
        let mut result = self.template_phase();
        result.name = phase.name.clone();
        result.endpoints = phase
            .tasks
            .iter()
            .map(|task| results::EndpointShare {
                path: task.path_and_query.clone(),
                weight: task.weight,
                cpu_work: None,
            })
            .collect();
        result.load_model = match phase.load {
            LoadSpec::Concurrency { connections } => results::LoadModel::Concurrency { connections },
            LoadSpec::Users { users, .. } => results::LoadModel::Users { users, think_min_s: 1.0, think_max_s: 5.0 },
            LoadSpec::Rate { per_second, connections } => {
                results::LoadModel::Rate { rate_per_s: per_second, connections }
            }
            LoadSpec::Capacity(ref spec) => results::LoadModel::Capacity {
                objective: spec.objective.to_string(),
                max_connections: spec.max_connections,
            },
        };
        if let LoadSpec::Capacity(spec) = &phase.load {
            result.capacity = Some(searched(spec, rate));
        }
        result.duration_s = duration_s;
        result.load = load_report(&self.template, duration_s, p50_us, per_second, errors);
        result.resources.summary.cpu_cores_avg = cpu.min(f64::from(cores));
        let processes = if target.kind == results::TargetKind::External || workers > 1 { workers + 1 } else { 1 };
        let pss = (if python { 40.0 } else { 5.0 }) * f64::from(processes) * MIB;
        result.resources.summary.pss_peak_bytes = Some(pss as u64);
        result.resources.summary.rss_peak_bytes = (1.5 * pss) as u64;
        result.worker_requests = (role == Some(Role::PreforkAsync)).then(|| {
            (0..workers)
                .map(|index| WorkerRequests { index, pid: 100 + index, requests: (rate * duration_s) as u64 / 2 })
                .collect()
        });
        result.cores = Some(self.pinning.target_in(&spec.name, &phase.name).to_vec());
        result.kill =
            phase.kill_worker_at.map(|at| WorkerKill { at_ms: at.as_millis() as i64, pid: 100, whole_server });
        result
    }

    fn template_phase(&self) -> PhaseResult {
        template().0.targets[0].phases[0].clone()
    }
}

/// Results shaped like the suite `file`: every target it runs in every phase it runs it in, figures from [`Model`].
fn shaped_like(file: &str) -> RunResults {
    let suite = suite(file);
    let (mut results, load) = template();
    let model =
        Model { pinning: Pinning::plan(&suite, &[0, 1]).expect("plans on two cores"), suite: &suite, template: load };
    results.suite = SuiteSource { name: suite.name.clone(), path: file.into(), text: suite.text.clone() };
    results.environment.cores = 2;
    results.pinning = model.pinning.record(&suite.targets);
    results.upstream.delay_ms = suite.upstream.delay.as_secs_f64() * 1000.0;
    results.targets = suite
        .targets
        .iter()
        .map(|spec| {
            let mut target = TargetResult {
                name: spec.name.clone(),
                family: spec.family,
                kind: spec.kind,
                command: match &spec.launch {
                    Launch::BuiltIn { model, flags } => {
                        ["rustcorn", "serve", model].iter().map(|word| word.to_string()).chain(flags.clone()).collect()
                    }
                    Launch::External { command, .. } => command.clone(),
                },
                workers: spec.workers,
                threads: spec.threads,
                status: TargetStatus::Ok,
                phases: Vec::new(),
                variant_of: spec.variant_of.clone(),
                role: spec.role,
                keep_alive: None,
            };
            target.phases = suite
                .phases
                .iter()
                .filter(|phase| phase.includes(&spec.name))
                .map(|phase| model.phase(&target, spec, phase))
                .collect();
            target
        })
        .collect();
    results
}

fn findings(results: &RunResults) -> Vec<(u8, Family, Finding, String)> {
    let report = RunView::new(results);
    check_claims(&report)
        .into_iter()
        .flat_map(|claim| {
            claim.checks.into_iter().map(move |check| (claim.number, check.family, check.finding, check.evidence))
        })
        .collect()
}

fn finding(results: &RunResults, number: u8, family: Family) -> (Finding, String) {
    findings(results)
        .into_iter()
        .find(|(n, f, _, _)| *n == number && *f == family)
        .map(|(_, _, finding, evidence)| (finding, evidence))
        .expect("every claim is checked for both families")
}

#[test]
fn make_bench_python_finds_every_claim_for_both_families() {
    let results = shaped_like("python-peers.toml");
    for (number, family, finding, evidence) in findings(&results) {
        assert_eq!(finding, Finding::Holds, "claim {number} {family:?}: {evidence}");
    }
}

#[test]
fn make_bench_finds_every_rust_claim_and_sends_python_to_bench_python() {
    let results = shaped_like("default.toml");
    for (number, family, finding, evidence) in findings(&results) {
        match family {
            Family::Rust => assert_eq!(finding, Finding::Holds, "claim {number}: {evidence}"),
            Family::Python | Family::External => {
                assert_eq!(finding, Finding::NotMeasured, "claim {number}: {evidence}");
                assert!(evidence.contains("make bench-python"), "claim {number}: {evidence}");
            }
        }
    }
}

#[test]
fn the_other_suites_name_the_suite_that_measures_what_they_lack() {
    for file in ["article.toml", "quick.toml"] {
        for (number, family, finding, evidence) in findings(&shaped_like(file)) {
            if finding == Finding::NotMeasured {
                assert!(
                    evidence.contains("bench-suite/python-peers.toml"),
                    "{file} claim {number} {family:?}: {evidence}"
                );
            }
        }
    }
}

/// The results with `edit` applied to every phase of `target` whose name starts with `phase`.
fn edited(mut results: RunResults, target: &str, phase: &str, edit: impl Fn(&mut PhaseResult)) -> RunResults {
    for result in results.targets.iter_mut().filter(|t| t.name == target) {
        for measured in result.phases.iter_mut().filter(|p| p.name.starts_with(phase)) {
            edit(measured);
        }
    }
    results
}

/// Sets a phase's successful throughput and median latency, keeping its duration.
fn set_rate(phase: &mut PhaseResult, rate: f64, p50_us: u64) {
    let duration = phase.load.duration_secs;
    let template = phase.load.clone();
    phase.load = load_report(&template, duration, p50_us, |_| rate as u64, |_| 0);
}

/// The figure behind each claim turned against it: (claim, target, phase-name prefix, edit). `per_core` is the
/// model's req/s per core for the family, `names` maps the Python peers' names to the suite's.
/// A claim, the target and phase-name prefix to change, and the change.
type Flip = (u8, &'static str, &'static str, Box<dyn Fn(&mut PhaseResult)>);

fn flips(per_core: f64) -> Vec<Flip> {
    vec![
        // Sync workers serving three times their capacity, without queueing.
        (1, "py-gunicorn-sync-2", "s", Box::new(|p| set_rate(p, 60.0, 100_000))),
        // The other worker stops serving after the kill (and memory stops growing with workers: see below).
        (
            2,
            "py-gunicorn-uvicorn-2",
            "kill",
            Box::new(|p| {
                let load = p.load.clone();
                p.load =
                    load_report(&load, p.load.duration_secs, 1000, |second| if second > 1 { 0 } else { 500 }, |_| 0);
            }),
        ),
        // One process using more memory than gunicorn's tree.
        (3, "py-uvicorn", "", Box::new(|p| p.resources.summary.pss_peak_bytes = Some((1000.0 * MIB) as u64))),
        // No overlap of blocking waits at all: one at a time.
        (4, "py-uvicorn", "s", Box::new(|p| set_rate(p, 10.0, 100_000))),
        // A single event loop using two cores.
        (5, "py-uvicorn", "cpu", Box::new(|p| p.resources.summary.cpu_cores_avg = 1.9)),
        // gunicorn serving what uvicorn serves, on one core.
        (
            6,
            "py-gunicorn-uvicorn-2",
            "cpu",
            Box::new(move |p| {
                set_rate(p, per_core, 10_000);
                p.resources.summary.cpu_cores_avg = 1.0;
            }),
        ),
        // One worker taking every request.
        (
            7,
            "py-gunicorn-uvicorn-2",
            "cpu",
            Box::new(|p| {
                p.worker_requests = Some(vec![
                    WorkerRequests { index: 0, pid: 1, requests: 1000 },
                    WorkerRequests { index: 1, pid: 2, requests: 3 },
                ])
            }),
        ),
        // Four workers on two cores serving twice what two do.
        (8, "py-gunicorn-uvicorn-4", "workers", Box::new(move |p| set_rate(p, 4.0 * per_core, 10_000))),
    ]
}

/// Each claim flips from "holds" to "does not hold" when the figures behind it do, for the Python peers
/// (python-peers.toml) and for the Rust models (default.toml).
#[test]
fn each_claim_flips_with_its_figures() {
    let rust_name = |python: &str| match python {
        "py-gunicorn-sync-2" => "prefork-sync-2",
        "py-gunicorn-uvicorn-2" => "prefork-async-2",
        "py-gunicorn-uvicorn-4" => "prefork-async-4",
        _ => "async-1",
    };
    let cases = [
        (Family::Python, shaped_like("python-peers.toml"), 300.0),
        (Family::Rust, shaped_like("default.toml"), 1000.0),
    ];
    for (family, base, per_core) in cases {
        for (number, python_target, phase, edit) in flips(per_core) {
            let target = if family == Family::Python { python_target } else { rust_name(python_target) };
            assert_eq!(finding(&base, number, family).0, Finding::Holds, "claim {number} {family:?} before");
            let mut changed = edited(base.clone(), target, phase, &edit);
            if number == 2 {
                // Memory that does not grow with the worker count, for the second half of the claim.
                for workers in ["1", "2", "4"] {
                    let name = match family {
                        Family::Python | Family::External => format!("py-gunicorn-uvicorn-{workers}"),
                        Family::Rust => format!("prefork-async-{workers}"),
                    };
                    let flat = |p: &mut PhaseResult| p.resources.summary.pss_peak_bytes = Some((50.0 * MIB) as u64);
                    changed = edited(changed, &name, "workers", flat);
                }
            }
            let (after, evidence) = finding(&changed, number, family);
            assert_eq!(
                after,
                Finding::DoesNotHold,
                "claim {number} {family:?} after changing {target}/{phase}: {evidence}"
            );
        }
    }
}

#[test]
fn a_single_loop_pinned_to_one_core_is_not_judged_on_cores() {
    let results = shaped_like("default.toml");
    let pinned = edited(results, "async-1", "cpu", |p| p.cores = Some(vec![0]));
    let (finding, evidence) = finding(&pinned, 5, Family::Rust);
    assert_eq!(finding, Finding::NotMeasured, "{evidence}");
    assert!(evidence.contains("async-1") && evidence.contains("make bench"), "{evidence}");
}

#[test]
fn the_prefork_worker_class_is_read_from_its_flag() {
    let argv = |words: &str| words.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let flag = |command: &str| roles::flag_value(&argv(command), &["-k", "--worker-class"]).map(str::to_owned);
    assert_eq!(flag("rustcorn serve prefork -w 2 -k async --bind 127.0.0.1:0").as_deref(), Some("async"));
    assert_eq!(flag("rustcorn serve prefork --worker-class sync").as_deref(), Some("sync"));
    assert_eq!(flag("rustcorn serve prefork -w 2"), None);
}

#[test]
fn halves_of_a_claim_combine() {
    assert_eq!(Finding::Holds.and(Finding::Holds), Finding::Holds);
    assert_eq!(Finding::Holds.and(Finding::DoesNotHold), Finding::Partly);
    assert_eq!(Finding::DoesNotHold.and(Finding::DoesNotHold), Finding::DoesNotHold);
    assert_eq!(Finding::Holds.and(Finding::NotMeasured), Finding::Partly);
    assert_eq!(Finding::NotMeasured.and(Finding::DoesNotHold), Finding::DoesNotHold);
}

#[test]
fn a_check_reads_as_one_sentence() {
    let check = Check::new(Family::Rust, Finding::NotMeasured, "no phase");
    assert_eq!(check.sentence(), "Rust: not measured in this run - no phase");
}

/// The tie the old claims code broke the wrong way: "cpu" and "workers-cpu" both at 32 connections on
/// /cpu-intensive. The shared selector picks "cpu", which measured more targets, for the verdict and the claims
/// alike; the kill phase on the same path is never picked.
#[test]
fn the_shared_selector_breaks_the_cpu_tie_towards_the_phase_with_more_targets() {
    let results = shaped_like("default.toml");
    let report = RunView::new(&results);
    let name = |phase: Option<usize>| phase.map(|phase| report.phases[phase].name);
    assert_eq!(name(select::best_phase(&report, "/cpu-intensive", |_| true)), Some("cpu"));
    let verdict = crate::verdict::verdicts(&report).into_iter().find(|v| v.subject.short_title() == "/cpu-intensive");
    assert_eq!(name(verdict.map(|verdict| verdict.phase)), Some("cpu"));
    let only_workers = |phase: usize| report.phases[phase].name.starts_with("workers");
    assert_eq!(name(select::best_phase(&report, "/cpu-intensive", only_workers)), Some("workers-cpu"));
    let kills = |phase: usize| report.phases[phase].kills_a_worker();
    assert_eq!(select::best_phase(&report, "/cpu-intensive", kills), None);
    // The claims read the single loop on the phase where it ran, not on the tied phase without it.
    let (finding, evidence) = finding(&results, 5, Family::Rust);
    assert_eq!(finding, Finding::Holds, "{evidence}");
}

/// The default suite's 1.5 s windows cannot see a 3.2 s queue's median: those points are named, not judged.
#[test]
fn a_queue_longer_than_the_window_is_shown_but_not_judged_on_its_latency() {
    let (finding, evidence) = finding(&shaped_like("default.toml"), 1, Family::Rust);
    assert_eq!(finding, Finding::Holds, "{evidence}");
    let at_64 = evidence.split(", ").find(|point| point.contains(" at 64 ")).expect("the 64-connection point");
    assert!(at_64.contains("not judged"), "{at_64}");
    let at_8 = evidence.split(", ").find(|point| point.contains(" at 8 ")).expect("the 8-connection point");
    assert!(!at_8.contains("not judged"), "{at_8}");
}

#[test]
fn a_ratio_says_the_range_it_took_over_the_runs_or_that_it_rests_on_one() {
    let spread = |values: &[f64]| Spread::of(values.iter().copied()).expect("values");
    let ranged = spread_of_ratio(&spread(&[190.0, 200.0, 210.0]), &spread(&[95.0, 100.0, 105.0]));
    // From the lowest over the highest (190 / 105) to the highest over the lowest (210 / 95).
    assert_eq!(ranged, format!("{}-{} over 3 runs", format::ratio(190.0 / 105.0), format::ratio(210.0 / 95.0)));
    let single = spread_of_ratio(&spread(&[200.0]), &spread(&[100.0, 101.0]));
    assert_eq!(single, "one run each, no spread to judge it by");
}

/// A capacity search that found `rate`, as the shaped results need it: one step at the rate, which held.
fn searched(spec: &bench::suite::CapacitySpec, rate: f64) -> results::CapacityResult {
    let mut found = results::testing::capacity_phase("shaped", "/health", 0, rate).capacity.expect("a capacity");
    found.objective = spec.objective.to_string();
    found.steps.truncate(1);
    found
}
