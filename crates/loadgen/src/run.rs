//! [`run`]: checks the plan, starts one OS thread per `threads` (each pinned if asked, each with one
//! current_thread runtime: rewrk#23), starts them together, and merges their records into a [`LoadReport`].

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::per_worker::WorkerCounts;
use crate::report::{EndpointRecord, LatencyBasis, ReportParts, SecondRecord};
use crate::worker::{self, Shared, ThreadResult};
use crate::{LoadError, LoadPlan, LoadReport, Pacing, RateStats, RunControl};

/// Time given to the threads to build their runtimes before the common start instant.
const START_GRACE: Duration = Duration::from_millis(20);

/// Runs the plan to its stop condition (or until `control.cancel`) and reports what was measured. Blocking.
pub fn run(plan: &LoadPlan, control: &RunControl) -> Result<LoadReport, LoadError> {
    plan.validate()?;
    preflight(plan)?;
    let (start_senders, handles) = spawn_threads(plan, control)?;
    let start = Instant::now() + START_GRACE;
    let started_at_unix_ms = unix_ms(SystemTime::now() + START_GRACE + plan.warmup);
    let shared = Arc::new(Shared::new(plan, start, Arc::clone(&control.live)));
    for sender in start_senders {
        // A thread that already failed (affinity) has hung up; its error comes out of join below.
        let _ = sender.send(Arc::clone(&shared));
    }
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.join().map_err(|_| LoadError::ThreadPanicked)??);
    }
    assemble(plan, &shared, results, control.cancel.is_cancelled(), started_at_unix_ms)
}

/// Fails fast with [`LoadError::Unreachable`] when nothing accepts connections at the target.
fn preflight(plan: &LoadPlan) -> Result<(), LoadError> {
    let addr = plan.target.addr;
    std::net::TcpStream::connect_timeout(&addr, plan.timeout)
        .map(drop)
        .map_err(|source| LoadError::Unreachable { addr, source })
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
                local.block_on(&runtime, worker::drive_thread(shared, index, cancel))
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
    cancelled: bool,
    started_at_unix_ms: u64,
) -> Result<LoadReport, LoadError> {
    let keep_service_time = matches!(plan.pacing, Pacing::Rate { .. });
    let mut endpoints: Vec<EndpointRecord> =
        plan.tasks.iter().map(|_| EndpointRecord::with_service_time(keep_service_time)).collect();
    let mut timeline: Vec<SecondRecord> = Vec::new();
    let mut warmup_requests = 0;
    let mut workers = WorkerCounts::default();
    let finished_at = results.iter().map(|result| result.finished_at).max().unwrap_or(shared.measure_start);
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
    }
    let duration_secs = finished_at.saturating_duration_since(shared.measure_start).as_secs_f64();
    let rate = match plan.pacing {
        Pacing::Rate { per_second, connections } => {
            Some(rate_stats(shared, &results, per_second, connections, finished_at, duration_secs))
        }
        _ => None,
    };
    let parts = ReportParts {
        model: plan.pacing.model(),
        started_at_unix_ms,
        duration_secs,
        warmup_requests,
        cancelled,
        latency_basis: if keep_service_time { LatencyBasis::Corrected } else { LatencyBasis::ServiceTime },
        endpoints: plan.tasks.iter().map(|task| task.name.clone()).zip(endpoints).collect(),
        timeline,
        rate,
        workers,
    };
    parts.into_report()
}

fn rate_stats(
    shared: &Shared,
    results: &[ThreadResult],
    per_second: f64,
    connections: usize,
    finished_at: Instant,
    duration_secs: f64,
) -> RateStats {
    let sending_ended = shared.stop.deadline().map_or(finished_at, |deadline| deadline.min(finished_at));
    let schedules = results.iter().flat_map(|result| &result.schedules);
    let (mut scheduled, mut sent, mut max_lag) = (0, 0, Duration::ZERO);
    for schedule in schedules {
        scheduled += schedule.slots_between(shared.measure_start, sending_ended);
        sent += schedule.sent;
        max_lag = max_lag.max(schedule.max_lag);
    }
    let scheduled = scheduled.max(sent);
    RateStats {
        target_per_second: per_second,
        achieved_per_second: if duration_secs > 0.0 { sent as f64 / duration_secs } else { 0.0 },
        scheduled,
        sent,
        max_send_lag_us: u64::try_from(max_lag.as_micros()).unwrap_or(u64::MAX),
        kept_up: RateStats::judge(scheduled, sent, connections as u64),
    }
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}
