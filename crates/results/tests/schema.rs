//! The committed JSON Schema matches the results model, and a results file the model writes validates against it.
//! Regenerate the schema after changing the model with
//! `RUSTCORN_BLESS=1 cargo test -p results --test schema -- --test-threads 1` (the other tests read the file).

use std::path::PathBuf;

use results::*;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/results.schema.json")
}

fn committed_schema() -> serde_json::Value {
    let text = std::fs::read_to_string(schema_path()).expect("read the committed schema");
    serde_json::from_str(&text).expect("the committed schema is JSON")
}

/// Every optional part of a results file filled in, so that the schema is checked against all of them.
fn sample_results() -> RunResults {
    let mut results = results::testing::results();
    let latency = results::testing::one_request_latency(1500);
    results.environment.git_dirty = Some(false);
    results.pinning.targets = vec![TargetPinning { target: "sync".into(), cores: vec![0], reason: "suite".into() }];
    results.upstream.holds =
        Some(UpstreamHolds { hold: latency.clone(), late: latency.clone(), spun_us: None, ran_us: None, tls: None });
    let phase = &mut results.targets[0].phases[0];
    phase.resources = Resources {
        samples: vec![ResourceSample {
            t_ms: 100,
            cpu_user_s: 0.1,
            cpu_system_s: 0.01,
            rss_bytes: 4096,
            pss_bytes: Some(2048),
            threads: 2,
            processes: 1,
        }],
        summary: ResourceSummary { cpu_cores_avg: 0.5, rss_peak_bytes: 4096, ..Default::default() },
    };
    phase.worker_requests = Some(vec![WorkerRequests { index: 0, pid: 42, requests: 10 }]);
    phase.hlog = Some("sync.cpu.r0.hlog".into());
    fill_load_report(&mut phase.load, &latency);
    results
}

/// The optional parts of a load report: service times, in-flight ages, the timeline, rate statistics, agents and
/// responses per worker and per status.
fn fill_load_report(load: &mut LoadReport, latency: &loadgen::LatencySummary) {
    let mut ages = loadgen::histogram::Latencies::default();
    ages.record(250_000);
    let in_flight = loadgen::InFlightStats::of(&ages);
    load.model = loadgen::Model::Rate;
    load.latency_basis = loadgen::LatencyBasis::Corrected;
    load.warmup_requests = 3;
    for stats in load.endpoints.iter_mut().chain([&mut load.aggregated]) {
        stats.service_time = Some(latency.clone());
        stats.in_flight = in_flight.clone();
    }
    load.timeline = vec![loadgen::SecondStats {
        second: 0,
        requests: 1,
        errors: 0,
        p50_us: 1500,
        p99_us: 1500,
        histogram: latency.histogram.clone(),
    }];
    load.rate = Some(loadgen::RateStats {
        target_per_second: 1.0,
        achieved_per_second: 0.5,
        scheduled: 2,
        sent: 1,
        max_send_lag_us: 10,
        kept_up: true,
        warmup_scheduled: 1,
        not_sent: in_flight,
        open: Some(loadgen::OpenLoopStats {
            max_connections: 10,
            most_open: 4,
            bound_waits: 0,
            send_lag_p50_us: 20,
            send_lag_p99_us: 90,
            send_lag_max_us: 400,
            open_file_limit: Some(1024),
            generator_behind: false,
        }),
    });
    load.agents = vec![loadgen::AgentWindow {
        id: "agent-0".into(),
        host: "loadbox".into(),
        start_at_unix_us: Some(1_699_999_998_000_000),
        window_start_unix_us: 1_700_000_000_000_000,
        window_end_unix_us: 1_700_000_002_000_000,
        first_request_unix_us: Some(1_700_000_000_000_350),
        requests: 1,
    }];
    load.responses_per_worker = loadgen::WorkerCounts {
        workers: vec![loadgen::WorkerCount { pid: 42, responses: 1 }],
        other_workers: 0,
        without_pid: 0,
    };
    load.statuses = loadgen::StatusCounts(vec![loadgen::StatusCount { status: 200, responses: 1 }]);
}

#[test]
fn committed_schema_matches_the_model() {
    let generated = RunResults::json_schema();
    if std::env::var_os("RUSTCORN_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&generated).expect("serialize schema") + "\n";
        std::fs::write(schema_path(), text).expect("write schema");
    }
    assert_eq!(
        committed_schema(),
        generated,
        "crates/results/schema/results.schema.json is stale: rerun with RUSTCORN_BLESS=1"
    );
}

#[test]
fn written_results_validate_against_the_committed_schema() {
    let schema = committed_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let instance = serde_json::to_value(sample_results()).expect("serialize results");
    let errors: Vec<String> = validator.iter_errors(&instance).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
}

#[test]
fn schema_rejects_a_results_file_with_a_missing_field() {
    let validator = jsonschema::validator_for(&committed_schema()).expect("the schema compiles");
    let mut instance = serde_json::to_value(sample_results()).expect("serialize results");
    instance.as_object_mut().expect("an object").remove("environment");
    assert!(!validator.is_valid(&instance));

    let mut instance = serde_json::to_value(sample_results()).expect("serialize results");
    let load = &mut instance["targets"][0]["phases"][0]["load"];
    load.as_object_mut().expect("the load report is an object").remove("aggregated");
    assert!(!validator.is_valid(&instance), "the load generator's report is described, not any JSON");
}

#[test]
fn read_round_trips_and_refuses_another_schema_version() {
    let dir = std::env::temp_dir().join(format!("results-schema-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("results.json");
    let results = sample_results();
    std::fs::write(&path, serde_json::to_string(&results).expect("serialize")).expect("write");
    assert_eq!(RunResults::read(&path).expect("read back"), results);

    let mut other = serde_json::to_value(&results).expect("serialize");
    other["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
    std::fs::write(&path, other.to_string()).expect("write");
    let error = RunResults::read(&path).expect_err("another version is refused");
    assert!(matches!(error, ReadError::Version { .. }), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}
