//! The one builder of small [`RunResults`] for tests: this crate's own (always) and other crates' (through the
//! `test-support` feature). [`run_with`] is the run around any targets; [`phase`] is one repetition at 10 connections
//! with a given throughput, as `compare` judges it; [`results`] is a sync target with one measured request and a
//! failed target, as the output formats print it.

use crate::calibration::{
    Calibration, CalibrationRound, REFERENCE_CPU_LOOP_PER_CPU_S, REFERENCE_ROUND_TRIPS_PER_CPU_S, WORKLOAD_VERSION,
};
use crate::*;

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
        request: None,
        capacity: None,
        observed_workers: None,
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
            censored: 0,
            censored_histogram: String::new(),
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
        answers_per_connection: None,
    }
}

/// A running sync target with `phases`.
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
        keep_alive: None,
    }
}

/// A target that failed to start, with the reason and the last line of its stderr.
pub fn failed_target(name: &str, reason: &str, stderr: &str) -> TargetResult {
    TargetResult {
        name: name.into(),
        family: Family::Python,
        kind: TargetKind::External,
        command: vec!["false".into()],
        workers: None,
        threads: None,
        status: TargetStatus::Failed { reason: reason.into(), stderr_tail: vec![stderr.into()] },
        phases: vec![],
        variant_of: None,
        role: None,
        keep_alive: None,
    }
}

/// The run around `targets`: fixed times, a 2-core machine, the upstream on 127.0.0.1:1.
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

/// A latency summary of one request that took `micros`, with its histogram and every reported percentile.
pub fn one_request_latency(micros: u64) -> loadgen::LatencySummary {
    let mut histogram = loadgen::histogram::new_histogram();
    let _ = histogram.record(micros);
    loadgen::LatencySummary {
        samples: 1,
        min_us: micros,
        max_us: micros,
        mean_us: micros as f64,
        sum_us: micros,
        median_us: micros,
        stdev_us: 0.0,
        percentiles: loadgen::REPORTED_PERCENTILES
            .iter()
            .map(|&percentile| loadgen::Percentile { percentile, latency_us: micros, lower_bound: false })
            .collect(),
        histogram: loadgen::histogram::encode(&histogram),
        censored: 0,
        censored_histogram: String::new(),
    }
}

/// Statistics of one request to `name` that took 1.5 ms and returned 60 bytes, in a 2 s run.
fn one_request(name: &str) -> loadgen::EndpointStats {
    loadgen::EndpointStats {
        name: name.into(),
        count: 1,
        failures: loadgen::FailureCounts::default(),
        latency: one_request_latency(1500),
        service_time: None,
        requests_per_second: 0.5,
        failures_per_second: 0.0,
        avg_content_size: 60.0,
        content_bytes: 60,
        in_flight: loadgen::InFlightStats::default(),
    }
}

/// A run whose `sync` target measured one 1.5 ms request to /cpu-intensive at 8 connections in phase `cpu`, beside
/// a `broken` target that exited: what the output formats are tested on.
pub fn results() -> RunResults {
    let mut phase = phase("cpu", "/cpu-intensive", 0, 0.5);
    phase.load_model = LoadModel::Concurrency { connections: 8 };
    phase.load_description = "8 connections, closed loop (wrk)".into();
    phase.warmup_s = 0.0;
    phase.duration_s = 2.0;
    phase.resources = Resources::default();
    phase.load.started_at_unix_ms = 1_700_000_000_000;
    phase.load.duration_secs = 2.0;
    phase.load.endpoints = vec![one_request("/cpu-intensive")];
    phase.load.aggregated = one_request(loadgen::AGGREGATED_NAME);
    let mut sync = target("sync", vec![phase]);
    sync.threads = Some(64);
    let broken = failed_target("broken", "exited (exit status: 3)", "boom");
    run_with(vec![sync, broken], None)
}

/// The objective of [`capacity_phase`].
pub const CAPACITY_OBJECTIVE: &str = "p99 <= 250 ms, failures <= 0.1 %, achieved >= 98 % of offered";

fn capacity_step(offered: f64, holds: bool) -> CapacityStep {
    CapacityStep {
        offered_per_second: offered,
        achieved_per_second: if holds { offered } else { offered * 0.7 },
        duration_s: 2.0,
        p50_us: 101_000,
        p50_lower_bound: false,
        p99_us: if holds { 120_000 } else { 2_000_000 },
        p99_lower_bound: !holds,
        objective_latency_us: if holds { 120_000 } else { 2_000_000 },
        objective_lower_bound: !holds,
        failure_ratio: 0.0,
        in_flight: 0,
        connections: 64,
        generator_behind: false,
        holds,
        misses: if holds { vec![] } else { vec!["p99 ≥ 2 s > 250 ms".to_owned()] },
    }
}

/// One repetition of a capacity phase on `path` that came to `estimate` req/s at a p99 objective of 250 ms:
/// repetition 0 the search, the others confirmation rounds; a step at the estimate that held and one 5 % above it
/// that missed, its p99 a lower bound.
pub fn capacity_phase(name: &str, path: &str, repetition: u32, estimate: f64) -> PhaseResult {
    let mut result = phase(name, path, repetition, estimate);
    result.load_model = LoadModel::Capacity { objective: CAPACITY_OBJECTIVE.to_owned(), max_connections: 10_000 };
    result.load_description = format!("an objective of {CAPACITY_OBJECTIVE}");
    let part = if repetition == 0 { CapacityPart::Search } else { CapacityPart::Confirmation };
    result.capacity = Some(CapacityResult {
        objective: CAPACITY_OBJECTIVE.to_owned(),
        objective_percentile: 99.0,
        objective_latency_us: 250_000,
        part,
        steps: vec![capacity_step(estimate, true), capacity_step(estimate * 1.05, false)],
        capacity_per_second: Some(estimate),
        at_least: false,
        ended: "bisection within 5 %".to_owned(),
    });
    result
}

/// A capacity phase on /async-google measured on sync (64 threads) and async-1 (one event loop), each with these
/// estimates over the search and its confirmations.
pub fn capacity_run(sync: &[f64], event_loop: &[f64]) -> RunResults {
    let model = |name: &str, kind: TargetKind, estimates: &[f64]| {
        let phases = estimates
            .iter()
            .enumerate()
            .map(|(repetition, &rate)| capacity_phase("async-io-capacity", "/async-google", repetition as u32, rate));
        let mut result = target(name, phases.collect());
        result.kind = kind;
        result.threads = Some(if kind == TargetKind::Sync { 64 } else { 1 });
        result
    };
    run_with(vec![model("sync", TargetKind::Sync, sync), model("async-1", TargetKind::Async, event_loop)], None)
}
