//! The docs page's five commands (docs/distributed-load.md), run as written: `rustcorn bench k8s-job` makes the Job,
//! each pod of it is run as a real `rustcorn load` agent with the pod's own args and environment (what Kubernetes
//! would do; no cluster here), their stdout becomes the `kubectl logs` file, and `rustcorn bench collect` merges it.
//! The merged count must be the count of the real server they loaded (to within the requests on the wire when the
//! windows closed).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use loadgen::LoadReport;
use serde_yaml_ng::Value;
use support::Upstream;

fn docs_page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/distributed-load.md");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The lines of the first ```sh block after the line starting with `marker`.
fn block_after(page: &str, marker: &str) -> Vec<String> {
    let rest = &page[page.find(marker).unwrap_or_else(|| panic!("no {marker:?} in the docs page"))..];
    let start = rest.find("```sh\n").expect("a sh block after the marker") + "```sh\n".len();
    let end = rest[start..].find("```").expect("the block ends");
    rest[start..start + end].lines().map(str::to_owned).collect()
}

/// One command line: its words with `"$VAR"` replaced, and the file its stdout is redirected to.
struct CommandLine {
    words: Vec<String>,
    stdout_to: Option<String>,
}

fn parse_line(line: &str, variables: &[(String, String)]) -> CommandLine {
    let mut text = line.to_owned();
    for (name, value) in variables {
        text = text.replace(&format!("\"${name}\""), value);
    }
    assert!(!text.contains('$'), "an unknown variable in {line:?}");
    let (command, stdout_to) = match text.split_once(" > ") {
        Some((command, file)) => (command.to_owned(), Some(file.trim().to_owned())),
        None => (text, None),
    };
    CommandLine { words: shell_words::split(&command).expect("shell words"), stdout_to }
}

/// Runs a `rustcorn ...` command line in `dir` with the binary under test; returns its stdout.
fn run_rustcorn(line: &CommandLine, dir: &Path) -> Vec<u8> {
    assert_eq!(line.words[0], "rustcorn");
    let output = Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(&line.words[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run rustcorn");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?} failed: {stderr}", line.words);
    if let Some(file) = &line.stdout_to {
        std::fs::write(dir.join(file), &output.stdout).expect("write the redirected stdout");
    }
    output.stdout
}

/// Starts pod `index` of the Job the way the kubelet would: the container's args, and its env list evaluated in
/// order (values with `$(VAR)` expanded from earlier entries, the completion index from the downward API).
fn start_pod(job: &Value, index: usize, start_at_ms: u128) -> Child {
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = container["args"].as_sequence().expect("args").iter().filter_map(Value::as_str).collect();
    let mut env: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_sequence().expect("env") {
        let name = var["name"].as_str().expect("env name").to_owned();
        let value = match (var["value"].as_str(), var["valueFrom"]["fieldRef"]["fieldPath"].as_str()) {
            (Some(value), _) => env.iter().fold(value.to_owned(), |text, (n, v)| text.replace(&format!("$({n})"), v)),
            (None, Some(path)) if path.contains("job-completion-index") => index.to_string(),
            other => panic!("env {name}: unexpected source {other:?}"),
        };
        env.push((name, value));
    }
    // The manifest starts its agents minutes after it is generated (time to apply it and pull the image); the
    // simulated pods start at once, so the test moves the one shared instant closer, for every pod alike.
    let start = env.iter_mut().find(|(name, _)| name == "RUSTCORN_START_AT").expect("the start instant is injected");
    start.1 = start_at_ms.to_string();
    Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(&args)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a pod's agent")
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rustcorn-distributed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn heavy_the_docs_commands_run_agents_from_the_generated_job_and_collect_the_servers_count() {
    let page = docs_page();
    let upstream = Upstream::start(&["--delay", "1ms", "--body-bytes", "64"]);
    let mut variables: Vec<(String, String)> = block_after(&page, "<!-- variables -->")
        .iter()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let names: Vec<&str> = variables.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["IMAGE", "TARGET", "AGENTS", "WARMUP", "DURATION"]);
    for (name, value) in &mut variables {
        match name.as_str() {
            "TARGET" => *value = format!("http://{}/health", upstream.addr),
            // A 5 s warm-up and a 60 s run are the example; shorter ones prove the same path.
            "WARMUP" => *value = "500ms".into(),
            "DURATION" => *value = "2s".into(),
            _ => {}
        }
    }
    let agents: usize = variables[2].1.parse().expect("AGENTS is a number");
    let lines: Vec<CommandLine> =
        block_after(&page, "<!-- commands").iter().map(|line| parse_line(line, &variables)).collect();
    assert_eq!(lines.len(), 5, "five commands from build to merged report");
    assert_eq!(lines[0].words[..2], ["docker", "build"]);
    let dir = scratch_dir();

    // 2. The Job, generated by the binary.
    assert_eq!(lines[1].words[..3], ["rustcorn", "bench", "k8s-job"]);
    run_rustcorn(&lines[1], &dir);
    let job_file = lines[1].stdout_to.clone().expect("the manifest goes to a file");
    // 3. kubectl applies that file (no cluster here: the pods are run below).
    assert_eq!(lines[2].words[..4], ["kubectl", "apply", "-f", job_file.as_str()]);
    let job: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(dir.join(&job_file)).expect("job file"))
        .expect("the Job is YAML");
    assert_eq!(job["spec"]["completions"].as_u64(), Some(agents as u64));

    // 4. `kubectl logs` of every pod into one file: here, each pod's agent run for real, stdout concatenated.
    assert_eq!(lines[3].words[..2], ["kubectl", "logs"]);
    let start_at_ms = (SystemTime::now() + Duration::from_millis(1500)).duration_since(UNIX_EPOCH).unwrap().as_millis();
    let pods: Vec<Child> = (0..agents).map(|index| start_pod(&job, index, start_at_ms)).collect();
    let mut logs = Vec::new();
    for pod in pods {
        let output = pod.wait_with_output().expect("pod finished");
        assert!(output.status.success(), "agent failed: {}", String::from_utf8_lossy(&output.stderr));
        logs.extend_from_slice(&output.stdout);
    }
    std::fs::write(dir.join(lines[3].stdout_to.as_ref().expect("logs go to a file")), logs).expect("write logs");
    let served = upstream.stop();

    // 5. Collect and merge.
    assert_eq!(lines[4].words[..3], ["rustcorn", "bench", "collect"]);
    let printed = String::from_utf8_lossy(&run_rustcorn(&lines[4], &dir)).into_owned();
    let merged: LoadReport = serde_json::from_slice(&std::fs::read(dir.join("merged.json")).expect("merged.json"))
        .expect("the merged report");
    assert_eq!(merged.agents.len(), agents);
    let ids: Vec<&str> = merged.agents.iter().map(|agent| agent.id.as_str()).collect();
    assert_eq!(ids, ["agent-0", "agent-1", "agent-2"]);
    assert!(merged.aggregated.count > 0);
    let counted = merged.aggregated.count + merged.warmup_requests;
    let agent_sum: u64 = merged.agents.iter().map(|agent| agent.requests).sum();
    assert_eq!(agent_sum, merged.aggregated.count, "the merge adds every agent's count");
    // The window closes at a deadline here: a request still on the wire then may or may not reach the server's
    // count, and each of the 50 connections of each agent holds at most one (the netns test, closing on a request
    // budget, checks equality).
    let connections = 50 * agents as u64;
    assert!((counted..=counted + connections).contains(&served), "server {served}, agents {counted}");
    let hlog = std::fs::read(dir.join("merged.hlog")).expect("merged.hlog");
    let intervals = loadgen::output::hlog::read(&hlog).expect("the merged log parses");
    assert_eq!(loadgen::output::hlog::total(&intervals).expect("sum").len(), merged.aggregated.latency.samples);
    assert!(printed.contains(&format!("Agents: {agents} on 1 host")), "{printed}");
    assert!(printed.contains(&format!("Requests:     {}", merged.aggregated.count)), "{printed}");
    let _ = std::fs::remove_dir_all(&dir);
}
