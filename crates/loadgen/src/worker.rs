//! One load thread: a current_thread tokio runtime driving its share of the connections (or users). Each
//! connection loops pacer -> stop condition -> request -> recorder; the same loop serves every load model.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;

use crate::client::{self, Connection, ExchangeError};
use crate::pacing::{Pacer, Schedule};
use crate::recorder::{FailureKind, Outcome, Recorder, ThreadRecords, Timing};
use crate::stop::StopCondition;
use crate::{LiveCounters, LoadError, LoadPlan, Pacing};

/// Pause after a failed connect so a dead target is not hammered in a tight loop.
const CONNECT_RETRY_PAUSE: Duration = Duration::from_millis(10);

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
    pub fn new(plan: &LoadPlan, start: Instant, live: Arc<LiveCounters>) -> Shared {
        let measure_start = start + plan.warmup;
        let deadline = plan.stop.duration.map(|duration| measure_start + duration);
        Shared {
            addr: plan.target.addr,
            requests: plan
                .tasks
                .iter()
                .map(|task| client::encode_get(&task.path_and_query, &plan.target.host_header))
                .collect(),
            picker: TaskPicker::new(plan.tasks.iter().map(|task| task.weight)),
            pacing: plan.pacing.clone(),
            stop: StopCondition::new(deadline, plan.stop.requests),
            start,
            measure_start,
            timeout: plan.timeout,
            threads: plan.threads,
            live,
        }
    }
}

/// What one thread measured, plus its connections' schedules (rate mode).
pub(crate) struct ThreadResult {
    pub records: ThreadRecords,
    pub schedules: Vec<Schedule>,
    pub finished_at: Instant,
}

/// Runs thread `index`'s connections to completion, or until `cancel` fires (then in-flight requests are
/// abandoned and the records so far returned).
pub(crate) async fn drive_thread(
    shared: Arc<Shared>,
    index: usize,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<ThreadResult, LoadError> {
    let keep_service_time = matches!(shared.pacing, Pacing::Rate { .. });
    let recorder = Rc::new(RefCell::new(Recorder::new(
        shared.requests.len(),
        keep_service_time,
        shared.measure_start,
        Arc::clone(&shared.live),
    )));
    let connections = shared.pacing.connections();
    let mut handles: Vec<JoinHandle<Option<Schedule>>> = (index..connections)
        .step_by(shared.threads)
        .map(|connection| {
            tokio::task::spawn_local(drive_connection(Arc::clone(&shared), Rc::clone(&recorder), connection))
        })
        .collect();
    let mut schedules = Vec::new();
    let all_done = async {
        for handle in handles.iter_mut() {
            if let Ok(Some(schedule)) = handle.await {
                schedules.push(schedule);
            }
        }
    };
    tokio::select! {
        _ = all_done => {}
        _ = cancel.cancelled() => {}
    }
    for handle in &handles {
        handle.abort();
    }
    let finished_at = Instant::now();
    let records = recorder.borrow_mut().finish()?;
    Ok(ThreadResult { records, schedules, finished_at })
}

/// One connection (or user): wait for the pacer, claim from the stop condition, send, record; until stopped.
async fn drive_connection(shared: Arc<Shared>, recorder: Rc<RefCell<Recorder>>, index: usize) -> Option<Schedule> {
    let mut rng = SmallRng::from_entropy();
    let mut pacer = Pacer::new(&shared.pacing, index, shared.start);
    let mut connection = Connection::new(shared.addr);
    while let Some(intended) = pacer.next(&shared.stop, &mut rng).await {
        let measured = intended >= shared.measure_start;
        if measured && !shared.stop.claim() {
            break;
        }
        let task = shared.picker.pick(&mut rng);
        let sent = Instant::now();
        if measured {
            pacer.note_sent(intended, sent);
        }
        let outcome = match tokio::time::timeout(shared.timeout, connection.exchange(&shared.requests[task])).await {
            Ok(Ok(response)) => Outcome::Response(response),
            Ok(Err(error)) => Outcome::Failed(failure_kind(&error)),
            Err(_elapsed) => {
                connection.reset();
                Outcome::Failed(FailureKind::Timeout)
            }
        };
        let done = Instant::now();
        recorder.borrow_mut().record(task, Timing { intended, sent, done }, outcome);
        if let Outcome::Failed(FailureKind::Connect) = outcome {
            shared.stop.sleep_until(done + CONNECT_RETRY_PAUSE).await;
        }
    }
    pacer.into_schedule()
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
