//! Writes `tests/fixtures/small.json`: a small, synthetic but schema-valid results file whose numbers are made up
//! (a simple queueing model plus seeded noise) and whose shapes are real loadgen reports, so every chart and table
//! of the report has something to draw, including a failed target, an improved variant of uvicorn and a phase that
//! kills a worker. By design prefork-w2 wins /cpu-intensive (its phases calibrated to 2 ms of CPU per request with
//! `cpu_work`; one more phase sends the article's literal 100,000 iterations), async wins /async-google, and async
//! and prefork-w1 (the same model) are level on /memory-intensive.
//! Regenerate with `cargo run -p analysis --example make_fixture`.

use std::path::PathBuf;

use loadgen::histogram::{encode, Latencies};
use loadgen::{
    EndpointStats, FailureCounts, InFlightStats, LatencyBasis, LatencySummary, LoadReport, RateStats, SecondStats,
    WorkerCount, WorkerCounts,
};
use results::*;

mod phase;

use phase::*;

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
    UpstreamHolds {
        hold: summary(&hold),
        late: summary(&late),
        spun_us: Some(2_400_000),
        ran_us: Some(160_000_000),
        tls: Some(tls),
    }
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
        keep_alive: None,
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
        keep_alive: None,
    }
}

const SUITE_TEXT: &str = include_str!("suite.toml");
