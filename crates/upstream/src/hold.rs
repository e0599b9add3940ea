//! [`HoldTimer`]: releases each held request at its deadline, within the kernel's wake-up latency. tokio's timer
//! rounds every sleep up to its next whole-millisecond tick (asked for 50 ms, requests were held 51.7 ms at the
//! median), and a timerfd per request would cost a descriptor for each of the thousands that sleep at once. So every
//! deadline goes into one heap, and one task sleeps on one timerfd armed at the earliest of them.
//!
//! A timerfd fires on time, but an idle virtual CPU takes 0.2-0.4 ms to wake up and run the task, which made holds
//! that late at the median. So the driver wakes a little before the deadline and busy-polls the runtime until it
//! (see [`Spinner`]): it keeps serving I/O while it waits, and the share of a core it may spend so is capped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use loadgen::precise_timer::PreciseTimer;

use crate::spin::Spinner;
use tokio::sync::{oneshot, Notify};

/// Deadlines of the requests being held, earliest first, and the driver that releases them.
pub(crate) struct HoldTimer {
    heap: Mutex<Heap>,
    /// Wakes the driver when a request due before the timer's current deadline arrives.
    earlier: Notify,
    /// Nanoseconds the driver spent busy-polling before deadlines, for the record. Apart from the heap: the driver
    /// adds to it on every poll while spinning, and needs no lock for that.
    spun_ns: AtomicU64,
}

#[derive(Default)]
struct Heap {
    entries: BinaryHeap<Reverse<Entry>>,
    /// Ties deadlines in arrival order and makes every entry distinct.
    sequence: u64,
    /// The driver stopped (its timerfd failed): holds use tokio's timer from then on.
    stopped: bool,
}

struct Entry {
    deadline: Instant,
    sequence: u64,
    /// Dropped with the entry if the request went away (its client closed); sending then is a no-op.
    release: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.sequence) == (other.deadline, other.sequence)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.sequence).cmp(&(other.deadline, other.sequence))
    }
}

impl HoldTimer {
    /// Makes the timerfd and spawns the driver on the current tokio runtime; an error if no timerfd can be made.
    pub fn start() -> io::Result<Arc<HoldTimer>> {
        let precise = PreciseTimer::new()?;
        let timer = Arc::new(HoldTimer {
            heap: Mutex::new(Heap::default()),
            earlier: Notify::new(),
            spun_ns: AtomicU64::new(0),
        });
        tokio::spawn(drive(Arc::clone(&timer), precise));
        Ok(timer)
    }

    /// Waits until `deadline`: on the timerfd, or on tokio's timer (a millisecond late) if the driver has stopped.
    pub async fn hold_until(&self, deadline: Instant) {
        if Instant::now() >= deadline {
            return;
        }
        let (release, released) = oneshot::channel();
        let queued = {
            let mut heap = self.lock();
            (!heap.stopped).then(|| {
                heap.sequence += 1;
                let sequence = heap.sequence;
                heap.entries.push(Reverse(Entry { deadline, sequence, release }));
                heap.entries.peek().is_some_and(|Reverse(first)| first.sequence == sequence)
            })
        };
        let Some(is_earliest) = queued else {
            return tokio::time::sleep_until(deadline.into()).await;
        };
        if is_earliest {
            // A stored permit if the driver is busy: it re-reads the heap before it sleeps again.
            self.earlier.notify_one();
        }
        if released.await.is_err() {
            // The driver dropped the entry without releasing it: it stopped.
            tokio::time::sleep_until(deadline.into()).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Heap> {
        // A panic while holding the lock leaves the heap consistent (push and pop are whole operations).
        self.heap.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands every waiting request over to tokio's timer, and every later one too.
    fn stop(&self) {
        let mut heap = self.lock();
        heap.stopped = true;
        heap.entries.clear();
    }

    /// Time the driver has spent busy-polling before deadlines so far.
    pub fn spun(&self) -> Duration {
        Duration::from_nanos(self.spun_ns.load(Ordering::Relaxed))
    }

    fn add_spun(&self, spun: Duration) {
        self.spun_ns.fetch_add(u64::try_from(spun.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Releases every request due by `now`; returns the next deadline.
    fn release_due(&self, now: Instant) -> Option<Instant> {
        let mut heap = self.lock();
        while let Some(Reverse(first)) = heap.entries.peek() {
            if first.deadline > now {
                return Some(first.deadline);
            }
            if let Some(Reverse(entry)) = heap.entries.pop() {
                let _ = entry.release.send(());
            }
        }
        None
    }
}

/// The one task that sleeps on the timerfd: release what is due, then either busy-poll up to the next deadline (if
/// it is near and the spin budget allows) or arm the timerfd for it (early by the spin window if the budget allows),
/// repeat.
async fn drive(timer: Arc<HoldTimer>, precise: PreciseTimer) {
    let mut spinner = Spinner::new(Instant::now());
    loop {
        let now = Instant::now();
        let spun = spinner.account(now);
        if !spun.is_zero() {
            timer.add_spun(spun);
        }
        let Some(next) = timer.release_due(now) else {
            spinner.stop_spinning();
            timer.earlier.notified().await;
            continue;
        };
        if spinner.spin_towards(now, next) {
            // Lets the runtime poll its I/O (a zero-timeout epoll) and run other tasks before the next look.
            tokio::task::yield_now().await;
            continue;
        }
        let wake_at = spinner.wake_time(next);
        tokio::select! {
            woke = precise.sleep_until(wake_at) => {
                if let Err(error) = woke {
                    tracing::warn!(%error, "the hold timer's timerfd failed; holds fall back to tokio's timer");
                    timer.stop();
                    return;
                }
                spinner.observe_wake(wake_at, Instant::now());
            }
            () = timer.earlier.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Causality and completeness, not speed: out of order deadlines, sharing instants, each released at or after
    /// its own, none lost, and one that is already due returns at once.
    #[tokio::test]
    async fn releases_every_request_at_or_after_its_deadline() {
        let timer = HoldTimer::start().unwrap();
        let start = Instant::now();
        let offsets_ms = [30u64, 5, 20, 5, 1, 25, 10, 15, 30, 2];
        let holds = offsets_ms.map(|ms| {
            let timer = Arc::clone(&timer);
            let deadline = start + Duration::from_millis(ms);
            tokio::spawn(async move {
                timer.hold_until(deadline).await;
                Instant::now() >= deadline
            })
        });
        for hold in holds {
            assert!(hold.await.unwrap(), "released before its deadline");
        }
        assert!(timer.lock().entries.is_empty(), "every entry was released");
        timer.hold_until(Instant::now() - Duration::from_millis(1)).await;
    }

    #[tokio::test]
    async fn a_stopped_driver_hands_the_holds_to_tokios_timer() {
        let timer = HoldTimer::start().unwrap();
        let deadline = Instant::now() + Duration::from_millis(20);
        let waiting = {
            let timer = Arc::clone(&timer);
            tokio::spawn(async move {
                timer.hold_until(deadline).await;
                Instant::now() >= deadline
            })
        };
        tokio::task::yield_now().await;
        timer.stop();
        assert!(waiting.await.unwrap(), "a request waiting when the driver stopped is still held to its deadline");
        let later = Instant::now() + Duration::from_millis(5);
        timer.hold_until(later).await;
        assert!(Instant::now() >= later, "and so is one that comes after");
    }
}
