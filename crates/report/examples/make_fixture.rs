//! Writes `tests/fixtures/small.json`: a small, synthetic but schema-valid results file whose numbers are made up
//! (a simple queueing model plus seeded noise) and whose shapes are real loadgen reports, so every chart and table
//! of the report has something to draw, including a failed target, an improved variant of uvicorn and a phase that
//! kills a worker. By design prefork-w2 wins /cpu-intensive (its phases calibrated to 2 ms of CPU per request with
//! `cpu_work`; one more phase sends the article's literal 100,000 iterations), async wins /async-google, and async
//! and prefork-w1 (the same model) are level on /memory-intensive.
//! Regenerate with `cargo run -p report --example make_fixture`.

use std::path::PathBuf;

use bench::results::*;
use loadgen::histogram::{encode, Latencies};
use loadgen::{
    EndpointStats, FailureCounts, InFlightStats, LatencyBasis, LatencySummary, LoadReport, RateStats, SecondStats,
    WorkerCount, WorkerCounts,
};

const DURATION_S: f64 = 3.0;
const WARMUP_S: f64 = 1.0;
const REPETITIONS: u32 = 3;
const UPSTREAM_DELAY_MS: f64 = 100.0;
const SAMPLE_EVERY_MS: i64 = 500;

/// SplitMix64: a deterministic generator, so the fixture is the same on every run.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A latency around `base_us` with a long right tail.
    fn latency(&mut self, base_us: f64) -> u64 {
        let body = 0.85 + 0.3 * self.next();
        let tail = if self.next() < 0.02 { 1.0 + 4.0 * self.next() } else { 1.0 };
        (base_us * body * tail).max(1.0) as u64
    }
}

#[derive(Clone, Copy)]
struct Model {
    name: &'static str,
    family: Family,
    kind: TargetKind,
    workers: u32,
    threads: Option<u32>,
    /// Cores of CPU work it can run at once.
    parallel: f64,
    /// Requests it can wait on the upstream for at once.
    io_slots: f64,
    /// Multiplies CPU time per request (Python is slower, thread contention costs).
    cpu_cost: f64,
    overhead_us: f64,
    rss_mib: f64,
}

#[derive(Clone, Copy)]
enum Work {
    /// `cpu_work = "2ms"`: the same CPU time per request on every target.
    Cpu,
    /// The article's loop as written, 100,000 iterations: ~48 µs compiled, ~5.5 ms in CPython.
    LiteralCpu,
    Memory,
    Io,
    Health,
}

struct Phase {
    name: &'static str,
    endpoints: Vec<(&'static str, Work, u32)>,
    load: LoadModel,
    description: &'static str,
}

fn main() {
    let models = models();
    let phases = phases();
    let mut noise = Noise(42);
    let mut targets: Vec<TargetResult> = models.iter().map(|model| target(model, &phases, &mut noise)).collect();
    targets.push(failed_python_target());
    let results = RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: "20260101T120000Z-fixture".into(),
        started_at: "2026-01-01T12:00:00Z".into(),
        finished_at: "2026-01-01T12:06:40Z".into(),
        partial: false,
        calibration: None,
        max_failures: None,
        suite: SuiteSource {
            name: "fixture (synthetic numbers)".into(),
            path: "bench-suite/fixture.toml".into(),
            text: SUITE_TEXT.into(),
        },
        environment: Environment {
            cpu_model: "Synthetic CPU for the report fixture".into(),
            cores: 4,
            kernel: "Linux 6.1.0".into(),
            rustc: "rustc 1.95.0".into(),
            crate_version: "0.1.0".into(),
            git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            git_dirty: Some(false),
            hostname: "fixture-host".into(),
        },
        pinning: PinningPlan {
            online_cores: vec![0, 1, 2, 3],
            load_cores: vec![2],
            upstream_cores: vec![3],
            targets: models
                .iter()
                .map(|model| TargetPinning {
                    target: model.name.into(),
                    cores: vec![0, 1],
                    reason: "set in the suite".into(),
                })
                .chain(std::iter::once(TargetPinning {
                    target: "gunicorn-sync-w2".into(),
                    cores: vec![0, 1],
                    reason: "set in the suite".into(),
                }))
                .collect(),
        },
        upstream: UpstreamSettings {
            url: "https://127.0.0.1:40123/".into(),
            delay_ms: UPSTREAM_DELAY_MS,
            jitter_ms: 0.0,
            body_bytes: 15_000,
            holds: Some(upstream_holds(&mut noise)),
            ca_file: Some("results/20260530T120000Z-fixture/upstream-ca.pem".into()),
        },
        targets,
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.json");
    // Compact: the fixture is generated, and pretty-printing doubles its size.
    let text = serde_json::to_string(&results).expect("results serialise") + "\n";
    std::fs::write(&path, text).expect("write the fixture");
    println!("wrote {}", path.display());
}

/// The upstream's own record: every hold a few tens of microseconds past the delay.
fn upstream_holds(noise: &mut Noise) -> UpstreamHolds {
    let (mut hold, mut late) = (latencies(), latencies());
    for _ in 0..4_000 {
        let late_us = (15.0 + 40.0 * noise.next() * noise.next()) as u64;
        hold.record((UPSTREAM_DELAY_MS * 1000.0) as u64 + late_us);
        late.record(late_us);
    }
    let negotiated = |resumed, count| TlsNegotiated {
        version: "TLSv1.3".into(),
        cipher_suite: "TLS_AES_256_GCM_SHA384".into(),
        key_exchange: "X25519".into(),
        resumed,
        count,
    };
    let tls = UpstreamTls { handshakes: vec![negotiated(false, 2_950), negotiated(true, 40)], failed_handshakes: 0 };
    UpstreamHolds { hold: summary(&hold), late: summary(&late), tls: Some(tls) }
}

fn models() -> Vec<Model> {
    let rust = |name, kind, workers, threads, parallel, io_slots, cpu_cost, rss_mib| Model {
        name,
        family: Family::Rust,
        kind,
        workers,
        threads,
        parallel,
        io_slots,
        cpu_cost,
        overhead_us: 40.0,
        rss_mib,
    };
    let uvicorn = Model {
        name: "uvicorn",
        family: Family::Python,
        kind: TargetKind::External,
        workers: 1,
        threads: None,
        parallel: 1.0,
        io_slots: 10_000.0,
        cpu_cost: 9.0,
        overhead_us: 600.0,
        rss_mib: 48.0,
    };
    vec![
        rust("sync", TargetKind::Sync, 1, Some(64), 2.0, 64.0, 1.15, 6.0),
        rust("async", TargetKind::Async, 1, Some(1), 1.0, 10_000.0, 1.0, 5.0),
        rust("prefork-w1", TargetKind::Prefork, 1, Some(1), 1.0, 10_000.0, 1.0, 9.0),
        rust("prefork-w2", TargetKind::Prefork, 2, Some(1), 2.0, 10_000.0, 1.0, 13.0),
        uvicorn,
        // The same server with the costs of the article's code taken out: less overhead per request.
        Model { name: "uvicorn-improved", overhead_us: 350.0, rss_mib: 49.0, ..uvicorn },
    ]
}

/// The phase that SIGKILLs one process of every target 1.2 s into its measured part.
const KILL_PHASE: &str = "kill-c8";
const KILL_AT_MS: i64 = 1200;

/// A prefork master loses one of its workers; every other model is one process and loses itself.
fn whole_server(model: &Model) -> bool {
    model.kind != TargetKind::Prefork
}

fn phases() -> Vec<Phase> {
    let concurrency = |name, path, work, connections, description| Phase {
        name,
        endpoints: vec![(path, work, 1)],
        load: LoadModel::Concurrency { connections },
        description,
    };
    vec![
        concurrency("cpu-c2", "/cpu-intensive", Work::Cpu, 2, "2 connections, closed loop"),
        concurrency("cpu-c8", "/cpu-intensive", Work::Cpu, 8, "8 connections, closed loop"),
        concurrency("memory-c8", "/memory-intensive", Work::Memory, 8, "8 connections, closed loop"),
        concurrency("sync-io-c32", "/sync-google", Work::Io, 32, "32 connections, closed loop"),
        concurrency("async-io-c16", "/async-google", Work::Io, 16, "16 connections, closed loop"),
        concurrency("async-io-c64", "/async-google", Work::Io, 64, "64 connections, closed loop"),
        Phase {
            name: "article-locust",
            endpoints: vec![("/cpu-intensive", Work::LiteralCpu, 1), ("/memory-intensive", Work::Memory, 1)],
            load: LoadModel::Users { users: 10, think_min_s: 1.0, think_max_s: 5.0 },
            description: "10 users, think time 1-5 s (Locust)",
        },
        concurrency(KILL_PHASE, "/cpu-intensive", Work::Cpu, 8, "8 connections, closed loop"),
        Phase {
            name: "health-rate",
            endpoints: vec![("/health", Work::Health, 1)],
            load: LoadModel::Rate { rate_per_s: 2000.0, connections: 16 },
            description: "2000 req/s open loop over 16 connections",
        },
        concurrency(
            "cpu-literal-100k",
            "/cpu-intensive?iterations=100000",
            Work::LiteralCpu,
            8,
            "8 connections, closed loop",
        ),
    ]
}

/// Service time of one request in µs, before queueing.
fn service_us(model: &Model, work: Work) -> f64 {
    match work {
        // Calibrated work costs every target the same; thread contention (sync) still adds to it.
        Work::Cpu if model.family == Family::Rust => 2000.0 * model.cpu_cost + model.overhead_us,
        Work::Cpu => 2000.0 + model.overhead_us,
        Work::LiteralCpu if model.family == Family::Rust => 48.0 * model.cpu_cost + model.overhead_us,
        Work::LiteralCpu => 5500.0 + model.overhead_us,
        Work::Memory => 500.0 * model.cpu_cost + model.overhead_us,
        Work::Io => UPSTREAM_DELAY_MS * 1000.0 + model.overhead_us * 2.0,
        Work::Health => 60.0 * model.cpu_cost.sqrt() + model.overhead_us / 4.0,
    }
}

/// Requests it can have in service at once for this work.
fn slots(model: &Model, work: Work) -> f64 {
    match work {
        Work::Io => model.io_slots,
        _ => model.parallel,
    }
}

fn target(model: &Model, phases: &[Phase], noise: &mut Noise) -> TargetResult {
    let mut results = Vec::new();
    for repetition in 0..REPETITIONS {
        for (index, phase) in phases.iter().enumerate() {
            results.push(phase_result(model, phase, index, repetition, noise));
        }
    }
    results.sort_by_key(|result| result.repetition);
    let command: Vec<String> = match model.kind {
        TargetKind::Sync => "rustcorn serve sync --bind 127.0.0.1:0 --max-threads 64",
        TargetKind::Async => "rustcorn serve async --bind 127.0.0.1:0 --threads 1",
        TargetKind::Prefork if model.workers == 1 => "rustcorn serve prefork -w 1 -k async --stats --bind 127.0.0.1:0",
        TargetKind::Prefork => "rustcorn serve prefork -w 2 -k async --stats --bind 127.0.0.1:0",
        TargetKind::External if model.name == "uvicorn-improved" => "uvicorn improved:app --host 127.0.0.1 --port 0",
        TargetKind::External => "uvicorn main:app --host 127.0.0.1 --port 0",
    }
    .split(' ')
    .map(String::from)
    .collect();
    TargetResult {
        name: model.name.into(),
        family: model.family,
        kind: model.kind,
        command,
        workers: Some(model.workers),
        threads: model.threads,
        status: TargetStatus::Ok,
        phases: results,
        variant_of: (model.name == "uvicorn-improved").then(|| "uvicorn".to_owned()),
        role: None,
    }
}

fn failed_python_target() -> TargetResult {
    TargetResult {
        name: "gunicorn-sync-w2".into(),
        family: Family::Python,
        kind: TargetKind::External,
        command: "gunicorn -w 2 main_wsgi:app --bind 127.0.0.1:0".split(' ').map(String::from).collect(),
        workers: Some(2),
        threads: None,
        status: TargetStatus::Failed {
            reason: "not ready within 30 s (http://127.0.0.1:0/health never answered)".into(),
            stderr_tail: vec![
                "[INFO] Starting gunicorn 23.0.0".into(),
                "ModuleNotFoundError: No module named 'main_wsgi'".into(),
            ],
        },
        phases: vec![],
        variant_of: None,
        role: None,
    }
}

/// Per-second throughput multiplier: sync stalls in its first cpu-c8 repetition, uvicorn warms up slowly, and after
/// the kill a single process serves nothing while a prefork master's other worker serves on.
fn pace(model: &Model, phase: &Phase, repetition: u32, second: usize) -> f64 {
    let killed = phase.name == KILL_PHASE && second as i64 > KILL_AT_MS / 1000;
    match (model.name, phase.name, repetition, second) {
        _ if killed && whole_server(model) => 0.0,
        _ if killed => 1.0 - 1.0 / f64::from(model.workers.max(2)),
        ("sync", "cpu-c8", 0, 2) => 0.35,
        ("uvicorn", _, _, 0) => 0.8,
        _ => 1.0,
    }
}

fn phase_result(model: &Model, phase: &Phase, index: usize, repetition: u32, noise: &mut Noise) -> PhaseResult {
    let total_weight: u32 = phase.endpoints.iter().map(|e| e.2).sum();
    let mean_service =
        phase.endpoints.iter().map(|e| service_us(model, e.1) * f64::from(e.2)).sum::<f64>() / f64::from(total_weight);
    let parallel = phase.endpoints.iter().map(|e| slots(model, e.1)).fold(f64::INFINITY, f64::min);
    // Throughput (req/s) and queueing factor by load model.
    let (rate, queue_factor, basis) = match phase.load {
        LoadModel::Concurrency { connections } => {
            let c = f64::from(connections);
            let busy = c.min(parallel);
            (busy / (mean_service / 1e6), (c / parallel).max(1.0), LatencyBasis::ServiceTime)
        }
        LoadModel::Users { users, think_min_s, think_max_s } => {
            let cycle = (think_min_s + think_max_s) / 2.0 + mean_service / 1e6;
            (f64::from(users) / cycle, 1.0, LatencyBasis::ServiceTime)
        }
        LoadModel::Rate { rate_per_s, .. } => {
            (rate_per_s, 1.0 + rate_per_s * mean_service / 1e6 / parallel, LatencyBasis::Corrected)
        }
    };
    let rate = rate * (0.97 + 0.06 * noise.next());
    let failure_every = if model.name == "uvicorn" && phase.name == "async-io-c64" { 150 } else { 0 };

    let mut per_endpoint: Vec<(Latencies, Latencies, FailureCounts, u64)> =
        phase.endpoints.iter().map(|_| (latencies(), latencies(), FailureCounts::default(), 0)).collect();
    let mut seconds: Vec<(Latencies, u64, u64)> = Vec::new();
    for second in 0..DURATION_S as usize {
        let pace = pace(model, phase, repetition, second);
        let requests = (rate * pace).round() as u64;
        let mut this_second = (latencies(), 0u64, 0u64);
        for request in 0..requests {
            let pick = (request % u64::from(total_weight)) as u32;
            let endpoint = phase
                .endpoints
                .iter()
                .scan(0, |sum, e| {
                    *sum += e.2;
                    Some(*sum)
                })
                .position(|sum| pick < sum)
                .unwrap_or(0);
            let work = phase.endpoints[endpoint].1;
            let stall = if pace > 0.0 && pace < 1.0 { 1.0 / pace } else { 1.0 };
            let service = noise.latency(service_us(model, work) * stall);
            let latency = (service as f64 * queue_factor) as u64;
            let (all, service_only, failures, bytes) = &mut per_endpoint[endpoint];
            this_second.1 += 1;
            let killed_now = phase.name == KILL_PHASE && second as i64 == KILL_AT_MS / 1000 && request < 4;
            if killed_now || (failure_every > 0 && request % failure_every == 7) {
                if killed_now {
                    failures.read += 1;
                } else {
                    failures.timeout += 1;
                }
                this_second.2 += 1;
                continue;
            }
            all.record(latency);
            this_second.0.record(latency);
            if basis == LatencyBasis::Corrected {
                service_only.record(service);
            }
            *bytes += if matches!(work, Work::Health) { 15 } else { 60 };
        }
        seconds.push(this_second);
    }
    let in_flight = in_flight_at_close(phase, &per_endpoint, rate, total_weight);
    let endpoint_stats: Vec<EndpointStats> = phase
        .endpoints
        .iter()
        .zip(&per_endpoint)
        .zip(&in_flight)
        .map(|(((path, _, _), (all, service, failures, bytes)), ages)| {
            stats(path, all, basis.eq(&LatencyBasis::Corrected).then_some(service), *failures, *bytes, ages)
        })
        .collect();
    let mut all_in_flight = latencies();
    for ages in &in_flight {
        all_in_flight.add(ages).expect("histograms add");
    }
    let mut all = latencies();
    let mut service = latencies();
    let mut failures = FailureCounts::default();
    let mut bytes = 0;
    for (latencies, service_time, failed, content) in &per_endpoint {
        all.add(latencies).expect("histograms add");
        service.add(service_time).expect("histograms add");
        failures.add(failed);
        bytes += content;
    }
    let corrected = (basis == LatencyBasis::Corrected).then_some(&service);
    let aggregated = stats(loadgen::AGGREGATED_NAME, &all, corrected, failures, bytes, &all_in_flight);
    let timeline = seconds
        .iter()
        .enumerate()
        .map(|(second, (latencies, requests, errors))| SecondStats {
            second: second as u64,
            requests: *requests,
            errors: *errors,
            p50_us: latencies.percentile(50.0),
            p99_us: latencies.percentile(99.0),
            histogram: encode(&latencies.histogram),
        })
        .collect();
    let model_name = match phase.load {
        LoadModel::Users { .. } => loadgen::Model::Users,
        LoadModel::Concurrency { .. } => loadgen::Model::Concurrency,
        LoadModel::Rate { .. } => loadgen::Model::Rate,
    };
    let rate_stats = match phase.load {
        LoadModel::Rate { rate_per_s, .. } => {
            let scheduled = (rate_per_s * DURATION_S) as u64;
            Some(RateStats {
                target_per_second: rate_per_s,
                achieved_per_second: aggregated.count as f64 / DURATION_S,
                scheduled,
                sent: aggregated.count,
                max_send_lag_us: 900,
                kept_up: aggregated.count + 16 >= scheduled,
                warmup_scheduled: (rate_per_s * WARMUP_S) as u64,
                not_sent: InFlightStats::default(),
            })
        }
        _ => None,
    };
    let started_ms = 1_767_268_800_000 + (u64::from(repetition) * 9 + index as u64) * 6_000;
    let window_start_us = (started_ms + (WARMUP_S * 1000.0) as u64) * 1000;
    let agent = loadgen::AgentWindow {
        id: "fixture-host".into(),
        host: "fixture-host".into(),
        start_at_unix_us: None,
        window_start_unix_us: window_start_us,
        window_end_unix_us: window_start_us + (DURATION_S * 1e6) as u64,
        first_request_unix_us: Some(started_ms * 1000 + 250),
        requests: aggregated.count,
    };
    let aggregated_responses = aggregated.count - aggregated.failures.without_response();
    let load = LoadReport {
        model: model_name,
        started_at_unix_ms: started_ms + (WARMUP_S * 1000.0) as u64,
        duration_secs: DURATION_S,
        warmup_requests: (rate * WARMUP_S) as u64,
        cancelled: false,
        latency_basis: basis,
        endpoints: endpoint_stats,
        aggregated,
        timeline,
        rate: rate_stats,
        agents: vec![agent],
        responses_per_worker: header_counts(model, aggregated_responses),
        statuses: Default::default(),
    };
    let cores_used = match phase.endpoints[0].1 {
        Work::Io => 0.05 + rate * model.overhead_us * 2.0 / 1e6,
        _ => (rate * mean_service / 1e6).min(parallel) * 0.98,
    };
    PhaseResult {
        name: phase.name.into(),
        endpoints: phase
            .endpoints
            .iter()
            .map(|(path, work, weight)| EndpointShare {
                path: (*path).into(),
                weight: *weight,
                cpu_work: matches!(work, Work::Cpu).then(|| cpu_work(model)),
            })
            .collect(),
        load_model: phase.load.clone(),
        load_description: phase.description.into(),
        repetition,
        warmup_s: WARMUP_S,
        duration_s: DURATION_S,
        started_at: format!(
            "2026-01-01T12:{:02}:{:02}Z",
            (repetition * 9 + index as u32) / 10,
            ((repetition * 9 + index as u32) % 10) * 6
        ),
        interrupted: false,
        worker_requests: (model.kind == TargetKind::Prefork).then(|| worker_split(model, load.aggregated.count)),
        load,
        resources: resources(model, phase, cores_used, noise),
        hlog: Some(format!("{}.{}.r{repetition}.hlog", model.name, phase.name)),
        cores: Some(vec![0, 1]),
        kill: (phase.name == KILL_PHASE).then(|| WorkerKill {
            at_ms: KILL_AT_MS,
            pid: if whole_server(model) { 4100 } else { 4201 },
            whole_server: whole_server(model),
        }),
    }
}

/// Requests unanswered at the close, by Little's law (throughput x mean latency), spread over the endpoints by
/// weight, their ages even over [0, the endpoint's mean latency).
fn in_flight_at_close(
    phase: &Phase,
    per_endpoint: &[(Latencies, Latencies, FailureCounts, u64)],
    rate: f64,
    total_weight: u32,
) -> Vec<Latencies> {
    phase
        .endpoints
        .iter()
        .zip(per_endpoint)
        .map(|((_, _, weight), (all, _, _, _))| {
            let share = rate * f64::from(*weight) / f64::from(total_weight);
            let requests = (share * all.mean() / 1e6).round() as u64;
            let mut ages = latencies();
            for k in 0..requests {
                ages.record((all.mean() * k as f64 / requests as f64) as u64);
            }
            ages
        })
        .collect()
}

/// What the driver's calibration would have found for `cpu_work = "2ms"` on this model.
fn cpu_work(model: &Model) -> CpuWork {
    let (iterations, off) = match model.family {
        Family::Rust => (2_860_000, 0.006 * (model.name.len() % 3) as f64 - 0.006),
        Family::Python | Family::External => (36_400, 0.011),
    };
    CpuWork { requested_s: 0.002, iterations, measured_s: 0.002 * (1.0 + off), samples: 15, probes: 3 }
}

fn stats(
    name: &str,
    latencies: &Latencies,
    service: Option<&Latencies>,
    failures: FailureCounts,
    bytes: u64,
    in_flight: &Latencies,
) -> EndpointStats {
    let count = latencies.samples() + failures.without_response();
    let responses = latencies.samples();
    EndpointStats {
        name: name.into(),
        count,
        failures,
        latency: summary(latencies),
        service_time: service.map(summary),
        requests_per_second: count as f64 / DURATION_S,
        failures_per_second: failures.total() as f64 / DURATION_S,
        avg_content_size: if responses > 0 { bytes as f64 / responses as f64 } else { 0.0 },
        content_bytes: bytes,
        in_flight: InFlightStats::of(in_flight),
    }
}

fn summary(latencies: &Latencies) -> LatencySummary {
    LatencySummary::of(latencies)
}

fn resources(model: &Model, phase: &Phase, cores_used: f64, noise: &mut Noise) -> Resources {
    let mib = 1024.0 * 1024.0;
    let processes = if model.kind == TargetKind::Prefork { model.workers + 1 } else { 1 };
    let threads = match (model.kind, phase.load.clone()) {
        (TargetKind::Sync, LoadModel::Concurrency { connections }) => 2 + connections.min(64),
        (TargetKind::External, _) => 3,
        _ => processes,
    };
    let mut samples = Vec::new();
    let mut cpu = 0.0;
    let mut t_ms = -(WARMUP_S * 1000.0) as i64;
    while t_ms <= (DURATION_S * 1000.0) as i64 {
        let warming = if t_ms < 0 { 0.6 } else { 1.0 };
        cpu += cores_used * warming * (0.9 + 0.2 * noise.next()) * SAMPLE_EVERY_MS as f64 / 1000.0;
        let growth = 1.0 + 0.05 * (t_ms as f64 + 1000.0) / 5000.0;
        let rss = model.rss_mib * mib * growth;
        samples.push(ResourceSample {
            t_ms,
            cpu_user_s: round4(cpu * 0.8),
            cpu_system_s: round4(cpu * 0.2),
            rss_bytes: rss as u64,
            pss_bytes: Some((rss * if processes > 1 { 0.7 } else { 0.95 }) as u64),
            threads,
            processes,
        });
        t_ms += SAMPLE_EVERY_MS;
    }
    let measured: Vec<&ResourceSample> = samples.iter().filter(|s| s.t_ms >= 0).collect();
    let (first, last) = (measured[0], measured[measured.len() - 1]);
    let cpu_user_s = last.cpu_user_s - first.cpu_user_s;
    let cpu_system_s = last.cpu_system_s - first.cpu_system_s;
    let summary = ResourceSummary {
        cpu_cores_avg: (cpu_user_s + cpu_system_s) / ((last.t_ms - first.t_ms) as f64 / 1000.0),
        cpu_user_s,
        cpu_system_s,
        rss_peak_bytes: samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
        pss_peak_bytes: samples.iter().filter_map(|s| s.pss_bytes).max(),
        threads_peak: threads,
        processes_peak: processes,
    };
    Resources { samples, summary }
}

/// An empty recorder sized for 60 s, so no value is clamped whatever the loadgen version's default sizing.
fn latencies() -> Latencies {
    let histogram = hdrhistogram::Histogram::new_with_max(60_000_000, loadgen::histogram::SIGNIFICANT_DIGITS)
        .expect("1..60e6 at 3 significant digits is a valid range");
    Latencies { histogram, min_us: u64::MAX, max_us: 0, sum_us: 0 }
}

fn round4(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}

fn worker_split(model: &Model, total: u64) -> Vec<WorkerRequests> {
    match model.workers {
        1 => vec![WorkerRequests { index: 0, pid: 4101, requests: total }],
        // A handful of keep-alive connections can all land on one worker: the other then serves nothing.
        _ if total < 20 => vec![
            WorkerRequests { index: 0, pid: 4201, requests: total },
            WorkerRequests { index: 1, pid: 4202, requests: 0 },
        ],
        _ => {
            let first = total * 53 / 100;
            vec![
                WorkerRequests { index: 0, pid: 4201, requests: first },
                WorkerRequests { index: 1, pid: 4202, requests: total - first },
            ]
        }
    }
}

/// What the load generator counts from `x-worker-pid`: the same split as the master's stats, but a worker that
/// answered nothing sent no header and is absent.
fn header_counts(model: &Model, responses: u64) -> WorkerCounts {
    let workers = worker_split(model, responses)
        .into_iter()
        .filter(|worker| worker.requests > 0)
        .map(|worker| WorkerCount { pid: worker.pid, responses: worker.requests })
        .collect();
    WorkerCounts { workers, ..WorkerCounts::default() }
}

const SUITE_TEXT: &str = r#"# The report's test fixture: synthetic numbers from a queueing model, real shapes.
name = "fixture"
repetitions = 3
warmup = "1s"
duration = "3s"

[upstream]
delay = "100ms"

[pinning]
targets = [0, 1]
load = [2]
upstream = [3]

[[target]]
name = "sync"
serve = "sync --max-threads 64"

[[target]]
name = "async"
serve = "async --threads 1"

[[target]]
name = "prefork-w1"
serve = "prefork -w 1 -k async --stats"

[[target]]
name = "prefork-w2"
serve = "prefork -w 2 -k async --stats"

[[target]]
name = "uvicorn"
command = "uvicorn main:app --host 127.0.0.1 --port {port}"

[[target]]
name = "uvicorn-improved"
command = "uvicorn improved:app --host 127.0.0.1 --port {port}"
variant_of = "uvicorn"

[[target]]
name = "gunicorn-sync-w2"
command = "gunicorn -w 2 main_wsgi:app --bind 127.0.0.1:{port}"

[[phase]]
name = "cpu-c2"
task = ["/cpu-intensive"]
cpu_work = "2ms"
connections = 2

[[phase]]
name = "cpu-c8"
task = ["/cpu-intensive"]
cpu_work = "2ms"
connections = 8

[[phase]]
name = "memory-c8"
task = ["/memory-intensive"]
connections = 8

[[phase]]
name = "sync-io-c32"
task = ["/sync-google"]
connections = 32

[[phase]]
name = "async-io-c16"
task = ["/async-google"]
connections = 16

[[phase]]
name = "async-io-c64"
task = ["/async-google"]
connections = 64

[[phase]]
name = "article-locust"
task = ["/cpu-intensive:1", "/memory-intensive:1"]
users = 10
think = "1s..5s"

[[phase]]
name = "kill-c8"
task = ["/cpu-intensive"]
connections = 8
kill_worker_at = "1200ms"

[[phase]]
name = "health-rate"
task = ["/health"]
rate = 2000
connections = 16

[[phase]]
name = "cpu-literal-100k"
task = ["/cpu-intensive?iterations=100000"]
connections = 8
"#;
