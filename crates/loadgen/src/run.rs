//! [`run`]: checks the plan, starts one OS thread per `threads` (each pinned if asked, each with one
//! current_thread runtime: rewrk#23), starts them together, and merges their records into a [`LoadReport`].

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::agent::{self, WallClock};
use crate::client::TlsConnect;
use crate::fd_limit;
use crate::histogram::Latencies;
use crate::open_loop;
use crate::open_stats::OpenLoopCounts;
use crate::per_worker::WorkerCounts;
use crate::report::{EndpointRecord, LatencyBasis, ReportParts, SecondRecord};
use crate::worker::{self, ScheduleCount, Shared, ThreadResult};
use crate::{
    AgentWindow, AnswerSpread, InFlightStats, LoadError, LoadPlan, LoadReport, Pacing, RateStats, RunControl, TlsTarget,
};

/// Time given to the threads to build their runtimes before the common start instant.
const START_GRACE: Duration = Duration::from_millis(20);

/// Runs the plan to its stop condition (or until `control.cancel`) and reports what was measured. Blocking.
pub fn run(plan: &LoadPlan, control: &RunControl) -> Result<LoadReport, LoadError> {
    plan.validate()?;
    check_start_ahead(plan)?;
    let tls = plan.target.tls.as_ref().map(TlsTarget::connector).transpose()?;
    fd_limit::make_room_for(plan.pacing.connections());
    preflight(plan, tls.as_ref())?;
    let file_limit = match plan.pacing {
        Pacing::OpenRate { max_connections, .. } => open_loop::raise_file_limit(max_connections),
        _ => None,
    };
    let (start_senders, handles) = spawn_threads(plan, control)?;
    let clock = WallClock::now();
    let start = match plan.agent.start_at {
        // The threads are ready (runtimes built), so only the hand-over below stands between now and the start.
        Some(at) => clock.instant_at(at).unwrap_or_else(Instant::now),
        None => Instant::now() + START_GRACE,
    };
    let started_at_unix_ms = clock.unix_us(start + plan.warmup) / 1000;
    let shared = Arc::new(Shared::new(plan, start, Arc::clone(&control.live), tls));
    for sender in start_senders {
        // A thread that already failed (affinity) has hung up; its error comes out of join below.
        let _ = sender.send(Arc::clone(&shared));
    }
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.join().map_err(|_| LoadError::ThreadPanicked)??);
    }
    let first_sent = results.iter().filter_map(|result| result.records.first_sent).min();
    let run = RunFacts { cancelled: control.cancel.is_cancelled(), started_at_unix_ms, file_limit };
    let mut report = assemble(plan, &shared, results, &run)?;
    report.agents = vec![agent_window(plan, &clock, &shared, first_sent, &report)];
    Ok(report)
}

/// Refuses a `start_at` that has already passed: that agent could not start with the others.
fn check_start_ahead(plan: &LoadPlan) -> Result<(), LoadError> {
    let Some(at) = plan.agent.start_at else { return Ok(()) };
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) if !ahead.is_zero() => Ok(()),
        _ => {
            let ago = SystemTime::now().duration_since(at).unwrap_or_default();
            let reason = format!(
                "{} passed {:.3} s ago: this agent cannot start together with the others; give a later instant",
                agent::format_unix_us(agent::unix_us(at)),
                ago.as_secs_f64()
            );
            Err(LoadError::invalid("--start-at", reason))
        }
    }
}

/// This run's agent: its name, host, and its window and first request on the wall clock.
fn agent_window(
    plan: &LoadPlan,
    clock: &WallClock,
    shared: &Shared,
    first_sent: Option<Instant>,
    report: &LoadReport,
) -> AgentWindow {
    let host = agent::hostname();
    let window_start_unix_us = clock.unix_us(shared.measure_start);
    AgentWindow {
        id: plan.agent.id.clone().unwrap_or_else(|| agent::id_from_hostname(&host)),
        host,
        start_at_unix_us: plan.agent.start_at.map(agent::unix_us),
        window_start_unix_us,
        window_end_unix_us: window_start_unix_us + (report.duration_secs * 1e6).round() as u64,
        first_request_unix_us: first_sent.map(|sent| clock.unix_us(sent)),
        requests: report.aggregated.count,
    }
}

/// Fails fast with [`LoadError::Unreachable`] when nothing accepts connections at the target, and for https with
/// [`LoadError::Tls`] when the handshake fails (a certificate the run does not trust).
fn preflight(plan: &LoadPlan, tls: Option<&TlsConnect>) -> Result<(), LoadError> {
    let addr = plan.target.addr;
    let stream = std::net::TcpStream::connect_timeout(&addr, plan.timeout)
        .map_err(|source| LoadError::Unreachable { addr, source })?;
    match tls {
        Some(tls) => tls.check(stream, plan.timeout).map_err(|reason| LoadError::Tls { addr, reason }),
        None => Ok(()),
    }
}

type StartSender = mpsc::Sender<Arc<Shared>>;
type ThreadHandle = JoinHandle<Result<ThreadResult, LoadError>>;

/// Starts the threads; each pins itself, builds its runtime, then waits for the shared state with the start time.
fn spawn_threads(plan: &LoadPlan, control: &RunControl) -> Result<(Vec<StartSender>, Vec<ThreadHandle>), LoadError> {
    let (ready_sender, ready) = mpsc::channel::<Result<(), LoadError>>();
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    for index in 0..plan.threads {
        let (sender, receiver) = mpsc::channel::<Arc<Shared>>();
        let core = plan.cpu_affinity.as_ref().map(|cpus| cpus[index % cpus.len()]);
        let cancel = control.cancel.clone();
        let ready_sender = ready_sender.clone();
        let handle = std::thread::Builder::new()
            .name(format!("load-{index}"))
            .spawn(move || {
                let runtime = prepare_thread(core);
                let runtime = match runtime {
                    Ok(runtime) => {
                        let _ = ready_sender.send(Ok(()));
                        runtime
                    }
                    Err(error) => {
                        let _ = ready_sender.send(Err(LoadError::Affinity {
                            cpus: core.into_iter().collect(),
                            reason: error.to_string(),
                        }));
                        return Err(error);
                    }
                };
                let shared = receiver.recv().map_err(|_| LoadError::ThreadPanicked)?;
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, drive_thread(shared, index, cancel))
            })
            .map_err(LoadError::Thread)?;
        senders.push(sender);
        handles.push(handle);
    }
    drop(ready_sender);
    for _ in 0..plan.threads {
        match ready.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error),
            Err(_) => return Err(LoadError::ThreadPanicked),
        }
    }
    Ok((senders, handles))
}

/// One load thread of the plan's model: fixed connections, or the open rate's dispatcher.
async fn drive_thread(shared: Arc<Shared>, index: usize, cancel: crate::Shutdown) -> Result<ThreadResult, LoadError> {
    match shared.pacing {
        Pacing::OpenRate { .. } => open_loop::drive_thread(shared, index, cancel).await,
        _ => worker::drive_thread(shared, index, cancel).await,
    }
}

/// What the run knows beside the threads' records.
struct RunFacts {
    cancelled: bool,
    started_at_unix_ms: u64,
    /// Open rate: the soft open-file limit after raising it.
    file_limit: Option<u64>,
}

/// Pins the calling thread (when asked) and builds its current_thread runtime.
fn prepare_thread(core: Option<usize>) -> Result<tokio::runtime::Runtime, LoadError> {
    if let Some(core) = core {
        pin_to_core(core)?;
    }
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(LoadError::Thread)
}

fn pin_to_core(core: usize) -> Result<(), LoadError> {
    use nix::sched::{sched_setaffinity, CpuSet};
    let error = |reason: String| LoadError::Affinity { cpus: vec![core], reason };
    let mut set = CpuSet::new();
    set.set(core).map_err(|e| error(e.to_string()))?;
    sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).map_err(|e| error(e.to_string()))
}

fn assemble(
    plan: &LoadPlan,
    shared: &Shared,
    results: Vec<ThreadResult>,
    run: &RunFacts,
) -> Result<LoadReport, LoadError> {
    let keep_service_time = plan.pacing.is_scheduled();
    let mut endpoints: Vec<EndpointRecord> =
        plan.tasks.iter().map(|_| EndpointRecord::with_service_time(keep_service_time)).collect();
    let mut timeline: Vec<SecondRecord> = Vec::new();
    let mut warmup_requests = 0;
    let closed_at = results.iter().map(|result| result.closed_at).max().unwrap_or(shared.measure_start);
    let mut workers = WorkerCounts::default();
    let mut statuses = crate::StatusCounts::default();
    for result in &results {
        for (total, record) in endpoints.iter_mut().zip(&result.records.endpoints) {
            total.add(record)?;
        }
        if timeline.len() < result.records.timeline.len() {
            timeline.resize_with(result.records.timeline.len(), SecondRecord::default);
        }
        for (total, second) in timeline.iter_mut().zip(&result.records.timeline) {
            total.add(second)?;
        }
        warmup_requests += result.records.warmup_requests;
        workers.add(&result.records.workers);
        statuses.add(&result.records.statuses);
    }
    let duration_secs = closed_at.saturating_duration_since(shared.measure_start).as_secs_f64();
    let rate = match plan.pacing {
        Pacing::Rate { per_second, connections } => {
            Some(rate_stats(&results, per_second, connections as u64, duration_secs)?)
        }
        // Each load thread's dispatcher holds at most one slot back (the one waiting for a connection).
        Pacing::OpenRate { per_second, max_connections } => {
            let mut stats = rate_stats(&results, per_second, plan.threads as u64, duration_secs)?;
            stats.open = Some(open_stats(&results)?.stats(max_connections as u64, run.file_limit));
            Some(stats)
        }
        _ => None,
    };
    let parts = ReportParts {
        model: plan.pacing.model(),
        started_at_unix_ms: run.started_at_unix_ms,
        duration_secs,
        warmup_requests,
        cancelled: run.cancelled,
        latency_basis: if keep_service_time { LatencyBasis::Corrected } else { LatencyBasis::ServiceTime },
        endpoints: plan.tasks.iter().map(|task| task.name.clone()).zip(endpoints).collect(),
        timeline,
        rate,
        workers,
        statuses,
    };
    let mut report = parts.into_report()?;
    report.answers_per_connection = answer_spread(plan, &results);
    Ok(report)
}

/// How the responses were spread over the connections (users); the rate model's schedule fixes its own spread.
fn answer_spread(plan: &LoadPlan, results: &[ThreadResult]) -> Option<AnswerSpread> {
    if matches!(plan.pacing, Pacing::Rate { .. }) {
        return None;
    }
    AnswerSpread::of(results.iter().flat_map(|result| result.records.answers.iter().copied()))
}

fn rate_stats(
    results: &[ThreadResult],
    per_second: f64,
    connections: u64,
    duration_secs: f64,
) -> Result<RateStats, LoadError> {
    let (mut schedule, mut sent, mut max_lag) = (ScheduleCount::default(), 0, Duration::ZERO);
    let mut not_sent = Latencies::default();
    for result in results {
        let count = result.schedule.unwrap_or_default();
        schedule.warmup += count.warmup;
        schedule.window += count.window;
        sent += result.records.sends_in_window;
        max_lag = max_lag.max(result.records.max_send_lag);
        not_sent.add(&result.records.not_sent)?;
    }
    Ok(RateStats {
        target_per_second: per_second,
        achieved_per_second: if duration_secs > 0.0 { sent as f64 / duration_secs } else { 0.0 },
        scheduled: schedule.window,
        sent,
        max_send_lag_us: u64::try_from(max_lag.as_micros()).unwrap_or(u64::MAX),
        kept_up: RateStats::judge(schedule.window, sent, connections),
        warmup_scheduled: schedule.warmup,
        not_sent: InFlightStats::of(&not_sent),
        open: None,
    })
}

fn open_stats(results: &[ThreadResult]) -> Result<OpenLoopCounts, LoadError> {
    let mut total = OpenLoopCounts::default();
    for counts in results.iter().filter_map(|result| result.open.as_ref()) {
        total.add(counts)?;
    }
    Ok(total)
}
