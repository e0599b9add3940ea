//! [`InFlightStats`]: the requests still unanswered when the measured window closed. Throughput and latency count
//! only responses completed inside the window, as wrk does, so these are in neither; they are reported beside them,
//! with how long they had been waiting, so a slow target's backlog shows instead of stretching the window.

use serde::{Deserialize, Serialize};

use crate::histogram::{self, Latencies};
use crate::LoadError;

/// Requests without a complete answer at the close of the window, and their age then.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InFlightStats {
    pub requests: u64,
    /// Age at the close, from the request's intended send time (the schedule's in rate mode, otherwise the moment
    /// the pacer released it, which is when it was sent).
    pub median_age_us: u64,
    pub max_age_us: u64,
    /// The ages' HdrHistogram, V2 compressed, base64, so reports of several agents merge exactly.
    pub histogram: String,
}

impl InFlightStats {
    /// Summarises the ages (microseconds) of the requests in flight at the close.
    pub fn of(ages: &Latencies) -> InFlightStats {
        InFlightStats {
            requests: ages.samples(),
            median_age_us: ages.percentile(50.0),
            max_age_us: ages.max_us,
            histogram: histogram::encode(&ages.histogram),
        }
    }

    /// The ages back as a recorder (for merging); reports written before this field existed have none.
    pub(crate) fn ages(&self) -> Result<Latencies, LoadError> {
        if self.requests == 0 {
            return Ok(Latencies::default());
        }
        let histogram = histogram::decode(&self.histogram)?;
        if histogram.len() != self.requests {
            let reason =
                format!("in-flight histogram holds {} ages, the count says {}", histogram.len(), self.requests);
            return Err(LoadError::Histogram(reason));
        }
        // Only the median and the max are reported, so the exact min and sum are not kept; the histogram's are
        // within its 3-digit precision.
        let (min_us, sum_us) = (histogram.min(), (histogram.mean() * histogram.len() as f64) as u64);
        Ok(Latencies { histogram, min_us, max_us: self.max_age_us, sum_us })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_round_trip_and_an_absent_record_is_empty() {
        let mut ages = Latencies::default();
        for age in [1_000, 2_000, 3_000, 250_000] {
            ages.record(age);
        }
        let stats = InFlightStats::of(&ages);
        assert_eq!((stats.requests, stats.max_age_us), (4, 250_000));
        assert!(stats.median_age_us.abs_diff(2_000) <= 2, "{stats:?}");
        let back = stats.ages().unwrap();
        assert_eq!(back.histogram, ages.histogram);
        assert_eq!(InFlightStats::of(&back), stats);
        assert_eq!(InFlightStats::default().ages().unwrap().samples(), 0);
        let lying = InFlightStats { requests: 9, ..stats };
        assert!(lying.ages().is_err());
    }
}
