//! The generated manifest, parsed back as plain YAML (not through the structs that wrote it) and checked field by
//! field against what Kubernetes needs for N agents started together.

use super::*;
use serde_yaml_ng::Value;

fn spec(output: JobOutput) -> JobSpec {
    JobSpec {
        name: "rustcorn-load".into(),
        namespace: Some("bench".into()),
        agents: 3,
        image: "registry.example.com/rustcorn:0.1.0".into(),
        target: "http://web.bench.svc:8000/health".into(),
        load_flags: vec!["-c".into(), "50".into(), "-z".into(), "60s".into()],
        start_at: std::time::UNIX_EPOCH + Duration::from_millis(1_777_636_800_250),
        output,
        cpu: "1".into(),
        memory: "256Mi".into(),
        active_deadline: Some(Duration::from_secs(420)),
    }
}

fn parse(spec: &JobSpec) -> Value {
    serde_yaml_ng::from_str(&manifest(spec).expect("manifest")).expect("the manifest is YAML")
}

/// The value at a path of keys and indexes, e.g. `at(&job, "spec.template.spec.containers.0.image")` (keys with
/// dots in them, like label names, are indexed separately).
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |node, key| match key.parse::<usize>() {
        Ok(index) => &node[index],
        Err(_) => &node[key],
    })
}

fn text<'a>(value: &'a Value, path: &str) -> &'a str {
    at(value, path).as_str().unwrap_or_else(|| panic!("{path} is not a string: {:?}", at(value, path)))
}

fn env<'a>(job: &'a Value, name: &str) -> &'a Value {
    let list = at(job, "spec.template.spec.containers.0.env").as_sequence().expect("env is a list");
    list.iter().find(|var| var["name"].as_str() == Some(name)).unwrap_or_else(|| panic!("no env {name}"))
}

#[test]
fn an_indexed_job_of_n_agents_with_one_start_instant() {
    let job = parse(&spec(JobOutput::Logs));
    assert_eq!(text(&job, "apiVersion"), "batch/v1");
    assert_eq!(text(&job, "kind"), "Job");
    assert_eq!(text(&job, "metadata.name"), "rustcorn-load");
    assert_eq!(text(&job, "metadata.namespace"), "bench");
    assert_eq!(text(&job, "spec.completionMode"), "Indexed");
    assert_eq!(at(&job, "spec.completions").as_u64(), Some(3));
    assert_eq!(at(&job, "spec.parallelism").as_u64(), Some(3));
    assert_eq!(at(&job, "spec.backoffLimit").as_u64(), Some(0), "a late retry could not join the window");
    assert_eq!(at(&job, "spec.activeDeadlineSeconds").as_u64(), Some(420));
    assert_eq!(text(&job, "spec.template.spec.restartPolicy"), "Never");
    let labels = at(&job, "spec.template.metadata.labels");
    assert_eq!(labels["app.kubernetes.io/instance"].as_str(), Some("rustcorn-load"));

    let start = text(env(&job, START_AT_ENV), "value");
    assert_eq!(start, "1777636800250", "Unix milliseconds, a string");
    assert_eq!(at(&job, "metadata.annotations")["rustcorn/start-at-unix-ms"].as_str(), Some(start));
    assert!(manifest(&spec(JobOutput::Logs)).unwrap().contains("starting together at 2026-05-01T12:00:00.250Z"));
    let parsed = loadgen::agent::parse_start_at(start).expect("rustcorn load reads the injected instant");
    assert_eq!(parsed, spec(JobOutput::Logs).start_at);
    assert_eq!(text(env(&job, INDEX_ENV), "valueFrom.fieldRef.fieldPath"), INDEX_ANNOTATION);
    assert_eq!(text(env(&job, AGENT_ID_ENV), "value"), "agent-$(RUSTCORN_AGENT_INDEX)");
    let names: Vec<&str> = at(&job, "spec.template.spec.containers.0.env")
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|var| var["name"].as_str())
        .collect();
    assert!(
        names.iter().position(|n| *n == INDEX_ENV) < names.iter().position(|n| *n == AGENT_ID_ENV),
        "$(VAR) expands only from variables defined before it: {names:?}"
    );

    let container = at(&job, "spec.template.spec.containers.0");
    assert_eq!(text(container, "image"), "registry.example.com/rustcorn:0.1.0");
    let args: Vec<&str> = container["args"].as_sequence().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(
        args,
        ["load", "http://web.bench.svc:8000/health", "-c", "50", "-z", "60s", "--allow-remote", "--frames"]
    );
    assert_eq!(text(container, "resources.requests.cpu"), "1");
    assert_eq!(text(container, "resources.limits.memory"), "256Mi");
    assert!(at(&job, "spec.template.spec.volumes").is_null(), "logs mode needs no volume");
}

#[test]
fn pods_run_unprivileged_and_spread_over_nodes() {
    let job = parse(&spec(JobOutput::Logs));
    let pod = at(&job, "spec.template.spec");
    assert_eq!(at(pod, "securityContext.runAsNonRoot").as_bool(), Some(true));
    assert_eq!(at(pod, "securityContext.runAsUser").as_u64(), Some(AGENT_UID));
    assert_eq!(text(pod, "securityContext.seccompProfile.type"), "RuntimeDefault");
    let container = at(pod, "containers.0.securityContext");
    assert_eq!(at(container, "allowPrivilegeEscalation").as_bool(), Some(false));
    assert_eq!(at(container, "readOnlyRootFilesystem").as_bool(), Some(true));
    assert_eq!(text(container, "capabilities.drop.0"), "ALL");
    let spread = at(pod, "topologySpreadConstraints.0");
    assert_eq!(text(spread, "topologyKey"), "kubernetes.io/hostname");
    let selector = at(spread, "labelSelector.matchLabels");
    assert_eq!(selector["app.kubernetes.io/instance"].as_str(), Some("rustcorn-load"));
}

#[test]
fn volume_output_mounts_the_claim_and_writes_files_there() {
    let job = parse(&spec(JobOutput::Volume { claim: "load-results".into() }));
    let pod = at(&job, "spec.template.spec");
    assert_eq!(text(pod, "volumes.0.persistentVolumeClaim.claimName"), "load-results");
    assert_eq!(text(pod, "containers.0.volumeMounts.0.mountPath"), RESULTS_DIR);
    assert_eq!(text(pod, "containers.0.volumeMounts.0.name"), text(pod, "volumes.0.name"));
    assert_eq!(at(pod, "securityContext.fsGroup").as_u64(), Some(AGENT_UID), "the agent user can write the volume");
    let args: Vec<&str> =
        at(pod, "containers.0.args").as_sequence().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(args[args.len() - 2..], ["--out-dir", RESULTS_DIR]);
    assert!(!args.contains(&"--frames"));
}

#[test]
fn bad_names_and_counts_are_refused_naming_the_flag() {
    type Change = fn(&mut JobSpec);
    let cases: [(Change, &str); 5] = [
        (|spec| spec.name = "Load_Test".into(), "--name"),
        (|spec| spec.name = "x".repeat(53), "--name"),
        (|spec| spec.agents = 0, "--agents"),
        (|spec| spec.image = "two words".into(), "--image"),
        (|spec| spec.namespace = Some("-bad".into()), "--namespace"),
    ];
    for (change, flag) in cases {
        let mut bad = spec(JobOutput::Logs);
        change(&mut bad);
        let error = manifest(&bad).unwrap_err().to_string();
        assert!(error.starts_with(flag), "{error}");
    }
}
