//! [`StopCondition`]: when the run stops sending - a deadline, a budget of measured requests, or both - shared by
//! every load thread. Independent of pacing and recording; the deadline also closes the measured window, and the
//! requests in flight then are reported as such, not waited for.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::Shutdown;

pub(crate) struct StopCondition {
    /// No request is sent at or after this instant (end of warm-up + duration).
    deadline: Option<Instant>,
    /// Measured requests left to send; None when unbounded.
    budget: Option<AtomicU64>,
    /// Cancelled when the budget runs out, to wake connections waiting for their next send.
    exhausted: Shutdown,
}

impl StopCondition {
    pub fn new(deadline: Option<Instant>, requests: Option<u64>) -> StopCondition {
        StopCondition { deadline, budget: requests.map(AtomicU64::new), exhausted: Shutdown::new() }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// True while a request may still go out at `now`.
    pub fn allows(&self, now: Instant) -> bool {
        !matches!(self.deadline, Some(deadline) if now >= deadline) && !self.exhausted.is_cancelled()
    }

    /// Takes one measured request from the budget; false once the budget is spent.
    pub fn claim(&self) -> bool {
        let Some(budget) = &self.budget else { return true };
        let claimed = budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok();
        if !claimed || budget.load(Ordering::Relaxed) == 0 {
            self.exhausted.cancel();
        }
        claimed
    }

    /// True once the request budget has run out: nothing more was going to be sent, so no slot is overdue.
    pub fn budget_spent(&self) -> bool {
        self.exhausted.is_cancelled()
    }

    /// Waits until `until`, the deadline, or the budget running out, whichever comes first.
    pub async fn sleep_until(&self, until: Instant) {
        self.interruptible(tokio::time::sleep_until(self.cap(until).into())).await;
    }

    /// `until`, or the deadline if that comes first.
    pub fn cap(&self, until: Instant) -> Instant {
        self.deadline.map_or(until, |deadline| until.min(deadline))
    }

    /// Runs a wait, cut short when the budget runs out (the deadline is the caller's to [`cap`](Self::cap)).
    pub async fn interruptible<T>(&self, wait: impl std::future::Future<Output = T>) {
        if self.budget.is_none() {
            wait.await;
            return;
        }
        tokio::select! {
            _ = wait => {}
            _ = self.exhausted.cancelled() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn budget_is_claimed_exactly() {
        let stop = StopCondition::new(None, Some(3));
        assert!(stop.allows(Instant::now()));
        assert_eq!((0..10).filter(|_| stop.claim()).count(), 3);
        assert!(!stop.allows(Instant::now()));
    }

    #[test]
    fn deadline_stops_sending() {
        let now = Instant::now();
        let stop = StopCondition::new(Some(now + Duration::from_secs(1)), None);
        assert!(stop.allows(now));
        assert!(!stop.allows(now + Duration::from_secs(1)));
        assert!(stop.claim(), "no budget means every claim succeeds");
    }
}
