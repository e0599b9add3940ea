use std::path::Path;

use super::*;
use crate::results::{Family, TargetKind};

const GOOD: &str = r#"
name = "tiny"
repetitions = 2

[upstream]
delay = "50ms"
tls = true

[cpu]
load_cores = [1]

[[targets]]
name = "sync"
serve = "sync --max-threads 64"

[[targets]]
name = "prefork"
serve = "prefork -w 2 -k async"

[[targets]]
name = "uvicorn"
command = "uvicorn app:app --port 8123"
ready_url = "http://127.0.0.1:8123/health"
cwd = "python"
env = { UPSTREAM = "{upstream}" }

[[phases]]
name = "cpu"
load = "concurrency"
connections = [1, 8]
duration = "2s"
warmup = "500ms"
tasks = [{ path = "/cpu-intensive", query = { iterations = 1000 } }]

[[phases]]
name = "locust"
load = "users"
users = 10
think = ["1s", "5s"]
duration = "10s"
targets = ["sync"]
tasks = [{ path = "/cpu-intensive" }, { path = "/memory-intensive", weight = 1 }]
"#;

fn parse(text: &str) -> Result<Suite, SuiteError> {
    Suite::parse(Path::new("suites/s.toml"), text.to_owned())
}

/// The error's text, with the location it must start with.
fn error_of(text: &str) -> String {
    parse(text).expect_err("the suite is bad").to_string()
}

#[test]
fn parses_targets_phases_and_expands_sweeps() {
    let suite = parse(GOOD).unwrap();
    assert_eq!(suite.name, "tiny");
    assert_eq!(suite.repetitions, 2);
    assert_eq!(suite.upstream.delay, Duration::from_millis(50));
    assert!(suite.upstream.tls);
    let names: Vec<&str> = suite.phases.iter().map(|phase| phase.name.as_str()).collect();
    assert_eq!(names, ["cpu-c1", "cpu-c8", "locust"]);
    assert_eq!(suite.phases[1].load, LoadSpec::Concurrency { connections: 8 });
    assert_eq!(suite.phases[0].tasks[0].path_and_query, "/cpu-intensive?iterations=1000");
    assert_eq!(suite.phases[0].warmup, Duration::from_millis(500));
    assert!(suite.phases[2].includes("sync") && !suite.phases[2].includes("prefork"));
    // 2 sweep points x 3 targets + 1 phase x 1 target, twice.
    assert_eq!(suite.run_count(), 14);

    let prefork = &suite.targets[1];
    assert_eq!((prefork.kind, prefork.workers, prefork.threads), (TargetKind::Prefork, Some(2), Some(1)));
    assert_eq!(prefork.single_threaded(), Some(false));
    let uvicorn = &suite.targets[2];
    assert_eq!((uvicorn.kind, uvicorn.family), (TargetKind::External, Family::Python));
    match &uvicorn.launch {
        Launch::External { command, cwd, .. } => {
            assert_eq!(command, &["uvicorn", "app:app", "--port", "8123"]);
            assert_eq!(cwd.as_deref(), Some(Path::new("suites/python")));
        }
        other => panic!("not external: {other:?}"),
    }
}

#[test]
fn unknown_field_names_file_line_and_field() {
    let text = GOOD.replace("duration = \"2s\"", "duration = \"2s\"\nconections = 5");
    let error = error_of(&text);
    let line = text.lines().position(|line| line.starts_with("conections")).unwrap() + 1;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
    assert!(error.contains("conections"), "{error}");
}

#[test]
fn wrong_type_names_the_field_and_its_line() {
    let text = GOOD.replace("users = 10", "users = \"ten\"");
    let error = error_of(&text);
    let line = text.lines().position(|line| line.starts_with("users = ")).unwrap() + 1;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
    assert!(error.contains("users"), "{error}");
}

#[test]
fn bad_duration_is_located() {
    let text = GOOD.replace("warmup = \"500ms\"", "warmup = \"soon\"");
    let error = error_of(&text);
    let line = text.lines().position(|line| line.starts_with("warmup")).unwrap() + 1;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
    assert!(error.contains("warmup") && error.contains("invalid duration"), "{error}");
}

#[test]
fn unknown_target_model_is_located() {
    let text = GOOD.replace("serve = \"sync --max-threads 64\"", "serve = \"threaded --max-threads 64\"");
    let error = error_of(&text);
    let line = text.lines().position(|line| line.contains("threaded")).unwrap() + 1;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
    assert!(error.contains("field `serve`") && error.contains("unknown target model"), "{error}");
}

#[test]
fn weights_summing_to_zero_are_located() {
    let text = GOOD.replace(
        "tasks = [{ path = \"/cpu-intensive\" }, { path = \"/memory-intensive\", weight = 1 }]",
        "tasks = [{ path = \"/cpu-intensive\", weight = 0 }]",
    );
    let error = error_of(&text);
    let line = text.lines().position(|line| line.contains("weight = 0")).unwrap() + 1;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
    assert!(error.contains("sum to 0"), "{error}");
}

#[test]
fn a_target_without_command_is_refused_by_name() {
    let text = GOOD.replace("command = \"uvicorn app:app --port 8123\"\n", "");
    let error = error_of(&text);
    assert!(error.contains("field `command`") && error.contains("\"uvicorn\""), "{error}");
    let line = text.lines().position(|line| line.contains("name = \"uvicorn\"")).unwrap() + 1;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
}

#[test]
fn model_fields_must_match_the_load_model() {
    let error = error_of(&GOOD.replace("connections = [1, 8]", "users = 4"));
    assert!(error.contains("field `users`") && error.contains("does not apply"), "{error}");
    let error = error_of(&GOOD.replace("think = [\"1s\", \"5s\"]\n", ""));
    assert!(error.contains("field `think`"), "{error}");
    let error = error_of(&GOOD.replace("think = [\"1s\", \"5s\"]", "think = [\"5s\", \"1s\"]"));
    assert!(error.contains("field `think`") && error.contains("above"), "{error}");
    let error = error_of(&GOOD.replace("load = \"users\"", "load = \"poisson\""));
    assert!(error.contains("field `load`") && error.contains("unknown load model"), "{error}");
}

#[test]
fn references_and_names_are_checked() {
    let error = error_of(&GOOD.replace("targets = [\"sync\"]", "targets = [\"snyc\"]"));
    assert!(error.contains("field `targets`") && error.contains("snyc"), "{error}");
    let error = error_of(&GOOD.replace("name = \"prefork\"", "name = \"sync\""));
    assert!(error.contains("defined twice"), "{error}");
    let error = error_of(&GOOD.replace("serve = \"sync --max-threads 64\"", "serve = \"sync --bind 0.0.0.0:80\""));
    assert!(error.contains("set by the driver"), "{error}");
    let error = error_of(&GOOD.replace("name = \"cpu\"", "name = \"cpu bound\""));
    assert!(error.contains("field `name`"), "{error}");
}

#[test]
fn missing_sections_and_bad_toml_are_located() {
    let error = error_of("[[targets]]\nname = \"a\"\nserve = \"sync\"\n");
    assert!(error.contains("phases"), "{error}");
    let error = error_of("name = \"x\"\n[[targets]\n");
    assert!(error.starts_with("suites/s.toml:2:"), "{error}");
}

/// The error of the bad suite `text`, checked to point at the line starting with `line_start`.
fn located_error(text: &str, line_start: &str) -> String {
    let error = error_of(text);
    let line = text.lines().position(|line| line.starts_with(line_start)).unwrap() + 1;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
    error
}

#[test]
fn a_phase_can_kill_a_worker_inside_its_measured_part_only() {
    let text = GOOD.replace("warmup = \"500ms\"", "warmup = \"500ms\"\nkill_worker_at = \"1500ms\"");
    let suite = parse(&text).unwrap();
    assert_eq!(suite.phases[0].kill_worker_at, Some(Duration::from_millis(1500)));
    assert_eq!(suite.phases[2].kill_worker_at, None);
    let text = GOOD.replace("warmup = \"500ms\"", "warmup = \"500ms\"\nkill_worker_at = \"2s\"");
    let error = located_error(&text, "kill_worker_at");
    assert!(error.contains("field `kill_worker_at`") && error.contains("shorter than `duration`"), "{error}");
}

#[test]
fn a_phase_can_set_its_own_target_cores() {
    let text = GOOD.replace("warmup = \"500ms\"", "warmup = \"500ms\"\ntarget_cores = \"all\"");
    let suite = parse(&text).unwrap();
    assert_eq!(suite.phases[0].target_cores, Some(TargetCores::All));
    assert_eq!(suite.phases[2].target_cores, None);
    let text = GOOD.replace("warmup = \"500ms\"", "warmup = \"500ms\"\ntarget_cores = \"most\"");
    let error = error_of(&text);
    assert!(error.contains("field `target_cores`") && error.contains("\"most\""), "{error}");
}

#[test]
fn a_variant_names_another_target() {
    let text = GOOD.replace("cwd = \"python\"", "cwd = \"python\"\nvariant_of = \"sync\"");
    assert_eq!(parse(&text).unwrap().targets[2].variant_of.as_deref(), Some("sync"));
    for original in ["nginx", "uvicorn"] {
        let text = GOOD.replace("cwd = \"python\"", &format!("cwd = \"python\"\nvariant_of = \"{original}\""));
        let error = located_error(&text, "variant_of");
        assert!(error.contains("field `variant_of`") && error.contains(original), "{error}");
    }
}

#[test]
fn a_phase_may_set_its_own_repetitions() {
    let text = GOOD.replace("targets = [\"sync\"]", "targets = [\"sync\"]\nrepetitions = 5");
    let suite = parse(&text).unwrap();
    let repetitions: Vec<u32> = suite.phases.iter().map(|phase| phase.repetitions).collect();
    assert_eq!(repetitions, [2, 2, 5]);
    // 2 sweep points x 3 targets x 2 + 1 target x 5.
    assert_eq!(suite.run_count(), 17);
    let error = error_of(&GOOD.replace("targets = [\"sync\"]", "targets = [\"sync\"]\nrepetitions = 0"));
    let line = GOOD.lines().position(|line| line.starts_with("targets = [\"sync\"]")).unwrap() + 2;
    assert!(error.starts_with(&format!("suites/s.toml:{line}:")) && error.contains("field `repetitions`"), "{error}");
}

#[test]
fn cpu_work_is_a_cost_per_request_that_leaves_iterations_to_the_driver() {
    let task = "tasks = [{ path = \"/cpu-intensive\", query = { iterations = 1000 } }]";
    let suite = parse(&GOOD.replace(task, "tasks = [{ path = \"/cpu-intensive\", cpu_work = \"2ms\" }]")).unwrap();
    let cpu = &suite.phases[0].tasks[0];
    assert_eq!(cpu.cpu_work, Some(Duration::from_millis(2)));
    assert_eq!((cpu.path_and_query.as_str(), cpu.name.as_str()), ("/cpu-intensive", "/cpu-intensive"));
    assert_eq!(suite.phases[2].tasks[0].cpu_work, None);

    let located = |replacement: &str, needle: &str| {
        let text = GOOD.replace(task, replacement);
        let error = error_of(&text);
        let line = text.lines().position(|line| line.contains("cpu_work")).unwrap() + 1;
        assert!(error.starts_with(&format!("suites/s.toml:{line}:")), "{error}");
        assert!(error.contains("field `cpu_work`") && error.contains(needle), "{error}");
    };
    located("tasks = [{ path = \"/cpu-intensive\", cpu_work = \"0ms\" }]", "must be > 0");
    located("tasks = [{ path = \"/cpu-intensive\", cpu_work = \"10s\" }]", "request timeout");
    located("tasks = [{ path = \"/cpu-intensive\", cpu_work = \"2ms\", query = { iterations = 5 } }]", "remove it");
    located("tasks = [{ path = \"/cpu-intensive?iterations=5\", cpu_work = \"2ms\" }]", "remove it");
    located("tasks = [{ path = \"/cpu-intensive\", cpu_work = \"soon\" }]", "invalid duration");
}

/// GOOD with `fields` added to its last phase (`locust`), and the 1-based line where `field` is set.
fn with_request(fields: &str, field: &str) -> (String, usize) {
    let text = format!("{GOOD}{fields}\n");
    let mut added = text.lines().enumerate().skip(GOOD.lines().count());
    let line = added.find(|(_, line)| line.starts_with(&format!("{field} ="))).map_or(0, |(index, _)| index + 1);
    (text, line)
}

#[test]
fn a_phase_sets_the_method_headers_body_and_keep_alive_of_its_requests() {
    let suite = parse(GOOD).unwrap();
    assert!(suite.phases.iter().all(|phase| phase.request == loadgen::RequestShape::default()), "default: plain GET");
    let (text, _) = with_request(
        "method = \"POST\"\nheaders = [\"Content-Type: application/json\", \"X-A:b: c\"]\nbody = '{\"a\":1}'\n\
         keep_alive = false",
        "method",
    );
    let request = &parse(&text).unwrap().phases[2].request;
    assert_eq!(request.method, "POST");
    let headers = [("Content-Type".to_owned(), "application/json".to_owned()), ("X-A".into(), "b: c".into())];
    assert_eq!(request.headers, headers);
    assert_eq!((request.body.as_slice(), request.keep_alive), (&b"{\"a\":1}"[..], false));
    assert_eq!(parse(&text).unwrap().phases[0].request, loadgen::RequestShape::default(), "per phase");

    // A body file resolves against the suite file's folder and may hold any bytes.
    let dir = std::env::temp_dir().join(format!("rustcorn-suite-body-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("bodies")).unwrap();
    std::fs::write(dir.join("bodies/b.bin"), [0u8, 255, 10]).unwrap();
    let (text, line) = with_request("body_file = \"bodies/b.bin\"", "body_file");
    let suite = Suite::parse(&dir.join("s.toml"), text.clone()).unwrap();
    assert_eq!(suite.phases[2].request.body, [0, 255, 10]);
    let missing = Suite::parse(Path::new("suites/s.toml"), text).unwrap_err().to_string();
    let expected = format!("suites/s.toml:{line}:13: field `body_file`: cannot read suites/bodies/b.bin: ");
    assert!(missing.starts_with(&expected), "{missing}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_request_fields_name_file_line_column_and_field() {
    let refused = |fields: &str, field: &str, column: usize, needle: &str| {
        let (text, line) = with_request(fields, field);
        let error = error_of(&text);
        assert!(error.starts_with(&format!("suites/s.toml:{line}:{column}: field `{field}`")), "{fields}: {error}");
        assert!(error.contains(needle), "{fields}: {error}");
    };
    refused("method = \"\"", "method", 10, "\"\" is not an HTTP method");
    refused("method = \"GE T\"", "method", 10, "is not an HTTP method");
    refused("headers = [\"X-Token abc\"]", "headers", 12, "is not Name: value");
    refused("headers = [\"X-Ok: 1\", \"X Bad: 1\"]", "headers", 23, "is not a header name");
    refused("headers = [\"X-Split: a\\r\\nInjected: 1\"]", "headers", 12, "holds a line break");
    refused("headers = [\"Content-Length: 5\"]", "headers", 12, "set from the length of the body");
    refused("body = \"a\"\nbody_file = \"b\"", "body_file", 13, "not both");
    refused("keep_alive = \"no\"", "keep_alive", 14, "invalid type");
    refused("method = 5", "method", 10, "invalid type");
    refused("headers = \"X-A: 1\"", "headers", 11, "invalid type");
}

#[test]
fn a_suite_kept_in_results_json_has_no_header_value_and_runs_again_only_once_it_is_given_back() {
    let (text, line) = with_request("headers = [\"Authorization: Bearer s3cret\"]", "headers");
    let kept = redact_header_values(&text);
    assert!(!kept.contains("s3cret"), "{kept}");
    let error = error_of(&kept);
    assert!(error.starts_with(&format!("suites/s.toml:{line}:12: field `headers`")), "{error}");
    assert!(error.contains("the value of Authorization was left out"), "{error}");
    assert_eq!(parse(&text).unwrap().phases[2].request.headers[0].1, "Bearer s3cret");
}

const CAPACITY: &str = r#"
[[targets]]
name = "sync"
serve = "sync"

[[phases]]
name = "io-capacity"
load = "capacity"
objective = "p99 <= 250ms"
max_rate = 5000
duration = "1s"
tasks = [{ path = "/async-google" }]
"#;

#[test]
fn a_capacity_phase_takes_an_objective_and_runs_its_search_then_its_confirmations() {
    let suite = parse(&CAPACITY.replace("max_rate = 5000", "max_rate = 5000\nconfirmations = 4")).unwrap();
    let LoadSpec::Capacity(spec) = &suite.phases[0].load else { panic!("{:?}", suite.phases[0].load) };
    assert_eq!((spec.objective.percentile, spec.objective.max_latency), (99.0, Duration::from_millis(250)));
    assert_eq!((spec.start_per_second, spec.max_per_second, spec.max_connections), (200.0, 5000.0, 10_000));
    assert_eq!(suite.phases[0].repetitions, 5, "the search and 4 confirmation rounds");
    // A step measures `step_requests` (2,000 by default) at its rate, at least `duration`, at most 10 s.
    assert_eq!(spec.step_length(1000.0, Duration::from_secs(1)), Duration::from_secs(2));
    assert_eq!(spec.step_length(10_000.0, Duration::from_secs(1)), Duration::from_secs(1));
    assert_eq!(spec.step_length(20.0, Duration::from_secs(1)), Duration::from_secs(10));
}

#[test]
fn bad_capacity_fields_name_file_line_and_field() {
    let cases = [
        ("objective = \"p99 <= 250ms\"", "objective = \"p99 < 250ms\"", "objective", "expected e.g."),
        ("max_rate = 5000", "max_rate = -1", "max_rate", "positive"),
        ("max_rate = 5000", "max_rate = 5000\nstart_rate = 6000", "max_rate", "at or above `start_rate`"),
        ("max_rate = 5000", "max_rate = 5000\nstep_requests = 10", "step_requests", ">= 100"),
        ("max_rate = 5000", "max_rate = 5000\nrepetitions = 3", "repetitions", "confirmations"),
        ("max_rate = 5000", "max_rate = 5000\nkill_worker_at = \"500ms\"", "kill_worker_at", "kills no worker"),
        ("max_rate = 5000", "max_rate = 5000\nconnections = 8", "connections", "does not apply"),
    ];
    for (old, new, field, words) in cases {
        let text = CAPACITY.replace(old, new);
        let line_start = new.lines().last().unwrap().split(' ').next().unwrap();
        let line_start = if field == "max_rate" && line_start == "start_rate" { "max_rate" } else { line_start };
        let error = located_error(&text, line_start);
        assert!(error.contains(&format!("field `{field}`")) && error.contains(words), "{new}: {error}");
    }
    let error = error_of(&CAPACITY.replace("objective = \"p99 <= 250ms\"\n", ""));
    assert!(error.contains("field `objective`") && error.contains("needs `objective`"), "{error}");
    let error = error_of(&GOOD.replace("connections = [1, 8]", "connections = [1, 8]\nobjective = \"p99 <= 1s\""));
    assert!(error.contains("field `objective`") && error.contains("does not apply"), "{error}");
}
