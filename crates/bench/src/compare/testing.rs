//! Builders of small results for the unit tests of `compare`: one phase is one repetition at 10 connections with a
//! given throughput.

use crate::calibration::{
    Calibration, CalibrationRound, REFERENCE_CPU_LOOP_PER_CPU_S, REFERENCE_ROUND_TRIPS_PER_CPU_S, WORKLOAD_VERSION,
};
use crate::results::*;

/// A calibration `cpu_speed` and `round_trip_speed` times as fast (per CPU-second) as the reference machine.
pub fn calibration(cpu_speed: f64, round_trip_speed: f64) -> Calibration {
    let cpu = REFERENCE_CPU_LOOP_PER_CPU_S * cpu_speed;
    let round_trips = REFERENCE_ROUND_TRIPS_PER_CPU_S * round_trip_speed;
    Calibration {
        workload_version: WORKLOAD_VERSION,
        cpu_loop_per_cpu_s: cpu,
        cpu_loop_per_s: cpu / 2.0,
        round_trips_per_cpu_s: round_trips,
        round_trips_per_s: round_trips / 4.0,
        cpu_rounds: vec![CalibrationRound { per_cpu_s: cpu, per_s: cpu / 2.0 }],
        round_trip_rounds: vec![CalibrationRound { per_cpu_s: round_trips, per_s: round_trips / 4.0 }],
        target_cores: None,
        load_cores: None,
    }
}

/// One repetition of `path` at 10 connections that reached `requests_per_second` on half a core, without failures.
pub fn phase(name: &str, path: &str, repetition: u32, requests_per_second: f64) -> PhaseResult {
    failing_phase(name, path, repetition, requests_per_second, 0)
}

/// Like [`phase`], with `failed` of its 1000 requests failed by status.
pub fn failing_phase(name: &str, path: &str, repetition: u32, requests_per_second: f64, failed: u64) -> PhaseResult {
    PhaseResult {
        name: name.into(),
        endpoints: vec![EndpointShare { path: path.into(), weight: 1, cpu_work: None }],
        load_model: LoadModel::Concurrency { connections: 10 },
        load_description: "10 connections, closed loop".into(),
        repetition,
        warmup_s: 1.0,
        duration_s: 5.0,
        started_at: "2026-01-01T00:00:00Z".into(),
        interrupted: false,
        load: load_report(requests_per_second, failed),
        resources: Resources {
            samples: Vec::new(),
            summary: ResourceSummary { cpu_cores_avg: 0.5, ..ResourceSummary::default() },
        },
        worker_requests: None,
        hlog: None,
        cores: None,
        kill: None,
    }
}

/// A load report of 1000 requests at 10 connections: `failed` of them failed by status, median 1 ms.
fn load_report(requests_per_second: f64, failed: u64) -> LoadReport {
    let stats = loadgen::EndpointStats {
        name: loadgen::AGGREGATED_NAME.into(),
        count: 1000,
        failures: loadgen::FailureCounts { status: failed, ..loadgen::FailureCounts::default() },
        latency: loadgen::LatencySummary {
            samples: 1000,
            min_us: 500,
            max_us: 4000,
            mean_us: 1000.0,
            sum_us: 1_000_000,
            median_us: 1000,
            stdev_us: 250.0,
            percentiles: Vec::new(),
            histogram: String::new(),
        },
        service_time: None,
        requests_per_second,
        failures_per_second: 0.0,
        avg_content_size: 60.0,
        content_bytes: 60_000,
        in_flight: loadgen::InFlightStats::default(),
    };
    LoadReport {
        model: loadgen::Model::Concurrency,
        started_at_unix_ms: 1_767_225_600_000,
        duration_secs: 1000.0 / requests_per_second,
        warmup_requests: 0,
        cancelled: false,
        latency_basis: loadgen::LatencyBasis::ServiceTime,
        endpoints: vec![stats.clone()],
        aggregated: stats,
        timeline: Vec::new(),
        rate: None,
        agents: Vec::new(),
        responses_per_worker: loadgen::WorkerCounts::default(),
        statuses: Default::default(),
    }
}

pub fn target(name: &str, phases: Vec<PhaseResult>) -> TargetResult {
    TargetResult {
        name: name.into(),
        family: Family::Rust,
        kind: TargetKind::Sync,
        command: vec!["rustcorn".into(), "serve".into(), name.into()],
        workers: Some(1),
        threads: Some(1),
        status: TargetStatus::Ok,
        phases,
        variant_of: None,
        role: None,
    }
}

pub fn run_with(targets: Vec<TargetResult>, calibration: Option<Calibration>) -> RunResults {
    RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: "run".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:01:00Z".into(),
        partial: false,
        suite: SuiteSource { name: "quick".into(), path: "bench-suite/quick.toml".into(), text: String::new() },
        environment: Environment {
            cpu_model: "cpu".into(),
            cores: 2,
            kernel: "Linux 6".into(),
            rustc: "rustc 1".into(),
            crate_version: "0.1.0".into(),
            git_commit: Some("0123456789abcdef".into()),
            git_dirty: Some(false),
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
        targets,
        calibration,
        max_failures: None,
    }
}
