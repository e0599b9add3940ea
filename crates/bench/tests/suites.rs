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
        total += (phase.warmup + phase.duration) * runs * suite.repetitions;
    }
    total
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
    assert!(suite.phases.iter().filter(|phase| phase.name.starts_with("sweep-")).count() >= 3, "a concurrency sweep");
    let workers = suite.phases.iter().find(|phase| phase.name == "workers-cpu").expect("a worker sweep");
    assert_eq!(workers.targets.as_ref().map(Vec::len), Some(3));
    // Start and stop of each target come on top: keep the load itself well under 5 minutes.
    assert!(load_time(&suite) <= Duration::from_secs(220), "{:?}", load_time(&suite));
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

#[test]
fn python_peers_fits_its_budget_and_runs_the_claims_phases() {
    let suite = suite("python-peers.toml");
    // Python peers take a few seconds each to start: keep the load itself near 3 minutes for a ~6 minute run.
    assert!(load_time(&suite) <= Duration::from_secs(200), "{:?}", load_time(&suite));
    let kill = suite.phases.iter().find(|phase| phase.kill_worker_at.is_some()).expect("a kill phase");
    assert!(kill.includes("py-uvicorn") && kill.includes("py-gunicorn-uvicorn-2"));
    let sweep: Vec<&str> =
        suite.phases.iter().filter(|p| p.name.starts_with("sweep-sync-google")).map(|p| p.name.as_str()).collect();
    assert!(sweep.contains(&"sweep-sync-google-c32") && sweep.contains(&"sweep-sync-google-c64"), "{sweep:?}");
    let variants: Vec<&str> = suite.targets.iter().filter_map(|target| target.variant_of.as_deref()).collect();
    assert_eq!(variants, ["py-uvicorn", "py-gunicorn-uvicorn-2"]);
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
    ];
    for field in fields {
        assert!(readme.contains(&format!("| `{field}` |")), "bench-suite/README.md has no row for `{field}`");
    }
}
