//! Censored latency: a request with no answer still has a latency, at least its age. Per row (an endpoint or the
//! Aggregated one), the requests in flight at the close that are older than the row's slowest completed response
//! (all of them when none completed) and every timed-out request enter the distribution as lower bounds. Younger
//! in-flight requests are the ordinary tail of a window's close and stay out. A percentile that lands above the
//! slowest completed response lands among the censored requests, so it is itself only a lower bound.
//!
//! Everything here works on histogram buckets, never on exact values, so that a report rebuilt from its encoded
//! histograms (a merge) censors exactly what the run that wrote it censored.

use hdrhistogram::Histogram;

use crate::histogram::{self, Latencies};

/// The in-flight ages that count as lower bounds in a row whose slowest completed latency is `slowest_completed`
/// (None when nothing completed): those in buckets wholly above it.
pub(crate) fn old_in_flight(in_flight: &Latencies, slowest_completed: Option<u64>) -> Histogram<u64> {
    let ages = &in_flight.histogram;
    let is_old = |age: u64| slowest_completed.is_none_or(|slowest| age > slowest && !ages.equivalent(age, slowest));
    let mut old = histogram::new_histogram();
    for bucket in ages.iter_recorded() {
        let age = bucket.value_iterated_to();
        if is_old(age) {
            old.saturating_record_n(age, bucket.count_at_value());
        }
    }
    old
}

/// The row's censored values: its timed-out requests plus its old in-flight ones.
pub(crate) fn censored(timed_out: &Histogram<u64>, in_flight: &Latencies, slowest_completed: Option<u64>) -> Latencies {
    let mut all = rebucketed(timed_out);
    for bucket in old_in_flight(in_flight, slowest_completed).iter_recorded() {
        all.saturating_record_n(bucket.value_iterated_to(), bucket.count_at_value());
    }
    from_buckets(all)
}

/// The timed-out requests back from a row's censored histogram: what remains after taking out the old in-flight.
pub(crate) fn timed_out_of(censored: &Histogram<u64>, old_in_flight: &Histogram<u64>) -> Latencies {
    let mut timed_out = histogram::new_histogram();
    for bucket in censored.iter_recorded() {
        let value = bucket.value_iterated_to();
        let remaining = bucket.count_at_value().saturating_sub(old_in_flight.count_at(value));
        if remaining > 0 {
            timed_out.saturating_record_n(value, remaining);
        }
    }
    from_buckets(timed_out)
}

/// A percentile of the completed and censored values together: its latency and whether it is a lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounded {
    pub latency_us: u64,
    pub lower_bound: bool,
}

/// The completed and the censored values in one distribution, to read percentiles from with [`bounded_at`].
pub(crate) fn together(completed: &Latencies, censored: &Latencies) -> Latencies {
    let mut both = completed.clone();
    // Both hold the same precision; adding fails only on a count overflow, which clamping absorbs.
    if both.add(censored).is_err() {
        both.max_us = both.max_us.max(censored.max_us);
    }
    both
}

/// `percentile` (0-100) of `both` ([`together`]), a lower bound when it lies above the slowest completed response.
pub(crate) fn bounded_at(completed: &Latencies, both: &Latencies, percentile: f64) -> Bounded {
    let latency_us = both.percentile(percentile);
    // A bound must not exceed what it bounds: a censored bucket reads its bottom, not its top.
    let lower_bound = Bounded { latency_us: both.histogram.lowest_equivalent(latency_us), lower_bound: true };
    if completed.samples() == 0 {
        return lower_bound;
    }
    let slowest = completed.max_us;
    if latency_us <= slowest || both.histogram.equivalent(latency_us, slowest) {
        // The bucket of the slowest response reads its top; the exact slowest is the true value.
        return Bounded { latency_us: latency_us.min(slowest), lower_bound: false };
    }
    lower_bound
}

/// A copy holding only the buckets' values, so a histogram and its decoded encoding give the same copy.
fn rebucketed(histogram: &Histogram<u64>) -> Histogram<u64> {
    let mut copy = histogram::new_histogram();
    for bucket in histogram.iter_recorded() {
        copy.saturating_record_n(bucket.value_iterated_to(), bucket.count_at_value());
    }
    copy
}

/// Latencies whose min and max are the buckets' (no exact values are kept for censored requests).
fn from_buckets(histogram: Histogram<u64>) -> Latencies {
    if histogram.is_empty() {
        return Latencies::default();
    }
    let sum_us = histogram.iter_recorded().map(|bucket| bucket.value_iterated_to() * bucket.count_at_value()).sum();
    Latencies { min_us: histogram.min(), max_us: histogram.max(), sum_us, histogram }
}
