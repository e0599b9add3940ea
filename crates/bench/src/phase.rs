//! One target x phase x repetition: start the target, sample its process tree, drive the load, stop it, and
//! assemble the [`PhaseResult`] (or say why the target failed).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use loadgen::{LoadPlan, LoadReport, Pacing, RunControl, Shutdown, Stop, Task};

use crate::capacity;
use crate::cpu_work::table::{with_iterations, CpuWorkTable};
use crate::kill::{self, Killed};
use crate::pinning::Pinning;
use crate::ports;
use crate::process::{ChildFailure, ChildServer, ChildSpec, Readiness};
use crate::progress::Progress;
use crate::results::{
    CapacityResult, CpuWork, EndpointShare, LoadModel, ObservedWorkers, PhaseResult, SentRequest, TargetKind,
    WorkerKill, WorkerRequests,
};
use crate::sampler::{self, Sampler, SAMPLE_INTERVAL};
use crate::suite::{Launch, LoadSpec, PhaseSpec, TargetSpec};

/// What every phase of a run shares.
pub struct PhaseContext<'a> {
    pub rustcorn: &'a Path,
    pub upstream_url: &'a str,
    /// The TLS upstream's CA, which every target is told to trust; None over plain HTTP.
    pub upstream_ca: Option<&'a Path>,
    pub pinning: &'a Pinning,
    pub cancel: &'a Shutdown,
    pub progress: &'a Progress,
    /// Where prefork targets write their per-worker stats (`--stats`), read back after the stop.
    pub scratch: &'a Path,
    /// The `?iterations=` each target gets for each `cpu_work` task, found before the run.
    pub cpu_work: &'a CpuWorkTable,
}

/// A measured phase, plus its report's `.hlog` bytes for the run folder.
pub struct Measured {
    pub result: PhaseResult,
    pub hlog: Option<Vec<u8>>,
}

/// The argv a target is started with; `port` fills an external command's `{port}`.
pub fn command_line(
    target: &TargetSpec,
    context: &PhaseContext<'_>,
    stats: Option<&Path>,
    port: Option<u16>,
) -> Vec<String> {
    match &target.launch {
        Launch::BuiltIn { model, flags } => {
            let mut argv = vec![context.rustcorn.display().to_string(), "serve".into(), model.clone()];
            argv.extend(flags.iter().cloned());
            argv.extend(["--bind".into(), "127.0.0.1:0".into(), "--upstream".into(), context.upstream_url.to_owned()]);
            if let Some(ca) = context.upstream_ca {
                argv.extend(["--upstream-ca".into(), ca.display().to_string()]);
            }
            if let Some(stats) = stats {
                argv.extend(["--stats".into(), stats.display().to_string()]);
            }
            argv
        }
        Launch::External { command, .. } => {
            command.iter().map(|word| ports::fill(&word.replace("{upstream}", context.upstream_url), port)).collect()
        }
    }
}

/// How to start `target`: in `phase` (its own `target_cores` apply), or outside any phase with the plan's cores.
pub(crate) fn child_spec(
    target: &TargetSpec,
    phase: Option<&PhaseSpec>,
    context: &PhaseContext<'_>,
    stats: Option<&Path>,
) -> Result<ChildSpec, ChildFailure> {
    let port = external_port(target)?;
    let argv = command_line(target, context, stats, port);
    let cores = match phase {
        Some(phase) => context.pinning.target_in(&target.name, &phase.name),
        None => context.pinning.target(&target.name),
    }
    .to_vec();
    Ok(match &target.launch {
        Launch::BuiltIn { .. } => ChildSpec {
            argv,
            cwd: None,
            env: Default::default(),
            cores,
            readiness: Readiness::ListeningLine,
            ready_timeout: target.ready_timeout,
        },
        Launch::External { ready_url, cwd, env, .. } => {
            let mut env: std::collections::BTreeMap<String, String> = env
                .iter()
                .map(|(key, value)| {
                    (key.clone(), ports::fill(&value.replace("{upstream}", context.upstream_url), port))
                })
                .collect();
            env.insert("RUSTCORN_UPSTREAM_URL".into(), context.upstream_url.to_owned());
            if let Some(ca) = context.upstream_ca {
                // OpenSSL's default trust (Python's ssl.create_default_context, so aiohttp) reads SSL_CERT_FILE;
                // requests trusts certifi's bundle unless REQUESTS_CA_BUNDLE names another.
                for variable in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
                    env.insert(variable.into(), ca.display().to_string());
                }
            }
            ChildSpec {
                argv,
                cwd: cwd.clone(),
                env,
                cores,
                readiness: Readiness::Url(ports::fill(ready_url, port)),
                ready_timeout: target.ready_timeout,
            }
        }
    })
}

/// A fresh free port when the external target's command, env or ready_url says `{port}`.
fn external_port(target: &TargetSpec) -> Result<Option<u16>, ChildFailure> {
    let Launch::External { command, ready_url, env, .. } = &target.launch else { return Ok(None) };
    let words = command.iter().chain(env.values()).chain(std::iter::once(ready_url)).map(String::as_str);
    if !ports::wants_port(words) {
        return Ok(None);
    }
    ports::free_port().map(Some).map_err(|error| ChildFailure {
        reason: format!("cannot find a free port for {{port}}: {error}"),
        stderr_tail: Vec::new(),
    })
}

/// Runs one phase against a fresh instance of `target`.
pub fn run(
    target: &TargetSpec,
    phase: &PhaseSpec,
    repetition: u32,
    round: Option<capacity::Round>,
    context: &PhaseContext<'_>,
) -> Result<Measured, ChildFailure> {
    let started_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    let stats_path =
        (target.kind == TargetKind::Prefork).then(|| stats_file(context.scratch, target, phase, repetition));
    if let Some(path) = &stats_path {
        let _ = std::fs::remove_file(path);
    }
    let spec = child_spec(target, Some(phase), context, stats_path.as_deref())?;
    let mut server = ChildServer::start(&spec, context.cancel)?;
    if let Err(failure) = preflight(&server, phase, context) {
        server.stop(target.stop_grace);
        return Err(failure);
    }
    let sampler = Sampler::start(server.pid(), SAMPLE_INTERVAL).map_err(|error| ChildFailure {
        reason: format!("cannot start the sampler: {error}"),
        stderr_tail: Vec::new(),
    })?;
    let tasks = tasks(target, phase, context.cpu_work)?;
    let plan = load_plan(&server.base_url, phase, &tasks, context.pinning)
        .map_err(|error| ChildFailure { reason: error.to_string(), stderr_tail: Vec::new() })?;
    let (load, killed) = drive(&plan, &mut server, (target, phase, repetition, round), context);
    // Read while the target still runs: the processes that could take the load as the measured part ended.
    let (root, listening) = (server.pid(), sampler::listening_processes(server.pid()));
    let samples = sampler.finish();
    // A single-process server the phase killed on purpose is expected to be gone.
    let died = server.exited().filter(|_| !killed.is_some_and(|killed| killed.whole_server));
    let tail = if died.is_some() { server.final_stderr_tail() } else { server.stderr_tail() };
    let stopped = server.stop(target.stop_grace);
    if !stopped.graceful {
        tracing::warn!(target = %target.name, phase = %phase.name, "the target ignored SIGTERM for {:?}; killed", target.stop_grace);
    }
    if let Some(status) = died {
        let reason = format!("exited ({status}) during phase {:?}", phase.name);
        return Err(ChildFailure { reason, stderr_tail: tail });
    }
    let (report, capacity) =
        load.map_err(|error| ChildFailure { reason: format!("load generator: {error}"), stderr_tail: tail })?;
    let worker_requests = stats_path.as_deref().and_then(read_worker_stats);
    let measured_ms = (report.duration_secs * 1000.0) as u64;
    let resources = sampler::resources(&samples, report.started_at_unix_ms, measured_ms);
    let serving: Vec<u32> = report.responses_per_worker.workers.iter().map(|worker| worker.pid).collect();
    let observed_workers = Some(ObservedWorkers::count(root, &serving, &listening));
    let hlog = loadgen::output::Exporter::export(&loadgen::output::Hlog, &report).ok();
    let result = PhaseResult {
        name: phase.name.clone(),
        endpoints: phase
            .tasks
            .iter()
            .zip(&tasks)
            .map(|(spec, task)| EndpointShare {
                path: spec.path_and_query.clone(),
                weight: spec.weight,
                cpu_work: task.cpu_work.clone(),
            })
            .collect(),
        load_model: load_model(&phase.load),
        load_description: describe(&phase.load),
        repetition,
        warmup_s: phase.warmup.as_secs_f64(),
        duration_s: phase.duration.as_secs_f64(),
        started_at,
        interrupted: report.cancelled,
        hlog: hlog.as_ref().map(|_| hlog_name(target, phase, repetition)),
        kill: killed.map(|killed| WorkerKill {
            at_ms: killed.unix_ms as i64 - report.started_at_unix_ms as i64,
            pid: killed.pid,
            whole_server: killed.whole_server,
        }),
        load: report,
        resources,
        worker_requests,
        cores: Some(context.pinning.target_in(&target.name, &phase.name).to_vec()),
        request: SentRequest::of(&phase.request),
        capacity,
        observed_workers,
    };
    Ok(Measured { result, hlog })
}

/// Paths whose handler calls the upstream.
const UPSTREAM_PATHS: [&str; 2] = ["/sync-google", "/async-google"];

/// Before a phase that calls the upstream: one request through each such endpoint it loads, which must answer 2xx.
/// A target that cannot reach the upstream (its certificate not trusted, the CA unreadable) is refused here, named,
/// with its answer and stderr, instead of failing every request of the phase; nothing falls back to plain HTTP.
fn preflight(server: &ChildServer, phase: &PhaseSpec, context: &PhaseContext<'_>) -> Result<(), ChildFailure> {
    let mut paths: Vec<&str> = phase
        .tasks
        .iter()
        .map(|task| task.path_and_query.as_str())
        .filter(|path| UPSTREAM_PATHS.iter().any(|upstream| path.split('?').next() == Some(*upstream)))
        .collect();
    paths.dedup();
    for path in paths {
        let problem = match crate::oneshot::get(&format!("{}{path}", server.base_url), PREFLIGHT_TIMEOUT) {
            Ok(answer) if (200..300).contains(&answer.status) => continue,
            Ok(answer) => format!("answered {}: {}", answer.status, String::from_utf8_lossy(&answer.body).trim()),
            Err(error) => format!("got no answer: {error}"),
        };
        let reason = format!(
            "cannot reach the upstream {}: preflight GET {path} {problem}; the phase {:?} was not run",
            context.upstream_url, phase.name
        );
        std::thread::sleep(STDERR_SETTLE);
        return Err(ChildFailure { reason, stderr_tail: server.stderr_tail() });
    }
    Ok(())
}

/// The upstream's delay plus a TLS handshake, with a wide margin for a slow interpreter on a busy machine.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time for a target's traceback (a Python peer logs its TLS error after answering 500) to reach its stderr tail.
const STDERR_SETTLE: Duration = Duration::from_millis(200);

/// Runs the load on a thread while this one updates the progress bar, watches the target and, in a phase with
/// `kill_worker_at`, kills one of its processes on time. A target that dies cancels the load at once, unless it was
/// a single-process server killed on purpose: then the load runs on against it, as clients would.
fn drive(
    plan: &LoadPlan,
    server: &mut ChildServer,
    (target, phase, repetition, round): (&TargetSpec, &PhaseSpec, u32, Option<capacity::Round>),
    context: &PhaseContext<'_>,
) -> (Result<Load, loadgen::LoadError>, Option<Killed>) {
    let control = RunControl { cancel: context.cancel.child_token(), ..RunControl::new() };
    context.progress.start_phase(&target.name, &phase.name, repetition, phase.warmup);
    // The load generator starts measuring a few milliseconds after it is called, after the warm-up; the record
    // places the kill exactly on its timeline afterwards.
    let mut kill_at = phase.kill_worker_at.map(|at| Instant::now() + phase.warmup + at);
    let mut killed = None;
    let report = std::thread::scope(|scope| {
        let load = scope.spawn(|| measure(plan, phase, round, &control));
        while !load.is_finished() {
            let pause = kill_at.map_or(POLL, |at| at.saturating_duration_since(Instant::now()).min(POLL));
            std::thread::sleep(pause);
            context.progress.live(control.live.requests());
            if kill_at.is_some_and(|at| Instant::now() >= at) {
                kill_at = None;
                match kill::kill_one_worker(server.pid()) {
                    Ok(done) => killed = Some(done),
                    Err(error) => {
                        tracing::warn!(target = %target.name, phase = %phase.name, %error, "no worker killed")
                    }
                }
            }
            if server.exited().is_some() && !killed.is_some_and(|killed: Killed| killed.whole_server) {
                control.cancel.cancel();
            }
        }
        load.join().unwrap_or(Err(loadgen::LoadError::ThreadPanicked))
    });
    (report, killed)
}

/// What a phase's load measured: the report of its window, and a capacity phase's steps.
type Load = (LoadReport, Option<CapacityResult>);

/// The phase's load: one run of the plan, or a capacity phase's steps (the report of the step that set its
/// estimate, with every step).
fn measure(
    plan: &LoadPlan,
    phase: &PhaseSpec,
    round: Option<capacity::Round>,
    control: &RunControl,
) -> Result<Load, loadgen::LoadError> {
    match (&phase.load, round) {
        (LoadSpec::Capacity(spec), Some(round)) => {
            let run = capacity::run(plan, spec, phase.duration, round, control)?;
            Ok((run.report, Some(run.result)))
        }
        _ => Ok((loadgen::run(plan, control)?, None)),
    }
}

/// How often the driver looks at the target and the progress while a phase runs.
const POLL: Duration = Duration::from_millis(200);

pub fn hlog_name(target: &TargetSpec, phase: &PhaseSpec, repetition: u32) -> String {
    format!("{}.{}.r{repetition}.hlog", target.name, phase.name)
}

fn stats_file(scratch: &Path, target: &TargetSpec, phase: &PhaseSpec, repetition: u32) -> PathBuf {
    scratch.join(format!("{}.{}.r{repetition}.workers.json", target.name, phase.name))
}

/// A phase's task as sent to one target: the suite's task with this target's `?iterations=` for its `cpu_work`.
struct TargetTask {
    path_and_query: String,
    cpu_work: Option<CpuWork>,
}

fn tasks(target: &TargetSpec, phase: &PhaseSpec, table: &CpuWorkTable) -> Result<Vec<TargetTask>, ChildFailure> {
    phase
        .tasks
        .iter()
        .map(|task| {
            if task.cpu_work.is_none() {
                return Ok(TargetTask { path_and_query: task.path_and_query.clone(), cpu_work: None });
            }
            let work = table.get(&target.name, task).ok_or_else(|| ChildFailure {
                reason: format!("no cpu_work calibration for {} in phase {:?}", task.path_and_query, phase.name),
                stderr_tail: Vec::new(),
            })?;
            Ok(TargetTask {
                path_and_query: with_iterations(&task.path_and_query, work.iterations),
                cpu_work: Some(work.clone()),
            })
        })
        .collect()
}

fn load_plan(
    base_url: &str,
    phase: &PhaseSpec,
    tasks: &[TargetTask],
    pinning: &Pinning,
) -> Result<LoadPlan, loadgen::LoadError> {
    let (target, _) = loadgen::Target::from_url(base_url)?;
    let pacing = match phase.load {
        LoadSpec::Users { users, think } => Pacing::Users { users: users as usize, think, spawn_rate: None },
        LoadSpec::Concurrency { connections } => Pacing::Concurrency { connections: connections as usize },
        LoadSpec::Rate { per_second, connections } => Pacing::Rate { per_second, connections: connections as usize },
        LoadSpec::Capacity(ref spec) => {
            Pacing::OpenRate { per_second: spec.start_per_second, max_connections: spec.max_connections as usize }
        }
    };
    Ok(LoadPlan {
        target,
        tasks: phase
            .tasks
            .iter()
            .zip(tasks)
            .map(|(spec, task)| Task {
                name: spec.name.clone(),
                path_and_query: task.path_and_query.clone(),
                weight: spec.weight,
            })
            .collect(),
        pacing,
        stop: Stop { duration: Some(phase.duration), requests: None },
        warmup: phase.warmup,
        timeout: phase.timeout,
        threads: pinning.load_threads,
        cpu_affinity: Some(pinning.load.iter().map(|&core| core as usize).collect()),
        agent: loadgen::AgentSpec::default(),
        request: phase.request.clone(),
    })
}

fn load_model(load: &LoadSpec) -> LoadModel {
    match *load {
        LoadSpec::Capacity(ref spec) => {
            LoadModel::Capacity { objective: spec.objective.to_string(), max_connections: spec.max_connections }
        }
        LoadSpec::Users { users, think } => {
            LoadModel::Users { users, think_min_s: think.0.as_secs_f64(), think_max_s: think.1.as_secs_f64() }
        }
        LoadSpec::Concurrency { connections } => LoadModel::Concurrency { connections },
        LoadSpec::Rate { per_second, connections } => LoadModel::Rate { rate_per_s: per_second, connections },
    }
}

/// The load model in words, for tables and the report.
pub fn describe(load: &LoadSpec) -> String {
    match load {
        LoadSpec::Users { users, think } => {
            format!("{users} users, think between({}, {}) s (Locust)", think.0.as_secs_f64(), think.1.as_secs_f64())
        }
        LoadSpec::Concurrency { connections } => format!("{connections} connections, closed loop (wrk)"),
        LoadSpec::Rate { per_second, connections } => {
            format!("{per_second} req/s open loop over {connections} connections (wrk2)")
        }
        LoadSpec::Capacity(spec) => format!(
            "an objective of {} (open-loop steps of at least {} requests, up to {} connections)",
            spec.objective, spec.step_requests, spec.max_connections
        ),
    }
}

/// The prefork master's `--stats` JSON (written when it exits): one entry per worker process.
fn read_worker_stats(path: &Path) -> Option<Vec<WorkerRequests>> {
    #[derive(serde::Deserialize)]
    struct Stats {
        processes: Vec<Process>,
    }
    #[derive(serde::Deserialize)]
    struct Process {
        pid: i64,
        index: u32,
        requests: u64,
    }
    let text = std::fs::read_to_string(path).ok()?;
    let _ = std::fs::remove_file(path);
    let stats: Stats = serde_json::from_str(&text)
        .map_err(|error| tracing::warn!(path = %path.display(), %error, "unreadable prefork --stats file"))
        .ok()?;
    Some(
        stats
            .processes
            .into_iter()
            .map(|process| WorkerRequests {
                index: process.index,
                pid: process.pid.max(0) as u32,
                requests: process.requests,
            })
            .collect(),
    )
}
