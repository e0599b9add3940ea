//! `rustcorn bench run` end to end: real targets (the rustcorn binary's own servers), the real upstream, the load
//! generator, /proc sampling, the results folder; Ctrl-C mid-run; bad suites and bad targets.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::Process;

/// Locust's `_stats.csv` header, byte for byte.
const LOCUST_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,\
99.9%,99.99%,100%\n";

/// A fresh folder for one test's suite and results.
fn workdir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rustcorn-bench-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    dir
}

fn write_suite(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("suite.toml");
    std::fs::write(&path, text).expect("write the suite");
    path
}

fn bench_run(suite: &Path, results: &Path, extra: &[&str]) -> Process {
    let mut args = vec!["bench", "run", suite.to_str().unwrap(), "--results-dir", results.to_str().unwrap()];
    args.extend_from_slice(extra);
    Process::spawn(&args)
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).expect("results.json is JSON")
}

fn assert_valid_against_schema(results: &serde_json::Value) {
    assert_valid_against("../results/schema/results.schema.json", results);
}

fn assert_valid_against(schema: &str, instance: &serde_json::Value) {
    let schema = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join(schema));
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|error| format!("{error} at {}", error.instance_path())).collect();
    assert!(errors.is_empty(), "the file does not match the schema: {errors:#?}");
}

/// Runs `suite_text` in a fresh folder, which must end with exit 0; returns the folder and the latest results, checked
/// against the schema.
fn run_to_the_end(test: &str, suite_text: &str, limit: Duration) -> (PathBuf, serde_json::Value) {
    let dir = workdir(test);
    let suite = write_suite(&dir, suite_text);
    let results_dir = dir.join("results");
    let mut run = bench_run(&suite, &results_dir, &[]);
    let status = run.wait_exit(limit).expect("the run ends");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", run.stderr());
    let results = read_json(&results_dir.join("latest/results.json"));
    assert_valid_against_schema(&results);
    (dir, results)
}

fn target<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no target {name}"))
}

/// `untrusting` is the async model started as an external command without `--upstream-ca`: the driver gives
/// external targets the CA through SSL_CERT_FILE, which rustcorn does not read, so it fails verification.
const TINY: &str = r#"
name = "tiny"

[upstream]
tls = true

[[targets]]
name = "sync"
serve = "sync --max-threads 8"

[[targets]]
name = "async"
serve = "async --threads 1"

[[targets]]
name = "broken"
command = ["sh", "-c", "echo 'starting the broken server' >&2; echo 'fatal: cannot bind' >&2; exit 3"]
ready_url = "http://127.0.0.1:9/health"

[[targets]]
name = "untrusting"
command = ["RUSTCORN", "serve", "async", "--bind", "127.0.0.1:PORT", "--upstream", "{upstream}"]
ready_url = "http://127.0.0.1:PORT/health"

[[phases]]
name = "cpu"
load = "concurrency"
connections = 4
warmup = "300ms"
duration = "1s"
targets = ["sync", "async", "broken"]
tasks = [{ path = "/cpu-intensive", query = { iterations = 200000 } }]

[[phases]]
name = "memory"
load = "concurrency"
connections = 4
duration = "1s"
targets = ["sync", "async", "broken"]
tasks = [{ path = "/memory-intensive" }]

[[phases]]
name = "io"
load = "concurrency"
connections = 4
duration = "1s"
targets = ["async", "untrusting"]
tasks = [{ path = "/async-google" }]
"#;

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}

#[test]
fn heavy_bench_run_end_to_end_tiny_suite() {
    let dir = workdir("e2e");
    let tiny = TINY.replace("RUSTCORN", env!("CARGO_BIN_EXE_rustcorn")).replace("PORT", &free_port().to_string());
    let suite = write_suite(&dir, &tiny);
    let results_dir = dir.join("results");
    let mut run = bench_run(&suite, &results_dir, &[]);
    let status = run.wait_exit(Duration::from_secs(240)).expect("the run ends");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", run.stderr());

    let latest = results_dir.join("latest");
    let results = read_json(&latest.join("results.json"));
    assert_valid_against_schema(&results);
    let findings = read_json(&latest.join("findings.json"));
    assert_valid_against("../analysis/schema/findings.schema.json", &findings);
    assert_eq!(findings["run_id"], results["run_id"], "findings.json is written beside its results");
    let recorded = &target(&results, "sync")["keep_alive"];
    assert_eq!(recorded, &serde_json::json!({ "policy": "bounded", "requests": 100 }), "the sync model's default");
    assert_eq!(target(&results, "async")["keep_alive"], serde_json::Value::Null, "a policy of the sync model only");
    assert_eq!(results["partial"], false);
    assert_eq!(results["suite"]["name"], "tiny");
    assert!(results["suite"]["text"].as_str().unwrap().contains("[[phases]]"));
    assert_eq!(results["pinning"]["load_cores"].as_array().unwrap().len(), 1);

    // The failing target is reported with its stderr, the others are measured on both endpoints.
    let broken = target(&results, "broken");
    assert_eq!(broken["status"]["state"], "failed", "{broken}");
    let tail: Vec<&str> =
        broken["status"]["stderr_tail"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(tail, ["starting the broken server", "fatal: cannot bind"]);
    assert!(broken["phases"].as_array().unwrap().is_empty());
    for name in ["sync", "async"] {
        let measured = target(&results, name);
        assert_eq!(measured["status"]["state"], "ok", "{name}");
        let phases = measured["phases"].as_array().unwrap();
        assert_eq!(phases.len(), if name == "async" { 3 } else { 2 }, "{name}: every phase it is in measured");
        for phase in phases {
            let load = &phase["load"]["aggregated"];
            assert!(load["count"].as_u64().unwrap() > 0, "{name}/{}: requests were measured", phase["name"]);
            assert_eq!(load["failures"]["status"], 0, "{name}/{}", phase["name"]);
            let samples = phase["resources"]["samples"].as_array().unwrap();
            assert!(samples.len() >= 5, "{name}/{}: ~100 ms samples over >1 s, got {}", phase["name"], samples.len());
            assert!(samples
                .iter()
                .all(|s| s["rss_bytes"].as_u64().unwrap() > 0 && s["processes"].as_u64().unwrap() >= 1));
            assert!(phase["resources"]["summary"]["rss_peak_bytes"].as_u64().unwrap() > 1024 * 1024);
            let hlog = phase["hlog"].as_str().expect("an hlog per phase");
            assert!(latest.join(hlog).is_file(), "{hlog}");
        }
        let cpu = &phases[0];
        assert_eq!(cpu["name"], "cpu");
        let last = cpu["resources"]["samples"].as_array().unwrap().last().unwrap().clone();
        let cpu_seconds = last["cpu_user_s"].as_f64().unwrap() + last["cpu_system_s"].as_f64().unwrap();
        assert!(cpu_seconds > 0.0, "{name}: CPU time on /cpu-intensive");
        assert!(cpu["resources"]["summary"]["cpu_cores_avg"].as_f64().unwrap() > 0.0);
    }

    // The upstream's own record of its holds: every /async-google answer waited on one of them.
    let io_answers = target(&results, "async")["phases"][2]["load"]["aggregated"]["count"].as_u64().unwrap();
    let holds = &results["upstream"]["holds"];
    let held = holds["hold"]["samples"].as_u64().expect("results.json has the upstream's hold record");
    assert!(io_answers > 0 && held >= io_answers, "{held} holds recorded for {io_answers} /async-google answers");
    assert!(holds["hold"]["min_us"].as_u64().unwrap() >= 100_000, "no hold is shorter than the 100 ms delay");

    // Over TLS, with the run's CA beside the results: the Rust targets were given it, the one that was not (it
    // trusts only the compiled-in roots) is refused before the phase, by name and with the certificate error.
    assert!(results["upstream"]["url"].as_str().unwrap().starts_with("https://127.0.0.1:"), "{}", results["upstream"]);
    assert!(latest.join("upstream-ca.pem").is_file());
    let tls = &holds["tls"];
    let negotiated = tls["handshakes"].as_array().expect("the upstream's handshake count");
    assert!(negotiated.iter().all(|n| n["version"] == "TLSv1.3"), "{tls}");
    assert!(negotiated.iter().map(|n| n["count"].as_u64().unwrap()).sum::<u64>() >= 1, "{tls}");
    assert!(tls["failed_handshakes"].as_u64().unwrap() >= 1, "the untrusting target's handshake: {tls}");
    let untrusting = target(&results, "untrusting");
    assert_eq!(untrusting["status"]["state"], "failed", "{untrusting}");
    let reason = untrusting["status"]["reason"].as_str().unwrap();
    assert!(reason.contains("/async-google") && reason.contains("UnknownIssuer"), "{reason}");
    assert!(untrusting["phases"].as_array().unwrap().is_empty(), "nothing measured against it");
    assert!(run.stderr().contains("untrusting: FAILED: cannot reach the upstream"), "{}", run.stderr());

    let csv = std::fs::read_to_string(latest.join("stats.csv")).expect("stats.csv");
    assert!(csv.starts_with(LOCUST_HEADER), "stats.csv header:\n{}", csv.lines().next().unwrap_or(""));
    assert!(csv.contains("\nGET,sync:cpu#0 /cpu-intensive?iterations=200000,"), "{csv}");
    assert!(csv.contains("\n,async:memory#0 Aggregated,"), "{csv}");
    std::fs::remove_dir_all(&dir).ok();
}

/// One worker of each target SIGKILLed 1.2 s into a 3 s phase: the prefork master's other worker serves on, the
/// single-process server serves nothing more and is not marked failed, and the report shows the seconds around it.
const KILL: &str = r#"
name = "kill"

[[targets]]
name = "async"
serve = "async --threads 1"

[[targets]]
name = "prefork"
serve = "prefork -w 2 -k async"

[[phases]]
name = "kill-worker"
load = "concurrency"
connections = 4
warmup = "300ms"
duration = "4s"              # a kill placed late (up to 2.5 s on a busy machine) still leaves a whole second after it
kill_worker_at = "1200ms"
tasks = [{ path = "/cpu-intensive", query = { iterations = 200000 } }]
"#;

/// (successful, failed) requests in each second of a phase's timeline.
fn seconds(phase: &serde_json::Value) -> Vec<(u64, u64)> {
    let timeline = phase["load"]["timeline"].as_array().expect("a timeline");
    timeline
        .iter()
        .map(|second| {
            let (requests, errors) = (second["requests"].as_u64().unwrap(), second["errors"].as_u64().unwrap());
            (requests - errors, errors)
        })
        .collect()
}

#[test]
fn heavy_bench_kill_phase_kills_one_worker_and_measures_on() {
    let dir = workdir("kill");
    let suite = write_suite(&dir, KILL);
    let results_dir = dir.join("results");
    let mut run = bench_run(&suite, &results_dir, &["--quiet"]);
    let status = run.wait_exit(Duration::from_secs(120)).expect("the run ends");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", run.stderr());
    let results = read_json(&results_dir.join("latest/results.json"));
    assert_valid_against_schema(&results);
    for (name, whole_server) in [("async", true), ("prefork", false)] {
        let measured = target(&results, name);
        assert_eq!(measured["status"]["state"], "ok", "{name}: a kill the phase asked for is no failure");
        let phase = &measured["phases"][0];
        let kill = &phase["kill"];
        assert_eq!(kill["whole_server"], whole_server, "{name}: {kill}");
        // Placed by the driver's clock against the load generator's start: within a poll of 1.2 s, wide margins.
        let at_ms = kill["at_ms"].as_i64().expect("the kill's time");
        assert!((1000..2500).contains(&at_ms), "{name}: killed at {at_ms} ms");
        let seconds = seconds(phase);
        let after = &seconds[(at_ms / 1000) as usize + 1..];
        assert!(!after.is_empty(), "{name}: {seconds:?}");
        if whole_server {
            assert!(after.iter().all(|&(ok, _)| ok == 0), "{name} served after its only process died: {seconds:?}");
            assert!(after.iter().all(|&(_, failed)| failed > 0), "{name}: requests fail once it is gone: {seconds:?}");
        } else {
            assert!(after.iter().all(|&(ok, _)| ok > 0), "{name}: the other worker serves on: {seconds:?}");
            assert_ne!(kill["pid"].as_u64(), None);
        }
        assert!(seconds[0].0 > 0, "{name} served before the kill: {seconds:?}");
    }
    let html = std::fs::read_to_string(results_dir.join("latest/report.html")).expect("report.html");
    assert!(html.contains("Around the kill") && html.contains("the whole server"), "the report shows the kill");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn heavy_bench_sigint_mid_run_leaves_valid_partial_results() {
    let dir = workdir("sigint");
    let suite = write_suite(
        &dir,
        r#"
[[targets]]
name = "async"
serve = "async"

[[phases]]
name = "short"
load = "concurrency"
connections = 2
duration = "1s"
tasks = [{ path = "/health" }]

[[phases]]
name = "long"
load = "concurrency"
connections = 2
duration = "120s"
tasks = [{ path = "/health" }]
"#,
    );
    let results_dir = dir.join("results");
    let mut run = bench_run(&suite, &results_dir, &[]);
    // Once the short phase is in results.json, the long one is under way.
    let results_path = results_dir.join("latest/results.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the short phase never finished; stderr:\n{}", run.stderr());
        if results_path.exists()
            && read_json(&results_path)["targets"][0]["phases"].as_array().is_some_and(|p| p.len() == 1)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    run.signal(libc::SIGINT);
    let status = run.wait_exit(Duration::from_secs(60)).expect("the run stops after SIGINT");
    assert_eq!(status.code(), Some(130), "stderr:\n{}", run.stderr());

    let results = read_json(&results_path);
    assert_valid_against_schema(&results);
    assert_eq!(results["partial"], true);
    let phases = results["targets"][0]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2, "the interrupted phase is kept");
    assert_eq!(phases[0]["interrupted"], false);
    assert_eq!(phases[1]["name"], "long");
    assert_eq!(phases[1]["interrupted"], true);
    assert!(phases[1]["load"]["duration_secs"].as_f64().unwrap() < 60.0);
    assert!(phases[1]["load"]["aggregated"]["count"].as_u64().unwrap() > 0);
    assert!(results_dir.join("latest/stats.csv").is_file());
    let upstream_url = results["upstream"]["url"].as_str().unwrap();
    assert!(
        processes_mentioning(upstream_url).is_empty(),
        "the target was stopped: {:?}",
        processes_mentioning(upstream_url)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Command lines of live processes that contain `needle` (targets get `--upstream URL`, unique to a run).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(cmdline);
        }
    }
    found
}

/// Runs a suite that must be refused: exit 2, the message, and no results folder.
fn refused(test: &str, suite_text: &str, extra: &[&str]) -> String {
    let dir = workdir(test);
    let suite = write_suite(&dir, suite_text);
    let results_dir = dir.join("results");
    let mut run = bench_run(&suite, &results_dir, extra);
    let status = run.wait_exit(Duration::from_secs(60)).expect("the run ends");
    let stderr = stderr_with(&run, "rustcorn: error");
    assert_eq!(status.code(), Some(2), "stderr:\n{stderr}");
    assert!(!results_dir.exists(), "nothing is written for bad input");
    std::fs::remove_dir_all(&dir).ok();
    stderr
}

/// The child's stderr once it holds `needle` (a thread copies it, so it can lag the exit), or after 10 s.
fn stderr_with(process: &Process, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stderr = process.stderr();
        if stderr.contains(needle) || Instant::now() >= deadline {
            return stderr;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const ONE_TARGET: &str = "[[targets]]\nname = \"sync\"\nserve = \"sync\"\n";
const ONE_PHASE: &str =
    "[[phases]]\nname = \"p\"\nload = \"concurrency\"\nconnections = 1\nduration = \"1s\"\ntasks = [{ path = \"/health\" }]\n";

#[test]
fn bench_suite_errors_name_file_line_and_field() {
    let unknown = format!("{ONE_TARGET}{}", ONE_PHASE.replace("duration", "conections = 3\nduration"));
    let stderr = refused("unknown-field", &unknown, &[]);
    assert!(stderr.contains("suite.toml:8:") && stderr.contains("conections"), "{stderr}");

    let wrong_type = format!("{ONE_TARGET}{}", ONE_PHASE.replace("connections = 1", "connections = \"many\""));
    let stderr = refused("wrong-type", &wrong_type, &[]);
    assert!(stderr.contains("suite.toml:7:") && stderr.contains("connections"), "{stderr}");

    let no_command = format!("[[targets]]\nname = \"peer\"\nready_url = \"http://127.0.0.1:9/\"\n{ONE_PHASE}");
    let stderr = refused("no-command", &no_command, &[]);
    assert!(
        stderr.contains("suite.toml:2:") && stderr.contains("field `command`") && stderr.contains("\"peer\""),
        "{stderr}"
    );
}

#[test]
fn bench_port_in_use_and_remote_targets_are_refused() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().unwrap().port();
    let suite = format!(
        "[[targets]]\nname = \"peer\"\ncommand = \"sleep 30\"\nready_url = \"http://127.0.0.1:{port}/health\"\n{ONE_PHASE}"
    );
    let stderr = refused("port-in-use", &suite, &[]);
    assert!(stderr.contains("\"peer\"") && stderr.contains("already in use"), "{stderr}");

    // A documentation address (TEST-NET-1): refused before any connection is tried.
    let remote = format!(
        "[[targets]]\nname = \"far\"\ncommand = \"sleep 30\"\nready_url = \"http://192.0.2.10:8080/health\"\n{ONE_PHASE}"
    );
    let stderr = refused("remote", &remote, &[]);
    assert!(stderr.contains("\"far\"") && stderr.contains("--allow-remote"), "{stderr}");
}

/// The `duration` (seconds) `/cpu-intensive?iterations=COUNT` reports, median of `requests` sequential requests
/// to a fresh `rustcorn serve MODEL`.
fn median_duration(model: &[&str], count: u64, requests: usize) -> f64 {
    let server = support::Server::start(model);
    let client = support::http_client();
    let url = server.url(&format!("/cpu-intensive?iterations={count}"));
    let mut durations: Vec<f64> = (0..requests)
        .map(|_| {
            let body: serde_json::Value = client.get(&url).send().and_then(|answer| answer.json()).expect("an answer");
            body["duration"].as_f64().expect("a duration")
        })
        .collect();
    durations.sort_by(f64::total_cmp);
    durations[requests / 2]
}

const CPU_WORK: &str = r#"
name = "cpu-work"

[[targets]]
name = "sync"
serve = "sync --max-threads 4"

[[targets]]
name = "async-1"
serve = "async --threads 1"

[[phases]]
name = "cpu"
load = "concurrency"
connections = 2
warmup = "200ms"
duration = "1s"
tasks = [{ path = "/cpu-intensive", cpu_work = "10ms" }]
"#;

#[test]
fn heavy_cpu_work_finds_each_targets_iterations_and_the_phase_sends_them() {
    let (dir, results) = run_to_the_end("cpu-work", CPU_WORK, Duration::from_secs(120));
    for name in ["sync", "async-1"] {
        let phase = &target(&results, name)["phases"][0];
        let work = &phase["endpoints"][0]["cpu_work"];
        assert_eq!(
            (work["requested_s"].as_f64(), phase["endpoints"][0]["path"].as_str()),
            (Some(0.010), Some("/cpu-intensive"))
        );
        let (count, measured) = (work["iterations"].as_u64().unwrap(), work["measured_s"].as_f64().unwrap());
        assert!((measured / 0.010 - 1.0).abs() <= 0.05, "{name}: {work}");
        // A fresh server, asked for that count by another client, reports about the same cost. The endpoint times
        // its loop by the wall clock, which a busy shared core stretches (+51 % seen while a build ran beside it):
        // within a factor of 2, which a count that is not the calibrated one misses by far (the default count costs
        // about 0.8 ms in the debug build the tests run, a twelfth of the work asked).
        let again = median_duration(&["serve", "sync"], count, 25);
        assert!(
            (0.5..=2.0).contains(&(again / 0.010)),
            "{name}: {count} iterations cost {again} s now, {measured} s then"
        );
        // The phase sent that count: each request cost the target CPU time of the order of its work. The work was
        // timed by the wall clock, which time the core gave to others (or the hypervisor took) stretches: CI saw
        // 0.73x of it in CPU time (with 2 ms of work). Within a factor of 2 again, which the default count misses by
        // far.
        let rps = phase["load"]["aggregated"]["requests_per_second"].as_f64().unwrap();
        let cpu_per_request = phase["resources"]["summary"]["cpu_cores_avg"].as_f64().unwrap() / rps;
        assert!(cpu_per_request >= 0.5 * measured, "{name}: {cpu_per_request} CPU-s per request, work {measured}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_cpu_work_out_of_reach_or_without_a_duration_is_refused_naming_the_target() {
    // The Rust endpoint refuses more than 1e9 iterations, well under a minute even in a debug build.
    let suite =
        CPU_WORK.replace("cpu_work = \"10ms\"", "cpu_work = \"60s\"").replace("tasks =", "timeout = \"120s\"\ntasks =");
    let stderr = refused("cpu-work-reach", &suite, &[]);
    assert!(stderr.contains("target \"sync\"") && stderr.contains("out of its reach"), "{stderr}");
    assert!(stderr.contains("the most it reached was") && stderr.contains("iterations=1000000001"), "{stderr}");

    // The upstream stand-in answers any path, with a body that is no endpoint's JSON.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = free.local_addr().unwrap().port();
    drop(free);
    let upstream = format!(
        "[[targets]]\nname = \"not-an-app\"\ncommand = [{:?}, \"upstream\", \"--bind\", \"127.0.0.1:{port}\", \"--delay\", \
         \"0ms\"]\nready_url = \"http://127.0.0.1:{port}/\"\n{}",
        env!("CARGO_BIN_EXE_rustcorn"),
        &CPU_WORK[CPU_WORK.find("[[phases]]").unwrap()..]
    );
    let stderr = refused("cpu-work-duration", &upstream, &[]);
    assert!(stderr.contains("target \"not-an-app\"") && stderr.contains("without a \"duration\" number"), "{stderr}");
}

/// sync's 8 threads on a 100 ms upstream serve at most 80 req/s (Little's law); the event loop, far more.
const CAPACITY: &str = r#"
name = "capacity"

[upstream]
delay = "100ms"

[[targets]]
name = "sync"
serve = "sync --max-threads 8"

[[targets]]
name = "async-1"
serve = "async --threads 1"

[[phases]]
name = "io-capacity"
load = "capacity"
objective = "p99 <= 250ms"
start_rate = 40
max_rate = 640
confirmations = 2
step_requests = 200
duration = "1s"
tasks = [{ path = "/async-google" }]
"#;

#[test]
fn heavy_capacity_phase_searches_confirms_and_judges_each_target() {
    let (dir, results) = run_to_the_end("capacity", CAPACITY, Duration::from_secs(300));
    let latest = dir.join("results/latest");
    let findings = read_json(&latest.join("findings.json"));
    assert_valid_against("../analysis/schema/findings.schema.json", &findings);

    let estimates = |name: &str| -> Vec<f64> {
        let phases = target(&results, name)["phases"].as_array().expect("phases").clone();
        assert_eq!(phases.len(), 3, "{name}: the search and 2 confirmation rounds");
        let parts: Vec<&str> = phases.iter().map(|phase| phase["capacity"]["part"].as_str().unwrap()).collect();
        assert_eq!(parts, ["search", "confirmation", "confirmation"], "{name}");
        for phase in &phases {
            let steps = phase["capacity"]["steps"].as_array().expect("steps");
            assert!(!steps.is_empty() && steps.iter().all(|step| step["offered_per_second"].as_f64() > Some(0.0)));
        }
        phases.iter().map(|phase| phase["capacity"]["capacity_per_second"].as_f64().expect("an estimate")).collect()
    };
    // The threads bound sync: no estimate above what 8 threads can serve (a step at the 5 % precision above it
    // may hold on a short step), and the first step, at half of it, holds.
    let sync = estimates("sync");
    assert!(sync.iter().all(|&rate| (40.0..=88.0).contains(&rate)), "sync: {sync:?}");
    // The event loop holds the highest rate asked, every time: the search says it is a floor.
    let event_loop = estimates("async-1");
    assert!(event_loop.iter().all(|&rate| rate >= 640.0 * 0.95), "async-1: {event_loop:?}");
    assert_eq!(target(&results, "async-1")["phases"][0]["capacity"]["at_least"], true);

    let verdict = &findings["verdicts"][0];
    assert_eq!((verdict["basis"].as_str(), verdict["call"].as_str()), (Some("capacity"), Some("lead")), "{verdict}");
    assert_eq!(verdict["best"], "async-1");
    let row = findings["answer"].as_array().unwrap().iter().find(|row| row["kind"] == "async_io").expect("a row");
    assert_eq!(row["use"], serde_json::json!(["async-1"]), "{row}");
    let page = std::fs::read_to_string(latest.join("report.html")).expect("report.html");
    assert!(page.contains("Latency against throughput: io-capacity"), "the chart is drawn");
    std::fs::remove_dir_all(&dir).ok();
}
