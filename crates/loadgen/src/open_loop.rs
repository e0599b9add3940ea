//! The open-rate load thread: one dispatcher walks the thread's share of the schedule and sends each due slot on
//! an idle kept-alive connection, or on a newly opened one when none is idle, up to the thread's share of the
//! connection bound. So a slow target makes the generator open connections rather than hold its rate down (wrk2's
//! fixed connections cap the offered rate at connections / latency). A slot that finds the bound reached waits
//! for a connection and is counted: the run then measured the generator, not the target.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::client::{Connect, Connection, Plain};
use crate::open_stats::{OpenLoopCounts, SPARE_FILES};
use crate::pacing::Pacer;
use crate::ramp_clock::RampClock;
use crate::recorder::{FailureKind, Outcome, Recorder, Timing};
use crate::worker::{self, ScheduleCount, Shared, ThreadResult, CONNECT_RETRY_PAUSE};
use crate::{LoadError, Pacing};

/// Thread `index`'s connections: the idle ones (with their local index in the recorder), how many it opened and
/// may open, and how many are busy with a request.
struct Pool<C: Connect> {
    idle: Vec<(usize, Connection<C>)>,
    opened: usize,
    bound: usize,
    busy: usize,
}

/// What the dispatcher and its request tasks share; single-threaded, so `Rc` and `RefCell`.
struct ThreadState<C: Connect> {
    shared: Arc<Shared>,
    recorder: RefCell<Recorder>,
    pool: RefCell<Pool<C>>,
    /// Woken when a request task hands its connection back.
    freed: Notify,
    counts: RefCell<OpenLoopCounts>,
    connector: C,
}

/// The share of `max_connections` that load thread `index` of `threads` may open.
pub(crate) fn thread_bound(max_connections: usize, threads: usize, index: usize) -> usize {
    max_connections / threads + usize::from(index < max_connections % threads)
}

/// Runs thread `index`'s share of an open-rate plan until the window closes, then stops its requests and records
/// what was in flight and which slots were due but not sent.
pub(crate) async fn drive_thread(
    shared: Arc<Shared>,
    index: usize,
    cancel: crate::Shutdown,
) -> Result<ThreadResult, LoadError> {
    match shared.tls.clone() {
        None => drive_with(shared, index, cancel, Plain).await,
        Some(tls) => drive_with(shared, index, cancel, tls).await,
    }
}

async fn drive_with<C: Connect + Clone + 'static>(
    shared: Arc<Shared>,
    index: usize,
    cancel: crate::Shutdown,
    connector: C,
) -> Result<ThreadResult, LoadError> {
    let Pacing::OpenRate { per_second, max_connections } = shared.pacing else {
        return Err(LoadError::invalid("--open", "the open-loop thread runs only an open-rate plan"));
    };
    let bound = thread_bound(max_connections, shared.threads, index);
    let recorder = Recorder::new(
        shared.requests.len(),
        bound,
        true,
        (shared.measure_start, shared.stop.deadline()),
        Arc::clone(&shared.live),
    );
    let state = Rc::new(ThreadState {
        shared: Arc::clone(&shared),
        recorder: RefCell::new(recorder),
        pool: RefCell::new(Pool { idle: Vec::with_capacity(bound), opened: 0, bound, busy: 0 }),
        freed: Notify::new(),
        counts: RefCell::new(OpenLoopCounts::default()),
        connector,
    });
    let requests = Rc::new(RefCell::new(JoinSet::new()));
    let clock = schedule_clock(&shared, per_second, index);
    let mut dispatcher = [tokio::task::spawn_local(dispatch(Rc::clone(&state), Rc::clone(&requests), clock))];
    let closed_at = worker::wait_for_close(&shared, &mut dispatcher, &cancel).await;
    // No await from here on: the aborted tasks never run again, so the snapshot below is final.
    dispatcher[0].abort();
    requests.borrow_mut().abort_all();
    let mut recorder = state.recorder.borrow_mut();
    recorder.close(closed_at);
    let clock = schedule_clock(&shared, per_second, index);
    let schedule = account_schedule(&shared, &clock, &mut recorder, closed_at);
    let mut counts = state.counts.borrow().clone();
    counts.most_open = state.pool.borrow().opened as u64;
    Ok(ThreadResult { records: recorder.finish()?, closed_at, schedule: Some(schedule), open: Some(counts) })
}

/// Thread `index`'s share of the schedule, the rate ramping up over the first half of the warm-up. The second half
/// runs at the full rate, so the answers that complete early in the window were sent at the full rate too (a ramp to
/// the window's start left it ~1 % short of the offered rate on a 100 ms target).
fn schedule_clock(shared: &Shared, per_second: f64, index: usize) -> RampClock {
    let ramp = shared.measure_start.saturating_duration_since(shared.start) / 2;
    RampClock::new(per_second, ramp, (index, shared.threads), shared.start)
}

/// Walks the schedule: each due slot goes out on a free connection as a task of its own. Once the schedule ends
/// (deadline or budget), waits for the requests on the wire, so a budgeted run closes on its last answer.
async fn dispatch<C: Connect + Clone + 'static>(
    state: Rc<ThreadState<C>>,
    requests: Rc<RefCell<JoinSet<()>>>,
    clock: RampClock,
) {
    let shared = &state.shared;
    let mut rng = SmallRng::from_entropy();
    let mut pacer = Pacer::ramped(clock);
    // When the dispatcher last stopped waiting for the bound: slots due before then waited for it too.
    let mut blocked_until: Option<Instant> = None;
    while let Some(intended) = pacer.next(&shared.stop, &mut rng).await {
        let measured = intended >= shared.measure_start;
        if measured && !shared.stop.claim() {
            break;
        }
        let (local, connection) = match take_or_open(&state) {
            Some(free) => free,
            None => match wait_for_free(&state).await {
                Some(free) => {
                    blocked_until = Some(Instant::now());
                    free
                }
                None => break,
            },
        };
        let waited = blocked_until.is_some_and(|until| intended < until);
        let task = shared.picker.pick(&mut rng);
        let sent = Instant::now();
        count_send(&state, measured, waited, sent.saturating_duration_since(intended));
        state.recorder.borrow_mut().sent(local, task, intended, sent);
        state.pool.borrow_mut().busy += 1;
        let mut requests = requests.borrow_mut();
        requests.spawn_local(send_on(Rc::clone(&state), (local, connection), task, (intended, sent)));
        while requests.try_join_next().is_some() {}
    }
    while state.pool.borrow().busy > 0 {
        state.freed.notified().await;
    }
}

fn count_send<C: Connect>(state: &ThreadState<C>, measured: bool, waited: bool, lag: std::time::Duration) {
    if !measured {
        return;
    }
    let mut counts = state.counts.borrow_mut();
    if waited {
        counts.bound_waits += 1;
    } else {
        counts.send_lag.record(u64::try_from(lag.as_micros()).unwrap_or(u64::MAX));
    }
}

/// The most recently freed idle connection (the warmest), or a new one while the bound allows.
fn take_or_open<C: Connect + Clone>(state: &ThreadState<C>) -> Option<(usize, Connection<C>)> {
    let mut pool = state.pool.borrow_mut();
    if let Some(idle) = pool.idle.pop() {
        return Some(idle);
    }
    if pool.opened >= pool.bound {
        return None;
    }
    let local = pool.opened;
    pool.opened += 1;
    let shared = &state.shared;
    Some((local, Connection::with_connector(state.connector.clone(), shared.addr, shared.keep_alive)))
}

/// Every connection is busy and the bound is reached: waits for one to be handed back, or None once the stop
/// condition forbids sending.
async fn wait_for_free<C: Connect + Clone>(state: &ThreadState<C>) -> Option<(usize, Connection<C>)> {
    let shared = &state.shared;
    loop {
        if let Some(idle) = state.pool.borrow_mut().idle.pop() {
            return Some(idle);
        }
        let until = shared.stop.deadline().unwrap_or_else(|| Instant::now() + shared.timeout);
        tokio::select! {
            _ = state.freed.notified() => {}
            _ = shared.stop.sleep_until(until) => {}
        }
        if !shared.stop.allows(Instant::now()) {
            return None;
        }
    }
}

/// One request on its connection; the connection goes back to the idle pool afterwards.
async fn send_on<C: Connect>(
    state: Rc<ThreadState<C>>,
    (local, mut connection): (usize, Connection<C>),
    task: usize,
    (intended, sent): (Instant, Instant),
) {
    let outcome = worker::exchange(&state.shared, &mut connection, task).await;
    let done = Instant::now();
    state.recorder.borrow_mut().record(local, task, Timing { intended, sent, done }, outcome);
    if let Outcome::Failed(FailureKind::Connect) = outcome {
        state.shared.stop.sleep_until(done + CONNECT_RETRY_PAUSE).await;
    }
    let mut pool = state.pool.borrow_mut();
    pool.idle.push((local, connection));
    pool.busy -= 1;
    state.freed.notify_one();
}

/// Counts the thread's slots due before the close and records the ones it had not sent (waiting for the bound).
fn account_schedule(shared: &Shared, clock: &RampClock, recorder: &mut Recorder, closed_at: Instant) -> ScheduleCount {
    let sent = recorder.total_sends();
    let due = if shared.stop.budget_spent() { sent } else { clock.slots_before(closed_at).max(sent) };
    for slot in sent..due {
        recorder.not_sent(clock.slot(slot));
    }
    let warmup = clock.slots_before(shared.measure_start).min(due);
    ScheduleCount { warmup, window: due - warmup }
}

/// Raises the soft RLIMIT_NOFILE toward the hard limit so that `connections` sockets fit, and returns the soft
/// limit the run has (None if it cannot be read). A limit still short of the need is logged; the report carries it.
pub(crate) fn raise_file_limit(connections: usize) -> Option<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let needed = connections as u64 + SPARE_FILES;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft >= needed {
        return Some(soft);
    }
    let raised = needed.min(hard);
    let soft = match setrlimit(Resource::RLIMIT_NOFILE, raised, hard) {
        Ok(()) => raised,
        Err(error) => {
            tracing::warn!(%error, soft, "cannot raise the open-file limit");
            soft
        }
    };
    if soft < needed {
        tracing::warn!(soft, hard, needed, "the open-file limit is below the connection bound");
    }
    Some(soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_splits_over_threads_without_losing_any() {
        assert_eq!((0..3).map(|index| thread_bound(10, 3, index)).collect::<Vec<_>>(), [4, 3, 3]);
        assert_eq!((0..4).map(|index| thread_bound(10_000, 4, index)).sum::<usize>(), 10_000);
        assert_eq!(thread_bound(1, 1, 0), 1);
    }

    #[test]
    fn the_file_limit_is_raised_to_fit_a_modest_bound() {
        use nix::sys::resource::{getrlimit, Resource};
        let limit = raise_file_limit(100).expect("the limit can be read");
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("the limit can be read");
        assert_eq!(soft, limit);
        assert_eq!(limit >= 100 + SPARE_FILES, hard >= 100 + SPARE_FILES, "raised as far as the hard limit allows");
    }
}
