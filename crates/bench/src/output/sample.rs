//! A small results value the format tests share.

use crate::results::*;

fn latency() -> loadgen::LatencySummary {
    let mut histogram = loadgen::histogram::new_histogram();
    let _ = histogram.record(1500);
    loadgen::LatencySummary {
        samples: 1,
        min_us: 1500,
        max_us: 1500,
        mean_us: 1500.0,
        sum_us: 1500,
        median_us: 1500,
        stdev_us: 0.0,
        percentiles: loadgen::REPORTED_PERCENTILES
            .iter()
            .map(|&percentile| loadgen::Percentile { percentile, latency_us: 1500 })
            .collect(),
        histogram: loadgen::histogram::encode(&histogram),
    }
}

fn endpoint(name: &str) -> loadgen::EndpointStats {
    loadgen::EndpointStats {
        name: name.into(),
        count: 1,
        failures: loadgen::FailureCounts::default(),
        latency: latency(),
        service_time: None,
        requests_per_second: 0.5,
        failures_per_second: 0.0,
        avg_content_size: 60.0,
        content_bytes: 60,
        in_flight: loadgen::InFlightStats::default(),
    }
}

pub fn results() -> RunResults {
    let load = LoadReport {
        model: loadgen::Model::Concurrency,
        started_at_unix_ms: 1_700_000_000_000,
        duration_secs: 2.0,
        warmup_requests: 0,
        cancelled: false,
        latency_basis: loadgen::LatencyBasis::ServiceTime,
        endpoints: vec![endpoint("/cpu-intensive")],
        aggregated: endpoint(loadgen::AGGREGATED_NAME),
        timeline: Vec::new(),
        rate: None,
        agents: Vec::new(),
        responses_per_worker: loadgen::WorkerCounts::default(),
        statuses: Default::default(),
    };
    let phase = PhaseResult {
        name: "cpu".into(),
        endpoints: vec![EndpointShare { path: "/cpu-intensive".into(), weight: 1, cpu_work: None }],
        load_model: LoadModel::Concurrency { connections: 8 },
        load_description: "8 connections, closed loop (wrk)".into(),
        repetition: 0,
        warmup_s: 0.0,
        duration_s: 2.0,
        started_at: "2026-01-01T00:00:00Z".into(),
        interrupted: false,
        load,
        resources: Resources::default(),
        worker_requests: None,
        hlog: None,
        cores: None,
        kill: None,
    };
    RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: "run".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:01:00Z".into(),
        partial: false,
        suite: SuiteSource { name: "tiny".into(), path: "tiny.toml".into(), text: String::new() },
        environment: Environment {
            cpu_model: "cpu".into(),
            cores: 2,
            kernel: "Linux".into(),
            rustc: "rustc".into(),
            crate_version: "0.1.0".into(),
            git_commit: None,
            git_dirty: None,
            hostname: "host".into(),
        },
        pinning: PinningPlan {
            online_cores: vec![0, 1],
            load_cores: vec![1],
            upstream_cores: vec![1],
            targets: vec![],
        },
        upstream: UpstreamSettings {
            url: "http://127.0.0.1:1/".into(),
            delay_ms: 100.0,
            jitter_ms: 0.0,
            body_bytes: 1,
            holds: None,
            ca_file: None,
        },
        targets: vec![
            TargetResult {
                name: "sync".into(),
                family: Family::Rust,
                kind: TargetKind::Sync,
                command: vec![],
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
                command: vec![],
                workers: None,
                threads: None,
                status: TargetStatus::Failed {
                    reason: "exited (exit status: 3)".into(),
                    stderr_tail: vec!["boom".into()],
                },
                phases: vec![],
                variant_of: None,
                role: None,
            },
        ],
        calibration: None,
        max_failures: None,
    }
}
