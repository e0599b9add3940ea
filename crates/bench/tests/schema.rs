//! The committed JSON Schema matches the results model, and a results file the model writes validates against it.
//! Regenerate the schema after changing the model with
//! `RUSTCORN_BLESS=1 cargo test -p bench --test schema -- --test-threads 1` (the other tests read the file).

use std::path::PathBuf;

use bench::results::*;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/results.schema.json")
}

fn committed_schema() -> serde_json::Value {
    let text = std::fs::read_to_string(schema_path()).expect("read the committed schema");
    serde_json::from_str(&text).expect("the committed schema is JSON")
}

fn sample_latency() -> loadgen::LatencySummary {
    let mut histogram = loadgen::histogram::new_histogram();
    histogram.record(1500).expect("record a latency");
    loadgen::LatencySummary {
        samples: 1,
        min_us: 1500,
        max_us: 1500,
        mean_us: 1500.0,
        sum_us: 1500,
        median_us: 1500,
        stdev_us: 0.0,
        percentiles: vec![loadgen::Percentile { percentile: 99.0, latency_us: 1500 }],
        histogram: loadgen::histogram::encode(&histogram),
    }
}

fn sample_in_flight() -> loadgen::InFlightStats {
    let mut ages = loadgen::histogram::Latencies::default();
    ages.record(250_000);
    loadgen::InFlightStats::of(&ages)
}

fn sample_endpoint(name: &str) -> loadgen::EndpointStats {
    loadgen::EndpointStats {
        name: name.into(),
        count: 1,
        failures: loadgen::FailureCounts::default(),
        latency: sample_latency(),
        service_time: Some(sample_latency()),
        requests_per_second: 0.5,
        failures_per_second: 0.0,
        avg_content_size: 60.0,
        content_bytes: 60,
        in_flight: sample_in_flight(),
    }
}

fn sample_load_report() -> LoadReport {
    LoadReport {
        model: loadgen::Model::Rate,
        started_at_unix_ms: 1_700_000_000_000,
        duration_secs: 2.0,
        warmup_requests: 3,
        cancelled: false,
        latency_basis: loadgen::LatencyBasis::Corrected,
        endpoints: vec![sample_endpoint("/cpu-intensive")],
        aggregated: sample_endpoint(loadgen::AGGREGATED_NAME),
        timeline: vec![loadgen::SecondStats {
            second: 0,
            requests: 1,
            errors: 0,
            p50_us: 1500,
            p99_us: 1500,
            histogram: sample_latency().histogram,
        }],
        rate: Some(loadgen::RateStats {
            target_per_second: 1.0,
            achieved_per_second: 0.5,
            scheduled: 2,
            sent: 1,
            max_send_lag_us: 10,
            kept_up: true,
            warmup_scheduled: 1,
            not_sent: sample_in_flight(),
        }),
        agents: vec![loadgen::AgentWindow {
            id: "agent-0".into(),
            host: "loadbox".into(),
            start_at_unix_us: Some(1_699_999_998_000_000),
            window_start_unix_us: 1_700_000_000_000_000,
            window_end_unix_us: 1_700_000_002_000_000,
            first_request_unix_us: Some(1_700_000_000_000_350),
            requests: 1,
        }],
        responses_per_worker: loadgen::WorkerCounts {
            workers: vec![loadgen::WorkerCount { pid: 42, responses: 1 }],
            other_workers: 0,
            without_pid: 0,
        },
        statuses: loadgen::StatusCounts(vec![loadgen::StatusCount { status: 200, responses: 1 }]),
    }
}

fn sample_results() -> RunResults {
    let phase = PhaseResult {
        name: "cpu".into(),
        endpoints: vec![EndpointShare { path: "/cpu-intensive".into(), weight: 1, cpu_work: None }],
        load_model: LoadModel::Concurrency { connections: 8 },
        load_description: "8 connections, closed loop".into(),
        repetition: 0,
        warmup_s: 1.0,
        duration_s: 2.0,
        started_at: "2026-01-01T00:00:00Z".into(),
        interrupted: false,
        load: sample_load_report(),
        resources: Resources {
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
        },
        worker_requests: Some(vec![WorkerRequests { index: 0, pid: 42, requests: 10 }]),
        hlog: Some("sync.cpu.r0.hlog".into()),
        cores: None,
        kill: None,
    };
    RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: "run".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:01:00Z".into(),
        partial: false,
        suite: SuiteSource { name: "tiny".into(), path: "tiny.toml".into(), text: "".into() },
        environment: Environment {
            cpu_model: "cpu".into(),
            cores: 2,
            kernel: "Linux 6".into(),
            rustc: "rustc 1".into(),
            crate_version: "0.1.0".into(),
            git_commit: None,
            git_dirty: Some(false),
            hostname: "host".into(),
        },
        pinning: PinningPlan {
            online_cores: vec![0, 1],
            load_cores: vec![1],
            upstream_cores: vec![1],
            targets: vec![TargetPinning { target: "sync".into(), cores: vec![0], reason: "suite".into() }],
        },
        upstream: UpstreamSettings {
            url: "http://127.0.0.1:1/".into(),
            delay_ms: 100.0,
            jitter_ms: 0.0,
            body_bytes: 1,
            holds: Some(UpstreamHolds {
                hold: sample_latency(),
                late: sample_latency(),
                spun_us: None,
                ran_us: None,
                tls: None,
            }),
            ca_file: None,
        },
        targets: vec![
            TargetResult {
                name: "sync".into(),
                family: Family::Rust,
                kind: TargetKind::Sync,
                command: vec!["rustcorn".into(), "serve".into(), "sync".into()],
                workers: Some(1),
                threads: Some(64),
                status: TargetStatus::Ok,
                phases: vec![phase],
                variant_of: None,
                role: None,
            },
            TargetResult {
                name: "broken".into(),
                family: Family::Python,
                kind: TargetKind::External,
                command: vec!["false".into()],
                workers: None,
                threads: None,
                status: TargetStatus::Failed { reason: "exited".into(), stderr_tail: vec!["boom".into()] },
                phases: vec![],
                variant_of: None,
                role: None,
            },
        ],
        calibration: None,
        max_failures: None,
    }
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
        "crates/bench/schema/results.schema.json is stale: rerun with RUSTCORN_BLESS=1"
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
    let dir = std::env::temp_dir().join(format!("bench-schema-test-{}", std::process::id()));
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
