//! [`Pacer`]: when each connection sends its next request - the three load models. A pacer only decides the
//! intended send time; the stop condition and the recorder are separate pieces the worker combines with it.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::Rng;

use crate::precise_timer::PreciseTimer;
use crate::ramp_clock::RampClock;
use crate::stop::StopCondition;
use crate::Pacing;

/// One connection's pacing state.
pub(crate) enum Pacer {
    /// Closed loop without pause: the next request goes out when the previous answer is in (the first at `start`).
    Immediate { start: Instant, started: bool },
    /// Locust's user: run a task, wait a think time drawn uniformly from [min, max], repeat.
    Think { spawn_at: Instant, spawned: bool, min: Duration, max: Duration },
    /// Open loop: request `next_slot` is intended at `first + next_slot * period`, whatever happened before.
    Schedule(Schedule),
}

/// A fixed-rate schedule of one connection (or one open-rate thread): its slot times and the next one to send.
pub(crate) struct Schedule {
    clock: ScheduleClock,
    next_slot: u64,
    /// None if the timerfd could not be made: then tokio's millisecond timer and a short spin are used.
    timer: Option<PreciseTimer>,
}

/// When each slot of one rate-mode connection is due: slot `n` at `first + n * period`. Pure arithmetic, so the
/// window's close can count the slots a connection had not sent yet without asking its (aborted) task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotClock {
    first: Instant,
    /// Whole nanoseconds keep slot times exact; the rounding error is under 1 ns per period.
    period_ns: u64,
}

/// Evenly spaced slots (rate mode), or an open-rate thread's slots under a warm-up ramp.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScheduleClock {
    Even(SlotClock),
    Ramp(RampClock),
}

impl ScheduleClock {
    pub fn slot(&self, index: u64) -> Instant {
        match self {
            ScheduleClock::Even(clock) => clock.slot(index),
            ScheduleClock::Ramp(clock) => clock.slot(index),
        }
    }
}

impl SlotClock {
    /// Connection `index` of `connections` sharing `per_second`: connection k sends at k/R, k/R + C/R, ...
    pub fn new(per_second: f64, connections: usize, index: usize, start: Instant) -> SlotClock {
        let offset = Duration::from_nanos((index as f64 * 1e9 / per_second).round() as u64);
        let period_ns = ((connections as f64 * 1e9 / per_second).round() as u64).max(1);
        SlotClock { first: start + offset, period_ns }
    }

    pub fn slot(&self, index: u64) -> Instant {
        self.first + Duration::from_nanos(index.saturating_mul(self.period_ns))
    }

    /// Slots due strictly before `instant`.
    pub fn slots_before(&self, instant: Instant) -> u64 {
        let since = instant.saturating_duration_since(self.first).as_nanos();
        u64::try_from(since).unwrap_or(u64::MAX).div_ceil(self.period_ns)
    }
}

impl Pacer {
    /// The pacer of connection (or user) `index` out of the plan's total, all timed from `start`.
    pub fn new(pacing: &Pacing, index: usize, start: Instant) -> Pacer {
        match *pacing {
            Pacing::Concurrency { .. } => Pacer::Immediate { start, started: false },
            Pacing::Users { think: (min, max), spawn_rate, .. } => {
                let delay = spawn_rate.map_or(Duration::ZERO, |rate| Duration::from_secs_f64(index as f64 / rate));
                Pacer::Think { spawn_at: start + delay, spawned: false, min, max }
            }
            Pacing::Rate { per_second, connections } => Pacer::schedule(per_second, connections, index, start),
            // The open model's whole schedule as one sender; a load thread takes its share with `Pacer::schedule`
            // (its index among the threads), since any of its connections may send any of its slots.
            Pacing::OpenRate { per_second, .. } => Pacer::schedule(per_second, 1, 0, start),
        }
    }

    /// Sender `index` of `senders` sharing `per_second` evenly: slots at index/R, index/R + senders/R, ...
    pub fn schedule(per_second: f64, senders: usize, index: usize, start: Instant) -> Pacer {
        Pacer::with_clock(ScheduleClock::Even(SlotClock::new(per_second, senders, index, start)))
    }

    /// An open-rate thread's schedule, its rate ramping up over the warm-up ([`RampClock`]).
    pub fn ramped(clock: RampClock) -> Pacer {
        Pacer::with_clock(ScheduleClock::Ramp(clock))
    }

    fn with_clock(clock: ScheduleClock) -> Pacer {
        let timer = PreciseTimer::new()
            .inspect_err(|error| tracing::debug!(%error, "no timerfd; rate sends may be late by up to 1 ms"))
            .ok();
        Pacer::Schedule(Schedule { clock, next_slot: 0, timer })
    }

    /// Waits until the next request is due and returns its intended send time, or None once the stop condition
    /// forbids sending.
    pub async fn next(&mut self, stop: &StopCondition, rng: &mut SmallRng) -> Option<Instant> {
        match self {
            Pacer::Immediate { start, started } => {
                if !*started {
                    *started = true;
                    stop.sleep_until(*start).await;
                }
            }
            Pacer::Think { spawn_at, spawned, min, max } => {
                let wake = if *spawned { Instant::now() + draw(rng, *min, *max) } else { *spawn_at };
                *spawned = true;
                stop.sleep_until(wake).await;
            }
            Pacer::Schedule(schedule) => {
                let intended = schedule.clock.slot(schedule.next_slot);
                if !stop.allows(intended) {
                    return None;
                }
                match &schedule.timer {
                    Some(timer) => stop.interruptible(timer.sleep_until(stop.cap(intended))).await,
                    None => wait_precisely(stop, intended).await,
                }
                let now = Instant::now();
                if !stop.allows(now) {
                    return None;
                }
                schedule.next_slot += 1;
                return Some(intended);
            }
        }
        let now = Instant::now();
        stop.allows(now).then_some(now)
    }
}

/// Without a timerfd: tokio's timer rounds a sleep up to the next millisecond tick, which would make every
/// scheduled send up to ~1 ms late, and that lateness would count as latency. So sleep until one tick before
/// `intended`, then yield to the runtime (other connections keep running) until the instant arrives.
async fn wait_precisely(stop: &StopCondition, intended: Instant) {
    if let Some(coarse) = intended.checked_sub(TIMER_TICK) {
        if coarse > Instant::now() {
            stop.sleep_until(coarse).await;
        }
    }
    while Instant::now() < intended && stop.allows(Instant::now()) {
        tokio::task::yield_now().await;
    }
}

/// tokio's timer resolution.
const TIMER_TICK: Duration = Duration::from_millis(1);

fn draw(rng: &mut SmallRng, min: Duration, max: Duration) -> Duration {
    if max <= min {
        return min;
    }
    Duration::from_secs_f64(rng.gen_range(min.as_secs_f64()..=max.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_schedule_interleaves_connections_and_counts_slots() {
        let start = Instant::now();
        let pacing = Pacing::Rate { per_second: 100.0, connections: 4 };
        let Pacer::Schedule(second) = Pacer::new(&pacing, 1, start) else { panic!("rate gives a schedule") };
        assert_eq!(second.clock.slot(0) - start, Duration::from_millis(10));
        assert_eq!(second.clock.slot(2) - start, Duration::from_millis(90));
        // Slots at 10, 50, 90, ... ms: 25 of them in the first second, none due before the first.
        let ScheduleClock::Even(clock) = second.clock else { panic!("rate mode spaces its slots evenly") };
        assert_eq!(clock.slots_before(start + Duration::from_secs(1)), 25);
        assert_eq!(clock.slots_before(start + Duration::from_millis(10)), 0);
        assert_eq!(clock.slots_before(start + Duration::from_millis(51)), 2);
        assert_eq!(clock.slots_before(start), 0);
    }

    #[test]
    fn users_spawn_at_the_spawn_rate() {
        let start = Instant::now();
        let think = (Duration::from_secs(1), Duration::from_secs(5));
        let pacing = Pacing::Users { users: 10, think, spawn_rate: Some(4.0) };
        let Pacer::Think { spawn_at, .. } = Pacer::new(&pacing, 6, start) else { panic!("users think") };
        assert_eq!(spawn_at - start, Duration::from_millis(1500), "user 6 at 4 users/s starts at 1.5 s");
        let all_at_once = Pacing::Users { users: 10, think, spawn_rate: None };
        let Pacer::Think { spawn_at, .. } = Pacer::new(&all_at_once, 6, start) else { panic!("users think") };
        assert_eq!(spawn_at, start);
    }

    #[test]
    fn think_times_stay_within_bounds() {
        use rand::SeedableRng;
        let mut rng = SmallRng::seed_from_u64(7);
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(2));
        let draws: Vec<Duration> = (0..1000).map(|_| draw(&mut rng, min, max)).collect();
        assert!(draws.iter().all(|think| (min..=max).contains(think)));
        let mean = draws.iter().sum::<Duration>().as_secs_f64() / 1000.0;
        assert!((1.4..1.6).contains(&mean), "uniform mean {mean}");
    }
}
