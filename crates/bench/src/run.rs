//! `rustcorn bench run`: checks the suite and the machine, starts the upstream, runs every phase x repetition x
//! target, and keeps results.json current after each one (partial until the end) so Ctrl-C loses nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use loadgen::Shutdown;

use crate::capacity;
use crate::cpu_work::{self, CpuWorkTable};
use crate::output::{Json, RunExporter, StatsCsv};
use crate::phase::{self, PhaseContext};
use crate::pinning::{self, Pinning};
use crate::process::{self, ChildFailure, ChildServer, ChildSpec, Readiness};
use crate::progress::Progress;
use crate::results::{
    KeepAlive, RunResults, SuiteSource, TargetResult, TargetStatus, UpstreamHolds, UpstreamSettings, SCHEMA_VERSION,
};
use crate::schedule::{schedule, Slot};
use crate::store::Store;
use crate::suite::{Launch, LoadSpec, PhaseSpec, Suite, SuiteError};

/// What `rustcorn bench run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub suite: PathBuf,
    /// The suite's text when it was built in memory (`bench servers`); `suite` then only names it.
    pub suite_text: Option<String>,
    /// Parent of the run folders (`results/`).
    pub results_root: PathBuf,
    /// The rustcorn binary that serves built-in targets and the upstream.
    pub rustcorn: PathBuf,
    /// Let external targets live on non-loopback addresses.
    pub allow_remote: bool,
    /// No progress bar and no per-phase lines.
    pub quiet: bool,
    /// The share of failed requests (0..=1) beyond which a phase, and so the run, counts as failed.
    pub max_failures: f64,
}

/// A run that got as far as writing results.
#[derive(Debug)]
pub struct Outcome {
    pub dir: PathBuf,
    pub results: RunResults,
    /// Ctrl-C stopped the run early; results.json is marked partial.
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Suite(#[from] SuiteError),
    /// A target that cannot be run as written: remote without --allow-remote, its port already taken.
    #[error("{}: target {target:?}: {message}", suite.display())]
    Target { suite: PathBuf, target: String, message: String },
    #[error("{}: the rustcorn binary is not there (needed for built-in targets and the upstream)", .0.display())]
    NoBinary(PathBuf),
    #[error("cannot start the upstream: {}{}", .0.reason, tail(&.0.stderr_tail))]
    Upstream(ChildFailure),
    #[error("the TLS upstream wrote no CA to {}: {source}", path.display())]
    UpstreamCa { path: PathBuf, source: std::io::Error },
    /// Ctrl-C before anything was measured: no results folder was created.
    #[error("interrupted before the first phase")]
    Interrupted,
    #[error("cannot write results in {}: {source}", path.display())]
    Store { path: PathBuf, source: std::io::Error },
}

fn tail(lines: &[String]) -> String {
    lines.iter().map(|line| format!("\n    {line}")).collect()
}

impl RunError {
    /// The user's input is wrong (exit 2), as opposed to the machine failing.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, RunError::Suite(_) | RunError::Target { .. } | RunError::NoBinary(_))
    }
}

/// Upstream: readiness timeout and stop grace.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
const UPSTREAM_GRACE: Duration = Duration::from_secs(5);

/// Runs the suite. Nothing is written until the suite, the CPU plan and the targets' addresses check out.
pub fn run(options: &RunOptions, cancel: &Shutdown) -> Result<Outcome, RunError> {
    let started_at = now();
    let suite = match &options.suite_text {
        Some(text) => Suite::parse(&options.suite, text.clone())?,
        None => Suite::load(&options.suite)?,
    };
    let pinning = Pinning::plan(&suite, &pinning::online_cores())?;
    preflight(&suite, options)?;
    // The driver's own threads (sampler, progress) share the load generator's cores, away from the targets.
    if let Err(error) = pinning::pin_current_thread(&pinning.load) {
        tracing::warn!(%error, cores = ?pinning.load, "cannot pin the driver");
    }
    // Issue 7: the calibration workload `compare` normalises by, on the cores the targets and the load will use.
    let calibration = crate::calibration::measure_for_run(&pinning);
    let holds_path = std::env::temp_dir().join(format!("rustcorn-bench-{}-upstream-holds.json", std::process::id()));
    let scratch = Scratch::create()?;
    // The targets read the CA from the scratch folder (an absolute path: external targets run in their own cwd),
    // from the calibration on; the run folder, made later, keeps a copy beside the results.
    let upstream_ca = suite.upstream.tls.then(|| scratch.0.join(UPSTREAM_CA_FILE));
    let upstream = match start_upstream(&suite, options, &pinning, &holds_path, upstream_ca.as_deref(), cancel) {
        Err(_) if cancel.is_cancelled() => return Err(RunError::Interrupted),
        other => other?,
    };
    let upstream_url = format!("{}/", upstream.base_url);
    let progress = Progress::new(suite.run_count() as u64, options.quiet);
    let no_cpu_work = CpuWorkTable::default();
    let mut context = PhaseContext {
        rustcorn: &options.rustcorn,
        upstream_url: &upstream_url,
        upstream_ca: upstream_ca.as_deref(),
        pinning: &pinning,
        cancel,
        progress: &progress,
        scratch: &scratch.0,
        cpu_work: &no_cpu_work,
    };
    // Before the store exists: a suite asking a target for a cost it cannot give leaves nothing behind.
    let calibrated = match cpu_work::calibrate(&suite, &context) {
        Ok(calibrated) => calibrated,
        Err(stop) => {
            progress.finish();
            upstream.stop(UPSTREAM_GRACE);
            return Err(stopped_before_the_run(&suite, stop));
        }
    };
    context.cpu_work = &calibrated.table;
    let store = Store::create(&options.results_root, &suite.name)
        .map_err(|source| store_error(&options.results_root, source))?;
    let mut results = initial_results(&suite, &store, &pinning, &upstream_url);
    if let Some(ca) = &upstream_ca {
        results.upstream.ca_file = Some(keep_ca(ca, &store)?.display().to_string());
    }
    results.max_failures = Some(options.max_failures);
    // The run began before the calibrations, not when the store was made.
    results.started_at = started_at;
    results.calibration = calibration;
    for (index, failure) in calibrated.failed {
        fail_target(&suite, &context, &mut results, index, &schedule(&suite), failure);
    }
    write(&store, &results)?;
    let measured = run_all(&suite, &context, &store, &mut results);
    progress.finish();
    drop(scratch);
    upstream.stop(UPSTREAM_GRACE);
    results.upstream.holds = read_holds(&holds_path);
    measured?;
    let interrupted = cancel.is_cancelled();
    results.partial = interrupted;
    results.finished_at = now();
    write(&store, &results)?;
    store.write("stats.csv", &StatsCsv.export(&results)).map_err(|source| store_error(&store.dir(), source))?;
    Ok(Outcome { dir: store.dir(), results, interrupted })
}

/// What a capacity phase's slot does: the search in repetition 0, then a confirmation of the rate the target's
/// search found (or, when it found none, the search again); None for the other load models.
fn capacity_round(results: &RunResults, slot: &Slot, phase: &PhaseSpec) -> Option<capacity::Round> {
    if !matches!(phase.load, LoadSpec::Capacity(_)) {
        return None;
    }
    let searched =
        results.targets[slot.target].phases.iter().find(|done| done.name == phase.name && done.repetition == 0);
    let found = searched.and_then(|done| done.capacity.as_ref()?.capacity_per_second);
    Some(match (slot.repetition, found) {
        (0, _) | (_, None) => capacity::Round::Search,
        (_, Some(found)) => capacity::Round::Confirm { found },
    })
}

/// Runs the suite's slots in [`schedule`] order (repetitions interleaved across targets); a target that fails
/// skips its remaining slots.
fn run_all(suite: &Suite, context: &PhaseContext<'_>, store: &Store, results: &mut RunResults) -> Result<(), RunError> {
    let slots = schedule(suite);
    for (position, slot) in slots.iter().enumerate() {
        let (phase, target) = (&suite.phases[slot.phase], &suite.targets[slot.target]);
        if context.cancel.is_cancelled() {
            return Ok(());
        }
        if matches!(results.targets[slot.target].status, TargetStatus::Failed { .. }) {
            continue;
        }
        let round = capacity_round(results, slot, phase);
        match phase::run(target, phase, slot.repetition, round, context) {
            Ok(measured) => {
                context.progress.finish_phase(&phase_line(&target.name, &measured.result));
                if let (Some(bytes), Some(name)) = (&measured.hlog, &measured.result.hlog) {
                    store.write(name, bytes).map_err(|source| store_error(&store.dir(), source))?;
                }
                results.targets[slot.target].phases.push(measured.result);
            }
            Err(failure) if context.cancel.is_cancelled() => {
                tracing::debug!(target = %target.name, reason = %failure.reason, "stopped by Ctrl-C");
                return Ok(());
            }
            Err(failure) => {
                let skipped = slots[position..].iter().filter(|later| later.target == slot.target).count();
                context.progress.skip(skipped as u64);
                context.progress.line(&format!(
                    "{}: FAILED: {}{}",
                    target.name,
                    failure.reason,
                    tail(&failure.stderr_tail)
                ));
                results.targets[slot.target].status =
                    TargetStatus::Failed { reason: failure.reason, stderr_tail: failure.stderr_tail };
            }
        }
        results.finished_at = now();
        write(store, results)?;
    }
    Ok(())
}

/// A refused `cpu_work` is the suite's or the target's mistake (exit 2); Ctrl-C leaves nothing written.
fn stopped_before_the_run(suite: &Suite, stop: cpu_work::CpuWorkError) -> RunError {
    match stop {
        cpu_work::CpuWorkError::Refused { target, message } => {
            RunError::Target { suite: suite.path.clone(), target, message }
        }
        cpu_work::CpuWorkError::Cancelled => RunError::Interrupted,
    }
}

/// Marks `target` failed and skips its runs among `remaining` on the progress bar.
fn fail_target(
    suite: &Suite,
    context: &PhaseContext<'_>,
    results: &mut RunResults,
    target: usize,
    remaining: &[Slot],
    failure: ChildFailure,
) {
    let skipped = remaining.iter().filter(|slot| slot.target == target).count();
    context.progress.skip(skipped as u64);
    let name = &suite.targets[target].name;
    context.progress.line(&format!("{name}: FAILED: {}{}", failure.reason, tail(&failure.stderr_tail)));
    results.targets[target].status = TargetStatus::Failed { reason: failure.reason, stderr_tail: failure.stderr_tail };
}

/// The folder prefork targets write their `--stats` into; removed when dropped, whichever way the run ends.
struct Scratch(PathBuf);

impl Scratch {
    fn create() -> Result<Scratch, RunError> {
        let path = std::env::temp_dir().join(format!("rustcorn-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|source| store_error(&path, source))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn phase_line(target: &str, result: &crate::results::PhaseResult) -> String {
    let aggregated = &result.load.aggregated;
    let (p99, at_least) =
        aggregated.latency.percentile(99.0).map_or((0, ""), |p| (p.latency_us, if p.lower_bound { "≥ " } else { "" }));
    let capacity = result.capacity.as_ref().map_or(String::new(), |capacity| {
        let found = match (capacity.capacity_per_second, capacity.at_least) {
            (Some(rate), false) => format!("{rate:.1} req/s"),
            (Some(rate), true) => format!("at least {rate:.1} req/s"),
            (None, _) => "none".to_owned(),
        };
        format!("capacity {found} over {} steps ({}); at it: ", capacity.steps.len(), capacity.ended)
    });
    format!(
        "{target} / {} #{}: {capacity}{:.1} req/s, p99 {at_least}{:.2} ms, {} failed, {} in flight, {:.2} cores, RSS \
         {:.1} MiB{}",
        result.name,
        result.repetition,
        aggregated.requests_per_second,
        p99 as f64 / 1000.0,
        aggregated.failures.total(),
        aggregated.in_flight.requests,
        result.resources.summary.cpu_cores_avg,
        result.resources.summary.rss_peak_bytes as f64 / (1024.0 * 1024.0),
        if result.interrupted { " (interrupted)" } else { "" }
    )
}

/// Checks that need the machine but start nothing: the binary exists, external targets are local (or allowed)
/// and their port is free.
fn preflight(suite: &Suite, options: &RunOptions) -> Result<(), RunError> {
    if !options.rustcorn.is_file() {
        return Err(RunError::NoBinary(options.rustcorn.clone()));
    }
    crate::serve_check::check_serve_flags(suite, &options.rustcorn)?;
    for target in &suite.targets {
        let Launch::External { ready_url, .. } = &target.launch else { continue };
        let bad =
            |message: String| RunError::Target { suite: suite.path.clone(), target: target.name.clone(), message };
        // A `{port}` target gets a free port when it starts: only its host is checked here.
        let chosen_port = ready_url.contains(crate::ports::PORT);
        let checked_url = crate::ports::fill(ready_url, Some(1));
        let addr =
            process::socket_addr(&checked_url).ok_or_else(|| bad(format!("cannot resolve ready_url {ready_url}")))?;
        let loopback = match addr.ip() {
            std::net::IpAddr::V4(ip) => ip.is_loopback(),
            std::net::IpAddr::V6(ip) => ip.is_loopback(),
        };
        if !loopback && !options.allow_remote {
            return Err(bad(format!("{addr} is not a loopback address; pass --allow-remote to load a remote target")));
        }
        if loopback && !chosen_port && process::address_in_use(ready_url) {
            return Err(bad(format!("port {} is already in use: something else listens at {addr}", addr.port())));
        }
    }
    Ok(())
}

fn start_upstream(
    suite: &Suite,
    options: &RunOptions,
    pinning: &Pinning,
    holds: &Path,
    ca_out: Option<&Path>,
    cancel: &Shutdown,
) -> Result<ChildServer, RunError> {
    let duration = |d: Duration| format!("{}ms", d.as_millis());
    let mut argv = vec![
        options.rustcorn.display().to_string(),
        "upstream".into(),
        "--bind".into(),
        "127.0.0.1:0".into(),
        "--delay".into(),
        duration(suite.upstream.delay),
        "--jitter".into(),
        duration(suite.upstream.jitter),
        "--body-bytes".into(),
        suite.upstream.body_bytes.to_string(),
        "--record".into(),
        holds.display().to_string(),
    ];
    if let Some(ca_out) = ca_out {
        argv.extend(["--tls".into(), "--ca-out".into(), ca_out.display().to_string()]);
    }
    let spec = ChildSpec {
        argv,
        cwd: None,
        env: Default::default(),
        cores: pinning.upstream.clone(),
        readiness: Readiness::ListeningLine,
        ready_timeout: UPSTREAM_TIMEOUT,
    };
    ChildServer::start(&spec, cancel).map_err(RunError::Upstream)
}

/// Copies the CA the upstream wrote into the run folder (`upstream-ca.pem`), where it stays beside the results;
/// returns its absolute path there.
fn keep_ca(written: &Path, store: &Store) -> Result<PathBuf, RunError> {
    let pem = std::fs::read(written).map_err(|source| RunError::UpstreamCa { path: written.to_owned(), source })?;
    store.write(UPSTREAM_CA_FILE, &pem).map_err(|source| store_error(&store.dir(), source))?;
    let path = store.dir().join(UPSTREAM_CA_FILE);
    std::path::absolute(&path).map_err(|source| store_error(&path, source))
}

/// The TLS upstream's CA in the run folder.
pub const UPSTREAM_CA_FILE: &str = "upstream-ca.pem";

/// The holds the upstream recorded (`--record`, written when it stopped); None, with a warning, when it wrote none.
fn read_holds(path: &Path) -> Option<UpstreamHolds> {
    let text = std::fs::read_to_string(path);
    let _ = std::fs::remove_file(path);
    let holds = text
        .map_err(|error| error.to_string())
        .and_then(|text| serde_json::from_str::<UpstreamHolds>(&text).map_err(|error| format!("unreadable: {error}")));
    holds.map_err(|error| tracing::warn!(path = %path.display(), %error, "no upstream hold record")).ok()
}

fn initial_results(suite: &Suite, store: &Store, pinning: &Pinning, upstream_url: &str) -> RunResults {
    let cwd = std::env::current_dir().unwrap_or_default();
    let context_targets = suite.targets.iter().map(|target| {
        let command = match &target.launch {
            Launch::BuiltIn { model, flags } => {
                let mut argv = vec!["rustcorn".to_owned(), "serve".to_owned(), model.clone()];
                argv.extend(flags.iter().cloned());
                argv
            }
            Launch::External { command, .. } => command.clone(),
        };
        TargetResult {
            name: target.name.clone(),
            family: target.family,
            kind: target.kind,
            keep_alive: KeepAlive::of_sync_target(target.kind, &command),
            command,
            workers: target.workers,
            threads: target.threads,
            status: TargetStatus::Ok,
            phases: Vec::new(),
            variant_of: target.variant_of.clone(),
            role: target.role,
        }
    });
    RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: store.run_id.clone(),
        started_at: now(),
        finished_at: now(),
        partial: true,
        suite: SuiteSource {
            name: suite.name.clone(),
            path: suite.path.display().to_string(),
            // A header value may be a secret (an Authorization token): results.json is kept, shared and committed
            // as a CI baseline, so the values stay in the suite file or on the command line they came from.
            text: crate::suite::redact_header_values(&suite.text),
        },
        environment: crate::environment::collect(pinning.online.len() as u32, &cwd),
        pinning: pinning.record(&suite.targets),
        upstream: UpstreamSettings {
            url: upstream_url.to_owned(),
            delay_ms: suite.upstream.delay.as_secs_f64() * 1000.0,
            jitter_ms: suite.upstream.jitter.as_secs_f64() * 1000.0,
            body_bytes: suite.upstream.body_bytes,
            holds: None,
            ca_file: None,
        },
        targets: context_targets.collect(),
        calibration: None,
        max_failures: None,
    }
}

fn write(store: &Store, results: &RunResults) -> Result<(), RunError> {
    store.write("results.json", &Json.export(results)).map_err(|source| store_error(&store.results_path(), source))
}

fn store_error(path: &Path, source: std::io::Error) -> RunError {
    RunError::Store { path: path.to_owned(), source }
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}
