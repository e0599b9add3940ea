//! [`Spinner`]: when the hold timer's driver busy-polls before a deadline instead of sleeping to it, and the budget
//! that caps what that costs. A timerfd fires on time, but an idle virtual CPU takes 0.2-0.4 ms to wake up and run
//! the driver; waking a window early and polling the runtime until the deadline releases the request on time.

use std::time::{Duration, Instant};

/// Decides when the driver busy-polls instead of sleeping, and pays for it from a budget.
///
/// The spin window follows the wake-up lateness the driver observes (an estimate of its 90th percentile, plus a
/// margin), so a machine that wakes fast spins little. The budget refills at [`Spinner::SHARE`] of wall time up to
/// [`Spinner::BURST`]: under a load dense enough to empty it the thread is seldom idle, and plain timerfd wakes are
/// then on time anyway.
pub(crate) struct Spinner {
    /// Estimate of the 90th percentile of how late a timerfd wake runs the driver.
    wake_late: Duration,
    /// Spin time that may still be spent; negative when overspent (a spin is paid for after the fact).
    tokens_ns: i64,
    last: Instant,
    spinning: bool,
}

impl Spinner {
    /// Share of one core the spin may use over time: 5 %.
    const SHARE: f64 = 0.05;
    /// Most spin time saved up for a burst.
    const BURST: Duration = Duration::from_millis(20);
    /// Bounds of the spin window.
    const MIN_WINDOW: Duration = Duration::from_micros(100);
    const MAX_WINDOW: Duration = Duration::from_millis(1);
    /// Added to the lateness estimate: the window must cover the wake-up and the driver's own run.
    const MARGIN: Duration = Duration::from_micros(50);

    pub(crate) fn new(now: Instant) -> Spinner {
        let wake_late = Duration::from_micros(300);
        Spinner { wake_late, tokens_ns: nanos(Self::BURST), last: now, spinning: false }
    }

    /// How long before a deadline the driver starts polling: the lateness estimate plus the margin, within bounds.
    fn window(&self) -> Duration {
        (self.wake_late + Self::MARGIN).clamp(Self::MIN_WINDOW, Self::MAX_WINDOW)
    }

    /// Refills the budget for the time since the last look and charges it the time spent spinning; returns that.
    pub(crate) fn account(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        let refill = (elapsed.as_nanos() as f64 * Self::SHARE) as i64;
        self.tokens_ns = (self.tokens_ns + refill).min(nanos(Self::BURST));
        if !self.spinning {
            return Duration::ZERO;
        }
        self.tokens_ns -= nanos(elapsed);
        elapsed
    }

    pub(crate) fn stop_spinning(&mut self) {
        self.spinning = false;
    }

    /// True (and spinning from now) if `next` is within the window and the budget is not spent.
    pub(crate) fn spin_towards(&mut self, now: Instant, next: Instant) -> bool {
        self.spinning = self.tokens_ns > 0 && next.saturating_duration_since(now) <= self.window();
        self.spinning
    }

    /// When to arm the timerfd for `next`: a window early while the budget can pay for the spin, else on time.
    pub(crate) fn wake_time(&self, next: Instant) -> Instant {
        let window = self.window();
        if self.tokens_ns >= nanos(window) {
            next.checked_sub(window).unwrap_or(next)
        } else {
            next
        }
    }

    /// A timerfd armed for `wake_at` ran the driver at `woke`: moves the lateness estimate (up fast, down slowly,
    /// which settles near the 90th percentile) and the window with it.
    pub(crate) fn observe_wake(&mut self, wake_at: Instant, woke: Instant) {
        let late = nanos(woke.saturating_duration_since(wake_at));
        let estimate = nanos(self.wake_late);
        let moved = if late > estimate { estimate + (late - estimate) / 10 } else { estimate - (estimate - late) / 90 };
        self.wake_late = Duration::from_nanos(u64::try_from(moved).unwrap_or(0));
    }
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spin_is_paid_from_a_budget_that_refills_at_its_share_of_wall_time() {
        let start = Instant::now();
        let mut spinner = Spinner::new(start);
        let window = spinner.window();
        let mut now = start;
        let mut spun = Duration::ZERO;
        // Deadlines always just inside the window: spin until the saved-up burst (and what it earns meanwhile) is
        // spent, then stop.
        while spinner.spin_towards(now, now + window / 2) {
            now += Duration::from_micros(10);
            spun += spinner.account(now);
            assert!(spun <= Spinner::BURST * 2, "the spin stops once the budget is spent");
        }
        assert!(spun >= Spinner::BURST, "the whole burst was spent before the spin stopped: {spun:?}");
        assert_eq!(spinner.wake_time(now + window * 2), now + window * 2, "a spent budget arms the timer on time");
        // Idle for a second earns SHARE of it.
        spinner.stop_spinning();
        now += Duration::from_secs(1);
        assert_eq!(spinner.account(now), Duration::ZERO, "no spin is charged while sleeping");
        assert!(spinner.spin_towards(now, now + window / 2), "the budget refilled");
        assert_eq!(
            spinner.wake_time(now + window * 2),
            now + window,
            "a refilled budget arms the timer a window early"
        );
    }

    #[test]
    fn a_deadline_beyond_the_window_is_slept_for_not_spun_for() {
        let now = Instant::now();
        let mut spinner = Spinner::new(now);
        let window = spinner.window();
        assert!(!spinner.spin_towards(now, now + window + Duration::from_micros(1)));
        assert!(spinner.spin_towards(now, now + window));
    }

    #[test]
    fn the_window_follows_the_observed_wake_up_lateness_within_its_bounds() {
        let now = Instant::now();
        let mut spinner = Spinner::new(now);
        for _ in 0..200 {
            spinner.observe_wake(now, now + Duration::from_millis(5));
        }
        assert_eq!(spinner.window(), Spinner::MAX_WINDOW, "slow wake-ups widen the window up to its bound");
        for _ in 0..5_000 {
            spinner.observe_wake(now, now + Duration::from_micros(10));
        }
        assert_eq!(spinner.window(), Spinner::MIN_WINDOW, "prompt wake-ups narrow it down to its bound");
        let mut spinner = Spinner::new(now);
        // One wake in ten 400 µs late, the rest 20 µs: the estimate settles near the slow tenth, so the window
        // covers nine wakes in ten at least.
        for round in 0..5_000 {
            let late = if round % 10 == 0 { 400 } else { 20 };
            spinner.observe_wake(now, now + Duration::from_micros(late));
        }
        assert!(
            spinner.wake_late >= Duration::from_micros(20) && spinner.wake_late <= Duration::from_micros(400),
            "estimate {:?} lies between the fast and the slow wakes",
            spinner.wake_late
        );
    }
}
