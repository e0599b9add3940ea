//! [`RampClock`]: an open-rate load thread's slot times when the warm-up ramps the rate up linearly from 0 to the
//! full rate, then holds it. Starting at the full rate, an open loop opens rate x latency connections within the
//! first latency (775 within 100 ms at 7,750/s), which overflowed a single event loop's accept queue: dropped
//! handshakes retry after 1 s and the step measured a connection storm, not the target's steady state. Pure
//! arithmetic, so the window's close can count the slots a thread had not sent without asking its task.

use std::time::{Duration, Instant};

const SLOT_TOLERANCE: f64 = 1e-6;

/// Thread `index` of `senders` takes the schedule's slots index, index + senders, ...
#[derive(Debug, Clone, Copy)]
pub(crate) struct RampClock {
    start: Instant,
    per_second: f64,
    ramp_secs: f64,
    index: u64,
    senders: u64,
}

impl RampClock {
    pub fn new(per_second: f64, ramp: Duration, (index, senders): (usize, usize), start: Instant) -> RampClock {
        RampClock { start, per_second, ramp_secs: ramp.as_secs_f64(), index: index as u64, senders: senders as u64 }
    }

    /// When this thread's slot `n` is due.
    pub fn slot(&self, n: u64) -> Instant {
        let k = (self.index + n.saturating_mul(self.senders)) as f64;
        self.start + Duration::from_secs_f64(self.seconds_at(k))
    }

    /// This thread's slots due strictly before `instant`.
    pub fn slots_before(&self, instant: Instant) -> u64 {
        let seconds = instant.saturating_duration_since(self.start).as_secs_f64();
        if seconds <= 0.0 {
            return 0;
        }
        // Schedule slots k with t(k) < seconds are those with k < N(seconds); the thread's are every senders-th.
        // Slot times are truncated to whole nanoseconds and the square root rounds, so a slot's own instant can read
        // a hair past it; a millionth of a slot is far below a nanosecond at any rate the CLI accepts.
        let due = (self.arrivals_by(seconds) - SLOT_TOLERANCE).ceil().max(0.0) as u64;
        if due <= self.index {
            0
        } else {
            (due - self.index).div_ceil(self.senders)
        }
    }

    /// N(t): slots of the whole schedule due by `t` seconds - R t^2 / 2W during the ramp, R W / 2 + R (t - W) after.
    fn arrivals_by(&self, t: f64) -> f64 {
        let (rate, ramp) = (self.per_second, self.ramp_secs);
        if t < ramp {
            rate * t * t / (2.0 * ramp)
        } else {
            rate * ramp / 2.0 + rate * (t - ramp)
        }
    }

    /// The inverse of [`RampClock::arrivals_by`]: when the schedule's slot `k` is due.
    fn seconds_at(&self, k: f64) -> f64 {
        let (rate, ramp) = (self.per_second, self.ramp_secs);
        let ramp_slots = rate * ramp / 2.0;
        if k < ramp_slots {
            (2.0 * ramp * k / rate).sqrt()
        } else {
            ramp + (k - ramp_slots) / rate
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_ramp_slots_are_evenly_spaced_and_interleaved() {
        let start = Instant::now();
        let second = RampClock::new(100.0, Duration::ZERO, (1, 4), start);
        assert_eq!(second.slot(0) - start, Duration::from_millis(10));
        assert_eq!(second.slot(2) - start, Duration::from_millis(90));
        assert_eq!(second.slots_before(start + Duration::from_secs(1)), 25);
        assert_eq!(second.slots_before(start + Duration::from_millis(10)), 0);
        assert_eq!(second.slots_before(start + Duration::from_millis(51)), 2);
        assert_eq!(second.slots_before(start), 0);
    }

    #[test]
    fn the_ramp_sends_half_the_full_rate_during_it_then_the_full_rate() {
        let start = Instant::now();
        let threads: Vec<RampClock> =
            (0..2).map(|index| RampClock::new(1000.0, Duration::from_secs(1), (index, 2), start)).collect();
        let by = |millis: u64| -> u64 {
            threads.iter().map(|clock| clock.slots_before(start + Duration::from_millis(millis))).sum()
        };
        assert_eq!(by(1000), 500, "1000/s ramped over 1 s: half of it");
        assert_eq!(by(500), 125, "a quarter of that by half-way (N grows as t squared)");
        assert_eq!(by(2000), 1500, "then the full rate");
        for clock in &threads {
            let times: Vec<Instant> = (0..700).map(|n| clock.slot(n)).collect();
            assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "slots in order");
            for n in [0, 10, 249, 250, 400] {
                assert_eq!(clock.slots_before(clock.slot(n)), n, "slot {n} is due after exactly n slots");
            }
        }
    }
}
