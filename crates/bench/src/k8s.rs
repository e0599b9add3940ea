//! `rustcorn bench k8s-job`: the Kubernetes Indexed Job that runs N load agents together, generated from typed
//! structs with serde (never from format strings). Kubernetes schedules and runs the agents; rustcorn writes no
//! coordinator: every pod gets the same start instant and its own agent id, and leaves its report and .hlog in its
//! log (framed) or on a shared volume, for `rustcorn bench collect`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Where each agent's report and .hlog go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutput {
    /// Framed into the pod's stdout, read back from `kubectl logs`.
    Logs,
    /// Written to this PersistentVolumeClaim (ReadWriteMany), mounted at [`RESULTS_DIR`] in every pod.
    Volume { claim: String },
}

/// Mount point of the results volume in the pods.
pub const RESULTS_DIR: &str = "/results";
/// The unprivileged user of the image (the Dockerfile's `rustcorn` user).
pub const AGENT_UID: u64 = 10001;
/// Environment variables `rustcorn load` reads for `--start-at` and `--agent-id`.
pub const START_AT_ENV: &str = "RUSTCORN_START_AT";
pub const AGENT_ID_ENV: &str = "RUSTCORN_AGENT_ID";
/// The pod's completion index (0..N), from the annotation the Job controller sets on each pod.
pub const INDEX_ENV: &str = "RUSTCORN_AGENT_INDEX";
const INDEX_ANNOTATION: &str = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

/// What to generate.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The Job's name (a DNS label of at most 52 characters, so pod names stay valid).
    pub name: String,
    pub namespace: Option<String>,
    pub agents: u32,
    pub image: String,
    /// The URL every agent loads.
    pub target: String,
    /// `rustcorn load` flags after the URL (already checked by the caller).
    pub load_flags: Vec<String>,
    pub start_at: SystemTime,
    pub output: JobOutput,
    /// Requests and limits of each agent (equal, for Guaranteed QoS: no throttling surprise mid-run).
    pub cpu: String,
    pub memory: String,
    /// Kubernetes stops the Job after this long (start wait + warm-up + run + margin), when the run has a duration.
    pub active_deadline: Option<Duration>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum K8sError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("cannot write YAML: {0}")]
    Yaml(String),
}

/// The manifest: a comment saying what it is, then the Job as YAML.
pub fn manifest(spec: &JobSpec) -> Result<String, K8sError> {
    validate(spec)?;
    let start = humantime::format_rfc3339_millis(spec.start_at).to_string();
    // Injected as Unix milliseconds: an unquoted RFC 3339 string is a timestamp to YAML 1.1 readers, and the
    // pods' environment takes strings only; a number-like string is always quoted.
    let start_ms = spec.start_at.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis()).to_string();
    let yaml = serde_yaml_ng::to_string(&job(spec, &start_ms)).map_err(|error| K8sError::Yaml(error.to_string()))?;
    let collect = match &spec.output {
        JobOutput::Logs => format!(
            "kubectl logs -l job-name={} --tail=-1 --max-log-requests {} > agents.log, then \
             rustcorn bench collect agents.log --expect {} -o merged.json",
            spec.name, spec.agents, spec.agents
        ),
        JobOutput::Volume { claim } => {
            format!("copy the files of volume claim {claim} out, then rustcorn bench collect DIR -o merged.json")
        }
    };
    Ok(format!(
        "# rustcorn bench k8s-job: {} load agents against {}, starting together at {start}.\n\
         # Apply before that instant (an agent that starts late refuses to run). Collect: {collect}\n---\n{yaml}",
        spec.agents, spec.target
    ))
}

fn validate(spec: &JobSpec) -> Result<(), K8sError> {
    let invalid = |field, reason: String| Err(K8sError::Invalid { field, reason });
    if let Err(reason) = dns_label(&spec.name, 52) {
        return invalid("--name", reason);
    }
    if let Some(namespace) = &spec.namespace {
        if let Err(reason) = dns_label(namespace, 63) {
            return invalid("--namespace", reason);
        }
    }
    if let JobOutput::Volume { claim } = &spec.output {
        if let Err(reason) = dns_label(claim, 253) {
            return invalid("--volume-claim", reason);
        }
    }
    if spec.agents == 0 {
        return invalid("--agents", "must be at least 1".into());
    }
    if spec.image.is_empty() || spec.image.contains(char::is_whitespace) {
        return invalid("--image", format!("{:?} is not an image reference", spec.image));
    }
    Ok(())
}

/// Lower-case letters, digits and `-`, starting and ending with a letter or digit, at most `max` long.
fn dns_label(text: &str, max: usize) -> Result<(), String> {
    let allowed = text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ends = !text.starts_with('-') && !text.ends_with('-');
    if text.is_empty() || text.len() > max || !allowed || !ends {
        return Err(format!(
            "{text:?} must be 1 to {max} lower-case letters, digits or '-', not starting or ending with '-'"
        ));
    }
    Ok(())
}

fn job(spec: &JobSpec, start: &str) -> Job {
    let labels = BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "rustcorn-load".to_owned()),
        ("app.kubernetes.io/instance".to_owned(), spec.name.clone()),
    ]);
    Job {
        api_version: "batch/v1",
        kind: "Job",
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            namespace: spec.namespace.clone(),
            labels: labels.clone(),
            annotations: BTreeMap::from([("rustcorn/start-at-unix-ms".to_owned(), start.to_owned())]),
        },
        spec: JobSpecYaml {
            completion_mode: "Indexed",
            completions: spec.agents,
            parallelism: spec.agents,
            // A pod that failed and ran again would start after the others: it could not join their window.
            backoff_limit: 0,
            active_deadline_seconds: spec.active_deadline.map(|deadline| deadline.as_secs().max(1)),
            template: PodTemplate {
                metadata: ObjectMeta { labels: labels.clone(), ..ObjectMeta::default() },
                spec: pod(spec, start, labels),
            },
        },
    }
}

fn pod(spec: &JobSpec, start: &str, labels: BTreeMap<String, String>) -> PodSpec {
    let volume = match &spec.output {
        JobOutput::Logs => None,
        JobOutput::Volume { claim } => Some(claim.clone()),
    };
    PodSpec {
        restart_policy: "Never",
        security_context: PodSecurity {
            run_as_non_root: true,
            run_as_user: AGENT_UID,
            run_as_group: AGENT_UID,
            fs_group: volume.as_ref().map(|_| AGENT_UID),
            seccomp_profile: SeccompProfile { kind: "RuntimeDefault" },
        },
        // One agent per node where the cluster allows it: agents sharing a node share its cores and network.
        topology_spread_constraints: vec![SpreadConstraint {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname",
            when_unsatisfiable: "ScheduleAnyway",
            label_selector: LabelSelector { match_labels: labels },
        }],
        containers: vec![container(spec, start, volume.is_some())],
        volumes: volume
            .map(|claim| Volume { name: "results", persistent_volume_claim: ClaimSource { claim_name: claim } })
            .into_iter()
            .collect(),
    }
}

fn container(spec: &JobSpec, start: &str, volume: bool) -> Container {
    let mut args = vec!["load".to_owned(), spec.target.clone()];
    args.extend(spec.load_flags.iter().cloned());
    args.push("--allow-remote".to_owned());
    if volume {
        args.extend(["--out-dir".to_owned(), RESULTS_DIR.to_owned()]);
    } else {
        args.push("--frames".to_owned());
    }
    let resources = BTreeMap::from([("cpu".to_owned(), spec.cpu.clone()), ("memory".to_owned(), spec.memory.clone())]);
    Container {
        name: "agent",
        image: spec.image.clone(),
        args,
        env: vec![
            EnvVar::value(START_AT_ENV, start),
            EnvVar { name: INDEX_ENV, value: None, value_from: Some(FieldRef::of(INDEX_ANNOTATION)) },
            // Kubernetes expands $(VAR) from variables defined earlier in this list.
            EnvVar::value(AGENT_ID_ENV, &format!("agent-$({INDEX_ENV})")),
        ],
        resources: Resources { requests: resources.clone(), limits: resources },
        security_context: ContainerSecurity {
            allow_privilege_escalation: false,
            read_only_root_filesystem: true,
            capabilities: Capabilities { drop: vec!["ALL"] },
        },
        volume_mounts: if volume { vec![VolumeMount { name: "results", mount_path: RESULTS_DIR }] } else { vec![] },
    }
}

// The subset of the Kubernetes API the Job uses, spelled as the API spells it.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: JobSpecYaml,
}

#[derive(Serialize, Default)]
struct ObjectMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobSpecYaml {
    completion_mode: &'static str,
    completions: u32,
    parallelism: u32,
    backoff_limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_deadline_seconds: Option<u64>,
    template: PodTemplate,
}

#[derive(Serialize)]
struct PodTemplate {
    metadata: ObjectMeta,
    spec: PodSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    restart_policy: &'static str,
    security_context: PodSecurity,
    topology_spread_constraints: Vec<SpreadConstraint>,
    containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<Volume>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodSecurity {
    run_as_non_root: bool,
    run_as_user: u64,
    run_as_group: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    fs_group: Option<u64>,
    seccomp_profile: SeccompProfile,
}

#[derive(Serialize)]
struct SeccompProfile {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpreadConstraint {
    max_skew: u32,
    topology_key: &'static str,
    when_unsatisfiable: &'static str,
    label_selector: LabelSelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSelector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: &'static str,
    image: String,
    args: Vec<String>,
    env: Vec<EnvVar>,
    resources: Resources,
    security_context: ContainerSecurity,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volume_mounts: Vec<VolumeMount>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvVar {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_from: Option<FieldRef>,
}

impl EnvVar {
    fn value(name: &'static str, value: &str) -> EnvVar {
        EnvVar { name, value: Some(value.to_owned()), value_from: None }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldRef {
    field_ref: FieldPath,
}

impl FieldRef {
    fn of(path: &'static str) -> FieldRef {
        FieldRef { field_ref: FieldPath { field_path: path } }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldPath {
    field_path: &'static str,
}

#[derive(Serialize)]
struct Resources {
    requests: BTreeMap<String, String>,
    limits: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerSecurity {
    allow_privilege_escalation: bool,
    read_only_root_filesystem: bool,
    capabilities: Capabilities,
}

#[derive(Serialize)]
struct Capabilities {
    drop: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VolumeMount {
    name: &'static str,
    mount_path: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    name: &'static str,
    persistent_volume_claim: ClaimSource,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimSource {
    claim_name: String,
}

#[cfg(test)]
mod tests;
