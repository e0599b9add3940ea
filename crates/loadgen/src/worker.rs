//! One load thread: a current_thread tokio runtime driving its share of the connections (or users). Each
//! connection loops pacer -> stop condition -> request -> recorder; the same loop serves every load model. The
//! thread closes the measured window and hands the recorder's snapshot of what was in flight to the run.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;

use crate::client::{Connect, Connection, ExchangeError, Plain, TlsConnect};
use crate::open_stats::OpenLoopCounts;
use crate::pacing::{Pacer, SlotClock};
use crate::recorder::{FailureKind, Outcome, Recorder, ThreadRecords, Timing};
use crate::stop::StopCondition;
use crate::{LiveCounters, LoadError, LoadPlan, Pacing};

/// Pause after a failed connect so a dead target is not hammered in a tight loop.
pub(crate) const CONNECT_RETRY_PAUSE: Duration = Duration::from_millis(10);

/// What every load thread reads, built once from the plan.
pub(crate) struct Shared {
    pub addr: SocketAddr,
    /// The pre-encoded request of each task.
    pub requests: Vec<Vec<u8>>,
    pub picker: TaskPicker,
    pub pacing: Pacing,
    pub stop: StopCondition,
    pub start: Instant,
    pub measure_start: Instant,
    pub timeout: Duration,
    pub threads: usize,
    pub live: Arc<LiveCounters>,
    /// False: a new connection for every request (`--disable-keepalive`).
    pub keep_alive: bool,
    /// Some for an https target: every connection speaks TLS with this configuration; None is plain TCP.
    pub tls: Option<TlsConnect>,
}

/// Picks a task index with probability weight / total.
pub(crate) struct TaskPicker {
    cumulative: Vec<u64>,
}

impl TaskPicker {
    pub fn new(weights: impl IntoIterator<Item = u32>) -> TaskPicker {
        let cumulative = weights
            .into_iter()
            .scan(0u64, |total, weight| {
                *total += u64::from(weight);
                Some(*total)
            })
            .collect();
        TaskPicker { cumulative }
    }

    pub fn pick(&self, rng: &mut SmallRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        if self.cumulative.len() <= 1 || total == 0 {
            return 0;
        }
        let ticket = rng.gen_range(0..total);
        self.cumulative.iter().position(|&bound| ticket < bound).unwrap_or(0)
    }
}

impl Shared {
    pub fn new(plan: &LoadPlan, start: Instant, live: Arc<LiveCounters>, tls: Option<TlsConnect>) -> Shared {
        let measure_start = start + plan.warmup;
        let deadline = plan.stop.duration.map(|duration| measure_start + duration);
        Shared {
            addr: plan.target.addr,
            requests: plan
                .tasks
                .iter()
                .map(|task| plan.request.encode(&task.path_and_query, &plan.target.host_header))
                .collect(),
            picker: TaskPicker::new(plan.tasks.iter().map(|task| task.weight)),
            pacing: plan.pacing.clone(),
            stop: StopCondition::new(deadline, plan.stop.requests),
            start,
            measure_start,
            timeout: plan.timeout,
            threads: plan.threads,
            live,
            keep_alive: plan.request.keep_alive,
            tls,
        }
    }
}

/// What one thread measured, when its window closed, and (rate mode) how its connections' schedules went.
pub(crate) struct ThreadResult {
    pub records: ThreadRecords,
    pub closed_at: Instant,
    pub schedule: Option<ScheduleCount>,
    /// Open-rate mode: the thread's connections, bound waits and send lag.
    pub open: Option<OpenLoopCounts>,
}

/// Rate mode: slots due before the close (or, once a request budget ran out, the slots sent), split at the end of
/// the warm-up.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScheduleCount {
    pub warmup: u64,
    pub window: u64,
}

/// Runs thread `index`'s connections until the window closes - at the deadline, when `cancel` fires, or when every
/// connection is done (a request budget spent) - then stops them and records what was still in flight. Requests
/// on the wire are abandoned, as wrk does at the end of its run: they are reported, not waited for.
pub(crate) async fn drive_thread(
    shared: Arc<Shared>,
    index: usize,
    cancel: crate::Shutdown,
) -> Result<ThreadResult, LoadError> {
    let keep_service_time = shared.pacing.is_scheduled();
    let mine: Vec<usize> = (index..shared.pacing.connections()).step_by(shared.threads).collect();
    let recorder = Rc::new(RefCell::new(Recorder::new(
        shared.requests.len(),
        mine.len(),
        keep_service_time,
        (shared.measure_start, shared.stop.deadline()),
        Arc::clone(&shared.live),
    )));
    let mut handles: Vec<JoinHandle<()>> = mine
        .iter()
        .enumerate()
        .map(|(local, &connection)| {
            // The stream type is chosen here, once per connection: the plain path has no TLS branch per request.
            let (shared, recorder) = (Arc::clone(&shared), Rc::clone(&recorder));
            match shared.tls.clone() {
                None => tokio::task::spawn_local(drive_connection(shared, recorder, connection, local, Plain)),
                Some(tls) => tokio::task::spawn_local(drive_connection(shared, recorder, connection, local, tls)),
            }
        })
        .collect();
    let closed_at = wait_for_close(&shared, &mut handles, &cancel).await;
    // No await from here on: the aborted connections never run again, so the snapshot below is final.
    for handle in &handles {
        handle.abort();
    }
    let mut recorder = recorder.borrow_mut();
    recorder.close(closed_at);
    let schedule = match shared.pacing {
        Pacing::Rate { per_second, connections } => {
            Some(account_schedule(&shared, (per_second, connections), &mine, &mut recorder, closed_at))
        }
        _ => None,
    };
    Ok(ThreadResult { records: recorder.finish()?, closed_at, schedule, open: None })
}

/// The instant the window closes for this thread: the deadline if it comes first, else when `cancel` fires or
/// every connection has ended.
pub(crate) async fn wait_for_close(
    shared: &Shared,
    handles: &mut [JoinHandle<()>],
    cancel: &crate::Shutdown,
) -> Instant {
    let all_done = async {
        for handle in handles.iter_mut() {
            let _ = handle.await;
        }
    };
    let deadline = async {
        match shared.stop.deadline() {
            Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = all_done => {}
        _ = cancel.cancelled() => {}
        _ = deadline => {}
    }
    // tokio wakes up to a millisecond after the deadline; the window still closes at the deadline itself.
    shared.stop.cap(Instant::now())
}

/// Rate mode: counts each connection's slots due before the close and records the ones it had not sent.
fn account_schedule(
    shared: &Shared,
    (per_second, connections): (f64, usize),
    mine: &[usize],
    recorder: &mut Recorder,
    closed_at: Instant,
) -> ScheduleCount {
    let mut count = ScheduleCount::default();
    for (local, &connection) in mine.iter().enumerate() {
        let clock = SlotClock::new(per_second, connections, connection, shared.start);
        let sent = recorder.sends(local);
        // Once the budget is spent nothing more was due: the schedule ended with the last request sent.
        let due = if shared.stop.budget_spent() { sent } else { clock.slots_before(closed_at).max(sent) };
        for slot in sent..due {
            recorder.not_sent(clock.slot(slot));
        }
        let warmup = clock.slots_before(shared.measure_start).min(due);
        count.warmup += warmup;
        count.window += due - warmup;
    }
    count
}

/// One connection (or user): wait for the pacer, claim from the stop condition, send, record; until stopped.
async fn drive_connection<C: Connect>(
    shared: Arc<Shared>,
    recorder: Rc<RefCell<Recorder>>,
    index: usize,
    local: usize,
    connector: C,
) {
    let mut rng = SmallRng::from_entropy();
    let mut pacer = Pacer::new(&shared.pacing, index, shared.start);
    let mut connection = Connection::with_connector(connector, shared.addr, shared.keep_alive);
    while let Some(intended) = pacer.next(&shared.stop, &mut rng).await {
        if intended >= shared.measure_start && !shared.stop.claim() {
            break;
        }
        let task = shared.picker.pick(&mut rng);
        let sent = Instant::now();
        recorder.borrow_mut().sent(local, task, intended, sent);
        let outcome = exchange(&shared, &mut connection, task).await;
        let done = Instant::now();
        recorder.borrow_mut().record(local, task, Timing { intended, sent, done }, outcome);
        if let Outcome::Failed(FailureKind::Connect) = outcome {
            shared.stop.sleep_until(done + CONNECT_RETRY_PAUSE).await;
        }
    }
}

/// Sends task `task`'s request on `connection` and reads the answer within the per-request timeout; a timed-out
/// connection is dropped so the next exchange starts on a fresh one.
pub(crate) async fn exchange<C: Connect>(shared: &Shared, connection: &mut Connection<C>, task: usize) -> Outcome {
    match tokio::time::timeout(shared.timeout, connection.exchange(&shared.requests[task])).await {
        Ok(Ok(response)) => Outcome::Response(response),
        Ok(Err(error)) => Outcome::Failed(failure_kind(&error)),
        Err(_elapsed) => {
            connection.reset();
            Outcome::Failed(FailureKind::Timeout)
        }
    }
}

fn failure_kind(error: &ExchangeError) -> FailureKind {
    match error {
        ExchangeError::Connect(_) => FailureKind::Connect,
        _ => FailureKind::Read,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picker_follows_weights() {
        let picker = TaskPicker::new([1, 0, 3]);
        let mut rng = SmallRng::seed_from_u64(1);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[picker.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[2]) / 40_000.0;
        assert!((0.73..0.77).contains(&share), "weight 3 of 4 gave {share}");
    }
}
