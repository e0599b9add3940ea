//! The sentence the verdict adds when a target served some clients and starved others: many requests still
//! unanswered at the close of the window, waiting far longer than the answered ones took. Its throughput and
//! percentiles then describe the clients it chose to serve, so the reader is told beside the figure (a thread per
//! kept-alive connection does this under overload: the connections beyond its threads wait for the whole run).

use crate::data::RunView;
use crate::format;

/// In-flight requests at the close, as a share of those answered, above which the backlog is worth a sentence.
const NOTABLE_SHARE: f64 = 0.01;
/// The fewest in-flight requests worth a sentence, whatever the share.
const NOTABLE_COUNT: u64 = 10;
/// How many times the answered requests' median latency the in-flight ones must have waited (median age).
const FAR_ABOVE: f64 = 10.0;

/// " sync starved some clients: 960 requests were still unanswered at the close, waiting a median 4950 ms, while
/// the 6,012 it answered took a median 101 ms." for the repetition of `phase` on `target` with the most requests
/// so left waiting; None when no repetition left a notable backlog of old requests.
pub fn starvation_text(report: &RunView<'_>, target: usize, phase: usize) -> Option<String> {
    // The answers' own median: the row's median counts the censored requests too, and they are what starved.
    let (worst, answered_median_us) = report
        .measurements(target, phase)
        .map(|measurement| &measurement.load.aggregated)
        .filter_map(|row| Some((row, row.latency.answered_median_us()?)))
        .filter(|(row, answered_median_us)| {
            let waiting = &row.in_flight;
            let notable =
                waiting.requests >= NOTABLE_COUNT && waiting.requests as f64 >= NOTABLE_SHARE * row.count.max(1) as f64;
            notable && waiting.median_age_us as f64 > FAR_ABOVE * (*answered_median_us).max(1) as f64
        })
        .max_by_key(|(row, _)| row.in_flight.requests)?;
    Some(format!(
        " {} starved some clients: {} requests were still unanswered at the close, waiting a median {}, while the \
         {} it answered took a median {}.",
        report.target_name(target),
        format::count(worst.in_flight.requests),
        format::latency_us(worst.in_flight.median_age_us as f64),
        format::count(worst.count),
        format::latency_us(answered_median_us as f64)
    ))
}
