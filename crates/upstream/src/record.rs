//! [`HoldRecord`]: the hold times the upstream actually gave, so that what the load generator measures through a
//! server can be compared with the ground truth instead of with the delay that was asked for. Recorded in
//! microseconds in HDR histograms (the load generator's own), summarised when the upstream stops.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use loadgen::histogram::Latencies;
use loadgen::LatencySummary;
use serde::{Deserialize, Serialize};

use crate::TlsRecord;

/// What `rustcorn upstream --record FILE` writes at exit, and what the bench driver stores in results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldRecord {
    /// The delay asked for (`--delay`) and the jitter bound (`--jitter`), microseconds.
    pub delay_us: u64,
    pub jitter_us: u64,
    /// Per held request (GET and HEAD): from the moment hyper handed the parsed request to the handler until the
    /// handler handed its response back to hyper, which then writes it. Microseconds.
    pub hold: LatencySummary,
    /// Per held request: its hold minus the hold asked for it (the delay plus that request's jitter draw), i.e.
    /// how late it was released. Microseconds.
    pub late: LatencySummary,
    /// Time the hold timer busy-polled just before deadlines (so that an idle CPU's slow wake-up does not make
    /// holds late), and the time the upstream ran: their ratio is the share of one core the precision cost.
    /// Microseconds; 0 in records written before the timer spun.
    #[serde(default)]
    pub spun_us: u64,
    #[serde(default)]
    pub ran_us: u64,
    /// Over HTTPS: the handshakes, by what they negotiated. Absent over plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsRecord>,
}

/// The two histograms, behind one lock: a multi-thread upstream records from every worker thread. Uncontended on the
/// default current_thread runtime.
#[derive(Default)]
pub(crate) struct HoldRecorder {
    histograms: Mutex<(Latencies, Latencies)>,
}

impl HoldRecorder {
    /// A request asked to be held `asked` was held `held`.
    pub fn record(&self, asked: Duration, held: Duration) {
        let mut histograms = self.histograms.lock().unwrap_or_else(PoisonError::into_inner);
        histograms.0.record(micros(held));
        histograms.1.record(micros(held.saturating_sub(asked)));
    }

    /// The record so far; `spun` and `ran` as [`HoldRecord::spun_us`] and [`HoldRecord::ran_us`] describe them.
    pub fn summary(&self, delay: Duration, jitter: Duration, spun: Duration, ran: Duration) -> HoldRecord {
        let histograms = self.histograms.lock().unwrap_or_else(PoisonError::into_inner);
        HoldRecord {
            delay_us: micros(delay),
            jitter_us: micros(jitter),
            hold: LatencySummary::of(&histograms.0),
            late: LatencySummary::of(&histograms.1),
            spun_us: micros(spun),
            ran_us: micros(ran),
            tls: None,
        }
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_holds_and_their_lateness_in_microseconds() {
        let recorder = HoldRecorder::default();
        let asked = Duration::from_millis(50);
        for late_us in [10, 20, 30] {
            recorder.record(asked, asked + Duration::from_micros(late_us));
        }
        let record = recorder.summary(asked, Duration::ZERO, Duration::ZERO, Duration::ZERO);
        assert_eq!((record.delay_us, record.jitter_us), (50_000, 0));
        assert_eq!((record.hold.samples, record.hold.min_us, record.hold.max_us), (3, 50_010, 50_030));
        assert_eq!((record.late.min_us, record.late.median_us, record.late.max_us), (10, 20, 30));
    }
}
