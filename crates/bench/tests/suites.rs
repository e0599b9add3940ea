//! The shipped suites (bench-suite/*.toml) parse, plan on two cores, and fit their time budgets on paper.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bench::pinning::Pinning;
use bench::suite::{Launch, Suite};

fn suite(name: &str) -> Suite {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-suite").join(name);
    Suite::load(&path).unwrap_or_else(|error| panic!("{error}"))
}

/// Warm-up plus measured time of every run: a lower bound of the wall time.
fn load_time(suite: &Suite) -> Duration {
    let mut total = Duration::ZERO;
    for phase in &suite.phases {
        let runs = suite.targets.iter().filter(|target| phase.includes(&target.name)).count() as u32;
        total += (phase.warmup + phase.duration) * runs * phase.repetitions;
    }
    total
}

/// Single-endpoint phases on /cpu-intensive: (name, cpu_work, path and query).
fn cpu_phases(suite: &Suite) -> Vec<(&str, Option<Duration>, &str)> {
    suite
        .phases
        .iter()
        .filter_map(|phase| match phase.tasks.as_slice() {
            [task] if task.path_and_query.starts_with("/cpu-intensive") => {
                Some((phase.name.as_str(), task.cpu_work, task.path_and_query.as_str()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn shipped_suites_parse_and_plan_on_two_cores() {
    for name in ["default.toml", "article.toml", "quick.toml", "python-peers.toml"] {
        let suite = suite(name);
        Pinning::plan(&suite, &[0, 1]).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(suite.run_count() > 0, "{name}");
        assert!(suite.upstream.tls, "{name}: google.com, which the upstream stands for, costs a TLS handshake");
    }
}

#[test]
fn default_covers_each_model_and_endpoint_with_sweeps_within_five_minutes() {
    let suite = suite("default.toml");
    for endpoint in ["/cpu-intensive", "/memory-intensive", "/sync-google", "/async-google"] {
        assert!(
            suite.phases.iter().any(|phase| phase.tasks.iter().any(|task| task.path_and_query == endpoint)),
            "{endpoint}"
        );
    }
    let serves: Vec<String> = suite
        .targets
        .iter()
        .filter_map(|target| match &target.launch {
            Launch::BuiltIn { model, flags } => Some(format!("{model} {}", flags.join(" "))),
            Launch::External { .. } => None,
        })
        .collect();
    for model in [
        "sync --max-threads 64",
        "async --threads 1",
        "async --threads 2",
        "prefork -w 2 -k async",
        "prefork -w 2 -k sync --max-threads 1 --no-keepalive",
    ] {
        assert!(serves.iter().any(|serve| serve == model), "{model} in {serves:?}");
    }
    let sync_google: Vec<u32> = suite
        .phases
        .iter()
        .filter(|phase| phase.tasks.iter().any(|task| task.path_and_query == "/sync-google"))
        .filter_map(|phase| match phase.load {
            bench::suite::LoadSpec::Concurrency { connections } => Some(connections),
            _ => None,
        })
        .collect();
    assert!(sync_google.len() >= 3 && sync_google.contains(&64), "a concurrency sweep up to 64: {sync_google:?}");
    let workers = suite.phases.iter().find(|phase| phase.name == "workers-cpu").expect("a worker sweep");
    assert_eq!(workers.targets.as_ref().map(Vec::len), Some(3));
    assert!(serves.iter().any(|serve| serve == "prefork -w 2 -k async --accept shared"), "gunicorn's exact accept");
    let accept = suite.phases.iter().find(|phase| phase.name == "accept-cpu").expect("balanced against shared accept");
    let expected = ["prefork-async-2", "prefork-async-2-shared"].map(String::from).to_vec();
    assert_eq!(accept.targets.as_ref(), Some(&expected));
    assert!(accept.tasks.iter().all(|task| task.path_and_query.starts_with("/cpu-intensive")));
    // The verdict calls a lead only over 3 repetitions or more.
    for phase in ["cpu", "memory", "sync-google", "async-google", "workers-cpu"] {
        let phase = suite.phases.iter().find(|each| each.name == phase).expect(phase);
        assert!(phase.repetitions >= 3, "{}: {}", phase.name, phase.repetitions);
    }
    // Calibration, start, drain and stop of each target (about 0.5 s a run) come on top: 150 s of load is a run
    // of about 3.2 minutes, leaving room under 3.5 for phases of other purposes.
    assert!(load_time(&suite) <= Duration::from_secs(150), "{:?}", load_time(&suite));
}

#[test]
fn cpu_phases_ask_for_cpu_time_and_one_keeps_the_articles_loop() {
    let two_ms = Some(Duration::from_millis(2));
    for name in ["default.toml", "quick.toml", "python-peers.toml"] {
        let suite = suite(name);
        let phases = cpu_phases(&suite);
        assert!(!phases.is_empty(), "{name}");
        for (phase, cpu_work, path) in phases {
            if phase.contains("literal-100k") {
                assert_eq!((cpu_work, path), (None, "/cpu-intensive?iterations=100000"), "{name}: {phase}");
            } else {
                assert_eq!(cpu_work, two_ms, "{name}: {phase} sends {path}");
            }
        }
    }
    let default = suite("default.toml");
    assert!(cpu_phases(&default).iter().any(|(phase, _, _)| *phase == "cpu-literal-100k"));
}

#[test]
fn quick_fits_in_a_minute_and_article_is_the_articles_locust_run() {
    assert!(load_time(&suite("quick.toml")) <= Duration::from_secs(45));
    let article = suite("article.toml");
    let phase = &article.phases[0];
    assert_eq!(
        phase.load,
        bench::suite::LoadSpec::Users { users: 10, think: (Duration::from_secs(1), Duration::from_secs(5)) }
    );
    let paths: Vec<(&str, u32)> = phase.tasks.iter().map(|task| (task.path_and_query.as_str(), task.weight)).collect();
    assert_eq!(paths, [("/cpu-intensive", 1), ("/memory-intensive", 1)]);
    // The article's two commands, word for word up to the bind address.
    let commands: Vec<String> = article
        .targets
        .iter()
        .filter_map(|target| match &target.launch {
            Launch::External { command, .. } => Some(command.join(" ")),
            Launch::BuiltIn { .. } => None,
        })
        .collect();
    assert!(commands.iter().any(|command| command.contains("/uvicorn main:app --port")), "{commands:?}");
    let article_gunicorn = "/gunicorn -w 4 -k uvicorn.workers.UvicornWorker main:app --bind";
    assert!(commands.iter().any(|command| command.contains(article_gunicorn)), "{commands:?}");
}

/// Wall time of a suite's runs: warm-up and measured time plus each run's start, readiness and stop, as measured on
/// this 2-core machine (a smoke of the python-peers targets, 2026-12-04, load average ~2: fresh runs began every
/// 3.4 s for a Python peer and 2.75 s for a Rust model on a 2.5 s phase; 4.1 s for a Python peer before an upstream
/// phase, which adds a preflight GET; 3.0 s assumed for a Rust model there).
fn wall_time(suite: &Suite) -> Duration {
    let mut total = Duration::from_secs(15); // the upstream, and each CPU target's calibration before the first phase
    for phase in &suite.phases {
        let upstream = phase.tasks.iter().any(|task| task.path_and_query.contains("google"));
        for target in suite.targets.iter().filter(|target| phase.includes(&target.name)) {
            let python = matches!(target.launch, Launch::External { .. });
            let start_ms = match (python, upstream) {
                (true, false) => 900,
                (true, true) => 1600,
                (false, false) => 250,
                (false, true) => 500,
            };
            total += (phase.warmup + phase.duration + Duration::from_millis(start_ms)) * phase.repetitions;
        }
    }
    total
}

#[test]
fn python_peers_fits_its_budget_and_runs_the_claims_phases() {
    let suite = suite("python-peers.toml");
    // `make bench-python` must finish within 10 minutes here, with 3 interleaved repetitions of every phase a
    // verdict compares (the sweep and the kill run once).
    assert!(wall_time(&suite) <= Duration::from_secs(600), "{:?}", wall_time(&suite));
    for phase in &suite.phases {
        let once = phase.name.starts_with("sweep-sync-google") || phase.kill_worker_at.is_some();
        assert_eq!(phase.repetitions, if once { 1 } else { 3 }, "{}", phase.name);
    }
    let kill = suite.phases.iter().find(|phase| phase.kill_worker_at.is_some()).expect("a kill phase");
    assert!(kill.includes("py-uvicorn") && kill.includes("py-gunicorn-uvicorn-2"));
    let sweep: Vec<&str> =
        suite.phases.iter().filter(|p| p.name.starts_with("sweep-sync-google")).map(|p| p.name.as_str()).collect();
    assert!(sweep.contains(&"sweep-sync-google-c8") && sweep.contains(&"sweep-sync-google-c64"), "{sweep:?}");
    let variants: Vec<&str> = suite.targets.iter().filter_map(|target| target.variant_of.as_deref()).collect();
    assert_eq!(variants, ["py-uvicorn"]);
    let cpu = suite.phases.iter().find(|phase| phase.name == "cpu").expect("a cpu phase");
    for peer in ["py-uvicorn-workers-2", "py-gunicorn-gthread-2", "py-granian-2", "py-hypercorn-2"] {
        assert!(cpu.includes(peer), "{peer} runs the cpu phase");
    }
}

#[test]
fn the_readme_documents_every_field() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench-suite/README.md")).unwrap();
    let fields = [
        "name",
        "description",
        "repetitions",
        "delay",
        "jitter",
        "body_bytes",
        "target_cores",
        "load_cores",
        "upstream_cores",
        "load_threads",
        "serve",
        "command",
        "ready_url",
        "cwd",
        "env",
        "family",
        "workers",
        "threads",
        "cores",
        "ready_timeout",
        "stop_grace",
        "load",
        "users",
        "think",
        "connections",
        "rate",
        "duration",
        "warmup",
        "timeout",
        "targets",
        "tasks",
        "kill_worker_at",
        "variant_of",
        "path",
        "weight",
        "query",
        "cpu_work",
    ];
    for field in fields {
        assert!(readme.contains(&format!("| `{field}` |")), "bench-suite/README.md has no row for `{field}`");
    }
}
