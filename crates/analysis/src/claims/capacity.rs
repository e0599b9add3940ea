//! The claims about how many blocking requests a model serves at once: gunicorn's sync workers (one request per
//! worker, the rest queued: claim 1) and uvicorn's thread pool for plain `def` endpoints (40 at once: claim 4).
//! Both read /sync-google, whose service time is the upstream's delay, through Little's law.

use results::Family;

use super::roles::{self, Role};
use super::{closed_phase_with, not_measured, req_per_s, upstream_delay_s, Check, Finding};
use crate::data::RunView;
use crate::format;

const PATH: &str = "/sync-google";

/// Measured throughput may sit this far below the ideal capacity (connects, parsing) and still be "≈" it...
const CAPACITY_LOW: f64 = 0.8;
/// ...and this far above it (timing noise); above that the target served more at once than the claim allows.
const CAPACITY_HIGH: f64 = 1.1;

/// A queue is visible when the median latency reaches this share of (place in the queue x service time).
const QUEUE_SHARE: f64 = 0.5;
/// A point's median latency is judged only when warm-up plus window last this many times the queue model's wait:
/// the window counts only the answers it sees complete, so a wait longer than it leaves the slow half in flight and
/// the median of what completed reads low (3.2 s queues read ~1 s in 1.5 s windows).
const WINDOW_PER_WAIT: f64 = 1.5;

/// Waits overlap when Little's law counts this share of the connections (or of the pool) in flight.
const OVERLAP_SHARE: f64 = 0.7;
/// A pool caps the overlap when no more than this multiple of its size is in flight.
const POOL_CAP: f64 = 1.15;

/// One closed-loop /sync-google phase of a target: connections, throughput and median latency.
struct Point {
    connections: u32,
    rate: f64,
    p50_s: f64,
    /// The median lands among requests that had no answer: `p50_s` is a lower bound.
    p50_lower_bound: bool,
    /// Warm-up plus the measured window: the longest wait an answer inside the window can have had.
    window_s: f64,
}

/// Every closed-loop /sync-google phase `target` has figures in, by connections.
fn series(report: &RunView<'_>, target: usize) -> Vec<Point> {
    let mut points: Vec<Point> = (0..report.phases.len())
        .filter(|&phase| report.phases[phase].single_endpoint() == Some(PATH) && !report.phases[phase].kills_a_worker())
        .filter_map(|phase| {
            let connections = report.phases[phase].connections()?;
            let latency = report.latency(target, phase)?;
            let example = report.phases[phase].example;
            let window_s = example.warmup_s + example.duration_s;
            let p50 = latency.bounded_at(50.0);
            let rate = req_per_s(report, target, phase);
            Some(Point { connections, rate, p50_s: p50.us / 1e6, p50_lower_bound: p50.lower_bound, window_s })
        })
        .collect();
    points.sort_by_key(|point| point.connections);
    points
}

/// Claim 1: w sync workers serve w requests at once and queue the rest.
pub fn sync_workers_queue(report: &RunView<'_>, family: Family) -> Check {
    let slots_of = |target: usize| roles::slots(report.targets[target].result);
    let found = closed_phase_with(report, PATH, |phase| {
        let connections = report.phases[phase].connections()?;
        roles::find(report, family, Role::SyncWorkers, |t| report.has_data(t, phase) && connections > slots_of(t))
    });
    let Some((phase, target)) = found else {
        return not_measured(family, "no sync-worker target ran /sync-google with more connections than workers");
    };
    let (slots, delay_s) = (slots_of(target), upstream_delay_s(report));
    let connections = report.phases[phase].connections().unwrap_or(0);
    let rate = req_per_s(report, target, phase);
    let capacity = f64::from(slots) / delay_s.max(1e-3);
    let capacity_ok = (CAPACITY_LOW * capacity..=CAPACITY_HIGH * capacity).contains(&rate);
    let points = series(report, target);
    let expected_s = |connections: u32| (f64::from(connections) / f64::from(slots)).max(1.0) * delay_s;
    let judged = |point: &&Point| point.window_s >= WINDOW_PER_WAIT * expected_s(point.connections);
    let seen: Vec<&Point> = points.iter().filter(judged).collect();
    let queued = seen.iter().filter(|point| point.connections > slots);
    let queue_ok = queued.clone().next().is_some()
        && queued.clone().all(|point| point.p50_s >= QUEUE_SHARE * expected_s(point.connections))
        && seen.windows(2).all(|pair| pair[1].p50_s >= 0.9 * pair[0].p50_s);
    let latencies: Vec<String> = points
        .iter()
        .map(|point| {
            let mut text = format!(
                "{} at {} (queue model {})",
                format::at_least(format::latency_us(point.p50_s * 1e6), point.p50_lower_bound),
                point.connections,
                format::latency_us(expected_s(point.connections) * 1e6)
            );
            if !judged(&point) {
                text.push_str(&format!(
                    " not judged: its {} s of warm-up and window are shorter than {WINDOW_PER_WAIT} waits, so the \
                     slower half was still in flight",
                    format::significant(point.window_s, 2)
                ));
            }
            text
        })
        .collect();
    let evidence = format!(
        "{} ({slots} workers) served {} req/s on /sync-google with {connections} connections: capacity {slots} / {} \
         = {} req/s, measured {} of it (expected {}-{}); median latency by connections: {}",
        report.target_name(target),
        format::rate(rate),
        format::latency_us(delay_s * 1e6),
        format::rate(capacity),
        format::percent(rate / capacity),
        format::percent(CAPACITY_LOW),
        format::percent(CAPACITY_HIGH),
        latencies.join(", ")
    );
    let finding = Finding::of(capacity_ok, queue_ok);
    let evidence = match (capacity_ok, queue_ok) {
        (true, false) => format!("{evidence}: the throughput is the workers', but the latency shows no queue"),
        (false, true) => format!("{evidence}: the latency queues, but the throughput is not w / service time"),
        _ => evidence,
    };
    Check::new(family, finding, evidence)
}

/// Claim 4: plain `def` endpoints overlap their blocking waits on uvicorn's thread pool, up to its size.
pub fn thread_pool_overlaps(report: &RunView<'_>, family: Family) -> Check {
    let delay_s = upstream_delay_s(report);
    let Some(target) = roles::find(report, family, Role::SingleLoop, |target| !series(report, target).is_empty())
    else {
        return not_measured(family, "no single-process event-loop target ran /sync-google in a closed loop");
    };
    let pool = roles::thread_pool(report.targets[target].result);
    let points = series(report, target);
    let in_flight = |point: &Point| point.rate * delay_s;
    // Overlap is shown by any point that overlaps (a point slowed by something else does not undo it); the cap is
    // broken by any point past it, and reached when the most overlapped point past the pool comes near it.
    let below = points
        .iter()
        .filter(|point| point.connections > 1 && point.connections <= pool)
        .max_by(|a, b| (in_flight(a) / f64::from(a.connections)).total_cmp(&(in_flight(b) / f64::from(b.connections))));
    let above =
        points.iter().filter(|point| point.connections > pool).max_by(|a, b| in_flight(a).total_cmp(&in_flight(b)));
    let (Some(below), Some(above)) = (below, above) else {
        let measured: Vec<String> = points.iter().map(|point| point.connections.to_string()).collect();
        let what = format!(
            "{} ran /sync-google at {} connections only: no sweep across its thread pool of {pool}",
            report.target_name(target),
            measured.join(", ")
        );
        return not_measured(family, what);
    };
    let overlaps = in_flight(below) >= OVERLAP_SHARE * f64::from(below.connections);
    let capped = in_flight(above) <= POOL_CAP * f64::from(pool);
    let reached = in_flight(above) >= OVERLAP_SHARE * f64::from(pool);
    let counts: Vec<String> =
        points.iter().map(|point| format!("{:.1} of {}", in_flight(point), point.connections)).collect();
    let evidence = format!(
        "{} on /sync-google ({} upstream), requests waiting at once (Little's law: req/s x delay) by connections: \
         {}; its thread pool holds {pool}",
        report.target_name(target),
        format::latency_us(delay_s * 1e6),
        counts.join(", ")
    );
    let (finding, evidence) = match (overlaps, capped && reached) {
        (true, true) => (Finding::Holds, format!("{evidence}: the waits overlap, and stop at the pool")),
        (true, false) if !capped => {
            (Finding::Partly, format!("{evidence}: the waits overlap, but more than the pool's {pool} at once"))
        }
        (true, false) => (Finding::Partly, format!("{evidence}: the waits overlap, but never fill the pool")),
        (false, _) => (Finding::DoesNotHold, format!("{evidence}: the waits do not overlap")),
    };
    Check::new(family, finding, evidence)
}
