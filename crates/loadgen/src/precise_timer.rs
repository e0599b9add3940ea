//! [`PreciseTimer`]: a timerfd registered with tokio, for waits that must end on time. tokio's timer ticks in whole
//! milliseconds and rounds sleeps up, which would make rate-mode sends ~0.5 ms late on average - lateness the
//! coordinated-omission correction would then report as latency. The rate pacer uses one per connection; the
//! upstream stand-in drives all its held requests from one.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Instant;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use nix::time::{clock_gettime, ClockId as Clock};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// `TimerFd` exposes `AsFd`; tokio's `AsyncFd` wants `AsRawFd`.
struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

pub struct PreciseTimer {
    fd: AsyncFd<Fd>,
}

impl PreciseTimer {
    /// A timer registered with the current tokio runtime; an error outside one.
    pub fn new() -> io::Result<PreciseTimer> {
        tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC)?;
        // SAFETY: `Fd` owns the timer's OwnedFd, so the descriptor stays open and unchanged for as long as the
        // AsyncFd owns it, and `as_raw_fd` always returns that same descriptor.
        let fd = unsafe { AsyncFd::register_with_interest(Fd(timer), Interest::READABLE) }?;
        Ok(PreciseTimer { fd })
    }

    /// Waits until `when` (an `Instant`, which is CLOCK_MONOTONIC on Linux) to within the kernel's timer slack.
    pub async fn sleep_until(&self, when: Instant) -> io::Result<()> {
        let now = Instant::now();
        let left = when.saturating_duration_since(now);
        if left.is_zero() {
            return Ok(());
        }
        let deadline = clock_gettime(Clock::CLOCK_MONOTONIC)? + TimeSpec::from(left);
        self.fd.get_ref().0.set(Expiration::OneShot(deadline), TimerSetTimeFlags::TFD_TIMER_ABSTIME)?;
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().0.wait().map_err(io::Error::from)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_after_the_instant_and_not_before() {
        let timer = PreciseTimer::new().unwrap();
        for micros in [300u64, 1_500, 2_700] {
            let when = Instant::now() + Duration::from_micros(micros);
            timer.sleep_until(when).await.unwrap();
            assert!(Instant::now() >= when, "woke before {micros} µs");
        }
        timer.sleep_until(Instant::now() - Duration::from_millis(1)).await.unwrap();
    }
}
