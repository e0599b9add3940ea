//! The human summary, in the spirit of wrk and oha: totals, a percentile table (corrected and service time side
//! by side in rate mode), a latency histogram drawn with bars, the per-endpoint table, the failures by kind and the
//! responses per server worker.

use std::fmt::Write;

use super::{bounded_millis, millis, percentile_millis, ExportError, Exporter};
use crate::agent::format_unix_us;
use crate::histogram;
use crate::{EndpointStats, LatencyBasis, LatencySummary, LoadReport, WorkerCounts};

/// Worker pids listed one by one in the summary; the rest are summed.
const LISTED_WORKERS: usize = 16;
/// Bars of the latency histogram.
const HISTOGRAM_BUCKETS: u64 = 11;
const BAR_WIDTH: u64 = 40;

pub struct Terminal;

impl Exporter for Terminal {
    fn export(&self, report: &LoadReport) -> Result<Vec<u8>, ExportError> {
        let mut text = String::new();
        summary(&mut text, report);
        percentiles(&mut text, report);
        latency_histogram(&mut text, &report.aggregated.latency)?;
        endpoints(&mut text, report);
        failures(&mut text, &report.aggregated);
        statuses(&mut text, &report.statuses);
        workers(&mut text, &report.responses_per_worker);
        Ok(text.into_bytes())
    }
}

fn summary(text: &mut String, report: &LoadReport) {
    let total = &report.aggregated;
    let _ = writeln!(text, "Summary ({:?} model{}):", report.model, if report.cancelled { ", cancelled" } else { "" });
    let _ = writeln!(
        text,
        "  Window:       {:.3} s measured, the rates' divisor ({} warm-up requests answered before it)",
        report.duration_secs, report.warmup_requests
    );
    // scripts/loadgen-vs-wrk.sh reads the req/s from this line.
    let _ = writeln!(text, "  Requests:     {} ({:.1} req/s)", total.count, total.requests_per_second);
    in_flight(text, report);
    censored(text, &report.aggregated.latency);
    answer_spread(text, report);
    let _ = writeln!(text, "  Failures:     {} ({:.1}/s)", total.failures.total(), total.failures_per_second);
    let _ = writeln!(text, "  Body size:    {:.1} B average, {} B total", total.avg_content_size, total.content_bytes);
    match report.agents.as_slice() {
        [] => {}
        [agent] => {
            let _ = writeln!(
                text,
                "  Agent:        {} on {}, window from {}, its first request +{} after it opened",
                agent.id,
                agent.host,
                format_unix_us(agent.window_start_unix_us),
                millis(agent.start_lateness_us())
            );
        }
        agents => {
            let _ = writeln!(text, "  Agents:       {} merged", agents.len());
        }
    }
    if let Some(rate) = &report.rate {
        // The open rate never waits for the target: slots it had not sent are its own lag or its bound's.
        let verdict = match (rate.kept_up, &rate.open) {
            (true, _) => "yes",
            (false, Some(open)) if open.bound_waits > 0 => "NO - the generator's connection bound held the rate back",
            (false, Some(_)) => "NO - the generator was behind its schedule at the close",
            (false, None) => "NO - the target could not keep up with the rate",
        };
        let _ = writeln!(
            text,
            "  Rate:         {:.1}/s asked, {:.1}/s achieved, {} of {} scheduled sent, kept up: {verdict}",
            rate.target_per_second, rate.achieved_per_second, rate.sent, rate.scheduled
        );
        let _ = writeln!(text, "  Max send lag: {}", millis(rate.max_send_lag_us));
        let _ = writeln!(
            text,
            "  Accounted:    {} due = {} answered before the window + {} in it + {} in flight at the close",
            rate.warmup_scheduled + rate.scheduled,
            report.warmup_requests,
            total.count,
            total.in_flight.requests
        );
        if let Some(open) = &rate.open {
            open_loop(text, open);
        }
    }
    text.push('\n');
}

/// The open rate's generator: its connections, and whether it (not the target) fell behind the schedule.
fn open_loop(text: &mut String, open: &crate::OpenLoopStats) {
    let _ = writeln!(
        text,
        "  Connections:  {} open at most, bound {}; {} slots waited for the bound",
        open.most_open, open.max_connections, open.bound_waits
    );
    let _ = writeln!(
        text,
        "  Generator:    send lag p50 {} p99 {} max {}; behind its schedule: {}",
        millis(open.send_lag_p50_us),
        millis(open.send_lag_p99_us),
        millis(open.send_lag_max_us),
        if open.generator_behind { "YES - these figures are the generator's limit, not the target's" } else { "no" }
    );
    if open.file_limit_short() {
        let limit = open.open_file_limit.unwrap_or(0);
        let _ =
            writeln!(text, "  WARNING:      the open-file limit ({limit}) is too low for the bound; raise ulimit -n");
    }
}

/// Requests unanswered at the close: counted in no other figure, so said beside them.
fn in_flight(text: &mut String, report: &LoadReport) {
    let in_flight = &report.aggregated.in_flight;
    if in_flight.requests == 0 {
        let _ = writeln!(text, "  In flight:    none at the close");
        return;
    }
    let not_sent = report.rate.as_ref().map_or(0, |rate| rate.not_sent.requests);
    let detail = if not_sent > 0 { format!(", {not_sent} of them due but not yet sent") } else { String::new() };
    let _ = writeln!(
        text,
        "  In flight:    {} at the close{detail}, in no other figure (age median {}, max {})",
        in_flight.requests,
        millis(in_flight.median_age_us),
        millis(in_flight.max_age_us)
    );
}

/// Requests counted in the percentiles as lower bounds: said only when there are any.
fn censored(text: &mut String, latency: &LatencySummary) {
    if latency.censored == 0 {
        return;
    }
    let _ = writeln!(
        text,
        "  Censored:     {} unanswered (timed out, or in flight longer than the slowest answer) count in the \
         percentiles at their age: a percentile among them is a lower bound (≥)",
        latency.censored
    );
}

/// Starvation shows here: a connection (user) that got no answer in the whole window.
fn answer_spread(text: &mut String, report: &LoadReport) {
    if let Some(spread) = &report.answers_per_connection {
        let _ = writeln!(
            text,
            "  Answers:      per connection fewest {}, most {}; {} of {} connections got none",
            spread.fewest, spread.most, spread.none, spread.connections
        );
    }
}

fn percentiles(text: &mut String, report: &LoadReport) {
    let latency = &report.aggregated.latency;
    match (&report.latency_basis, &report.aggregated.service_time) {
        (LatencyBasis::Corrected, Some(service)) => {
            let _ = writeln!(text, "Latency            corrected (from intended send)   service time (uncorrected)");
            row(text, "min", latency.min_us, Some(service.min_us));
            row_f(text, "mean", latency.mean_us, Some(service.mean_us));
            for (corrected, uncorrected) in latency.percentiles.iter().zip(&service.percentiles) {
                let label = format!("{}%", corrected.percentile);
                text_row(text, &label, &percentile_millis(corrected), Some(&percentile_millis(uncorrected)));
            }
        }
        _ => {
            let _ = writeln!(text, "Latency (service time)");
            row(text, "min", latency.min_us, None);
            row_f(text, "mean", latency.mean_us, None);
            for percentile in &latency.percentiles {
                text_row(text, &format!("{}%", percentile.percentile), &percentile_millis(percentile), None);
            }
        }
    }
    text.push('\n');
}

fn row(text: &mut String, label: &str, first: u64, second: Option<u64>) {
    text_row(text, label, &millis(first), second.map(millis).as_deref());
}

fn text_row(text: &mut String, label: &str, first: &str, second: Option<&str>) {
    let _ = write!(text, "  {label:<8} {first:>16}");
    if let Some(second) = second {
        let _ = write!(text, "                  {second:>16}");
    }
    text.push('\n');
}

fn row_f(text: &mut String, label: &str, first: f64, second: Option<f64>) {
    row(text, label, first.round() as u64, second.map(|value| value.round() as u64));
}

/// oha's histogram with logarithmic buckets from min to max: one slow outlier no longer squeezes every other
/// response into the first bar. Each recorded HdrHistogram bucket is counted in exactly one bar, so the bars sum
/// to the responses.
fn latency_histogram(text: &mut String, latency: &LatencySummary) -> Result<(), ExportError> {
    if latency.samples == 0 {
        return Ok(());
    }
    let histogram = histogram::decode(&latency.histogram)?;
    let bars = log_bars(&histogram, latency.min_us, latency.max_us);
    let fullest = bars.iter().map(|&(_, count)| count).max().unwrap_or(1).max(1);
    let _ = writeln!(text, "Latency histogram (upper bound of each bar, log scale):");
    for (upper, count) in bars {
        let bar = "■".repeat((count * BAR_WIDTH / fullest) as usize);
        let _ = writeln!(text, "  {:>14} [{count:>8}] |{bar}", millis(upper));
    }
    text.push('\n');
    Ok(())
}

/// [`HISTOGRAM_BUCKETS`] bars whose upper bounds grow by a constant factor from `min_us` to `max_us`, each with
/// the count of the recorded values up to its bound and above the previous one.
fn log_bars(histogram: &hdrhistogram::Histogram<u64>, min_us: u64, max_us: u64) -> Vec<(u64, u64)> {
    let low = min_us.max(1) as f64;
    let high = max_us.max(min_us + 1) as f64;
    let factor = (high / low).powf(1.0 / HISTOGRAM_BUCKETS as f64);
    let mut bars: Vec<(u64, u64)> =
        (1..=HISTOGRAM_BUCKETS).map(|bar| ((low * factor.powi(bar as i32)).round() as u64, 0)).collect();
    if let Some(last) = bars.last_mut() {
        last.0 = max_us.max(min_us + 1);
    }
    for value in histogram.iter_recorded() {
        // The histogram's value is its bucket's top; the exact extremes bound it.
        let at = value.value_iterated_to().clamp(min_us, max_us);
        let bar = bars.iter().position(|&(upper, _)| at <= upper).unwrap_or(bars.len() - 1);
        bars[bar].1 += value.count_at_value();
    }
    bars
}

fn endpoints(text: &mut String, report: &LoadReport) {
    let _ = writeln!(
        text,
        "{:<32} {:>9} {:>7} {:>9} {:>14} {:>14} {:>14} {:>9}",
        "Endpoint", "Requests", "Fails", "In flight", "Median", "p99", "Max", "Req/s"
    );
    for stats in report.endpoints.iter().chain(std::iter::once(&report.aggregated)) {
        let _ = writeln!(
            text,
            "{:<32} {:>9} {:>7} {:>9} {:>14} {:>14} {:>14} {:>9.1}",
            stats.name,
            stats.count,
            stats.failures.total(),
            stats.in_flight.requests,
            bounded_millis(stats.latency.median_us, stats.latency.median_is_lower_bound()),
            stats.latency.percentile(99.0).map_or_else(|| millis(0), percentile_millis),
            millis(stats.latency.max_us),
            stats.requests_per_second
        );
    }
    text.push('\n');
}

fn failures(text: &mut String, total: &EndpointStats) {
    let f = &total.failures;
    let _ = writeln!(
        text,
        "Failures by kind: connect {}, timeout {}, HTTP status {}, read/parse {}",
        f.connect, f.timeout, f.status, f.read
    );
}

/// oha's status code distribution: "Status codes: [200] 994 responses, [503] 3 responses".
fn statuses(text: &mut String, statuses: &crate::StatusCounts) {
    if statuses.0.is_empty() {
        return;
    }
    let _ = writeln!(text, "Status code distribution:");
    for count in &statuses.0 {
        let _ = writeln!(text, "  [{}] {} responses", count.status, count.responses);
    }
}

/// "Responses per worker (x-worker-pid): 4242: 600, 4243: 390 (fewest/most 0.65)".
fn workers(text: &mut String, counts: &WorkerCounts) {
    if counts.workers.is_empty() {
        return;
    }
    let listed: Vec<String> = counts
        .workers
        .iter()
        .take(LISTED_WORKERS)
        .map(|worker| format!("{}: {}", worker.pid, worker.responses))
        .collect();
    let _ = write!(text, "Responses per worker (x-worker-pid): {}", listed.join(", "));
    let unlisted: u64 = counts.workers.iter().skip(LISTED_WORKERS).map(|worker| worker.responses).sum();
    let unlisted = unlisted + counts.other_workers;
    if unlisted > 0 {
        let _ = write!(text, ", other workers: {unlisted}");
    }
    if let Some(balance) = counts.balance().filter(|_| counts.workers.len() > 1) {
        let _ = write!(text, " (fewest/most {balance:.2})");
    }
    if counts.without_pid > 0 {
        let _ = write!(text, "; {} without the header", counts.without_pid);
    }
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sample;
    use crate::Model;

    #[test]
    fn shows_totals_percentiles_histogram_and_endpoints() {
        let text = String::from_utf8(Terminal.export(&sample::report(Model::Concurrency)).unwrap()).unwrap();
        let agent =
            "Agent:        agent-0 on loadbox, window from 2023-11-14T22:13:20.000000Z, its first request +0.412 ms";
        for expected in
            ["Requests:     1007", "Latency (service time)", "99.99%", "Latency histogram (", "/cpu-intensive", agent]
        {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(text.contains("Failures by kind: connect 1, timeout 2, HTTP status 3, read/parse 4"), "{text}");
        assert!(text.contains("Status code distribution:\n  [200] 994 responses\n  [503] 3 responses\n"), "{text}");
        // The median age comes from the histogram (3 significant digits), the max is exact.
        assert!(text.contains("In flight:    5 at the close, in no other figure (age median 30.0"), "{text}");
        assert!(text.contains(" ms, max 50.000 ms)"), "{text}");
        let answers = "Answers:      per connection fewest 0, most 40; 3 of 64 connections got none";
        assert!(text.contains(answers), "{text}");
        let workers = "Responses per worker (x-worker-pid): 4242: 600, 4243: 390 (fewest/most 0.65); 10 without";
        assert!(text.contains(workers), "{text}");
        let bars = text.lines().filter(|line| line.contains("] |")).count();
        assert_eq!(bars, HISTOGRAM_BUCKETS as usize);
    }

    /// 200 responses between 1 and 5 ms and one of 1 s: the bars sum to the 201 responses (edges are not
    /// counted twice) and the fast ones spread over several bars instead of one.
    #[test]
    fn histogram_bars_sum_to_the_responses_and_survive_an_outlier() {
        let mut histogram = histogram::new_histogram();
        for index in 0..200u64 {
            histogram.record(1_000 + index * 20).unwrap();
        }
        histogram.record(1_000_000).unwrap();
        let bars = log_bars(&histogram, 1_000, 1_000_000);
        assert_eq!(bars.iter().map(|&(_, count)| count).sum::<u64>(), 201, "{bars:?}");
        let fast_bars = bars.iter().filter(|&&(upper, count)| count > 0 && upper <= 6_000).count();
        assert!(fast_bars >= 2, "the 1-5 ms responses share one bar: {bars:?}");
        assert_eq!(bars.last(), Some(&(1_000_000, 1)), "{bars:?}");
        assert!(bars.windows(2).all(|pair| pair[0].0 < pair[1].0), "bounds grow: {bars:?}");
    }

    /// 100 answers and 50 censored requests: the median is an answer, p99 a lower bound near the requests' age.
    #[test]
    fn lower_bounds_print_with_a_sign_and_the_censored_count_is_said() {
        let text = String::from_utf8(Terminal.export(&sample::saturated()).unwrap()).unwrap();
        assert!(text.contains("  Censored:     50 unanswered"), "{text}");
        assert!(text.contains("In flight:    52 at the close"), "{text}");
        let p99 = text.lines().find(|line| line.trim_start().starts_with("99%")).unwrap();
        assert!(p99.contains("≥ 49"), "{p99}");
        let p50 = text.lines().find(|line| line.trim_start().starts_with("50%")).unwrap();
        assert!(!p50.contains('≥') && p50.contains("10"), "{p50}");
        let row = text.lines().find(|line| line.starts_with("Aggregated")).unwrap();
        assert_eq!(row.matches('≥').count(), 1, "p99 only, not the median nor the max: {row}");
        assert!(!String::from_utf8(Terminal.export(&sample::report(Model::Users)).unwrap()).unwrap().contains('≥'));
    }

    #[test]
    fn rate_mode_shows_corrected_and_service_time_side_by_side() {
        let text = String::from_utf8(Terminal.export(&sample::report(Model::Rate)).unwrap()).unwrap();
        assert!(text.contains("corrected (from intended send)"), "{text}");
        assert!(text.contains("service time (uncorrected)"), "{text}");
        assert!(text.contains("kept up: yes"), "{text}");
        assert!(text.contains("In flight:    6 at the close, 1 of them due but not yet sent"), "{text}");
        assert!(
            text.contains("Accounted:    1013 due = 0 answered before the window + 1007 in it + 6 in flight"),
            "{text}"
        );
    }

    #[test]
    fn an_open_rate_run_says_when_the_generator_fell_behind() {
        let mut report = sample::report(Model::Rate);
        let open = crate::OpenLoopStats {
            max_connections: 10,
            most_open: 10,
            bound_waits: 42,
            send_lag_p50_us: 20,
            send_lag_p99_us: 300,
            send_lag_max_us: 900,
            open_file_limit: Some(50),
            generator_behind: true,
        };
        report.rate.as_mut().expect("a rate sample").open = Some(open);
        let text = String::from_utf8(Terminal.export(&report).unwrap()).unwrap();
        assert!(text.contains("10 open at most, bound 10; 42 slots waited for the bound"), "{text}");
        assert!(text.contains("behind its schedule: YES"), "{text}");
        assert!(text.contains("open-file limit (50) is too low"), "{text}");
    }
}
