//! `cpu_work`: equal CPU time per request rather than equal iterations. Before the run, every target taking part in
//! a phase with a `cpu_work` task is started once and, idle, probed with sequential requests until an
//! `?iterations=` count makes its endpoint report the asked cost ([`search`]); every phase then sends that count to
//! that target. A target whose endpoint reports no duration, or cannot reach the cost, stops the run before
//! anything is measured.

mod search;
pub mod table;

use std::time::Duration;

use crate::compare::stats::median;
use crate::oneshot;
use crate::phase::{self, PhaseContext};
use crate::process::{ChildFailure, ChildServer};
use crate::results::CpuWork;
use crate::suite::{Suite, TargetSpec, TaskSpec};
use search::{Miss, Probe};
pub use search::{MAX_PROBES, TOLERANCE};
pub use table::{with_iterations, CpuWorkTable};

/// Time a probe near the cost spends on its median; probes far from it take one request (enough to steer).
const PROBE_BUDGET: Duration = Duration::from_millis(300);
/// Requests behind the median of a probe near the cost: at least, and at most.
const MIN_SAMPLES: u32 = 5;
const MAX_SAMPLES: u32 = 15;
/// A probe's first request within this fraction of the cost makes it a near probe.
const NEAR: f64 = 0.5;
/// Per request: this plus ten times the cost asked.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the calibration came to.
#[derive(Debug, Default)]
pub struct Calibrated {
    pub table: CpuWorkTable,
    /// Targets (by index) that did not start or stopped answering: marked failed, the others go on.
    pub failed: Vec<(usize, ChildFailure)>,
}

/// Why the run does not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum CpuWorkError {
    /// The suite asks a target for a cost it cannot give: the suite or the target must change.
    #[error("target {target:?}: {message}")]
    Refused { target: String, message: String },
    #[error("interrupted during the cpu_work calibration")]
    Cancelled,
}

/// Calibrates every target x (endpoint, cost) the suite's phases ask for, one target process at a time.
pub fn calibrate(suite: &Suite, context: &PhaseContext<'_>) -> Result<Calibrated, CpuWorkError> {
    let mut calibrated = Calibrated::default();
    for (index, target) in suite.targets.iter().enumerate() {
        let wanted = wanted(suite, target);
        if wanted.is_empty() {
            continue;
        }
        context.progress.line(&format!("{}: calibrating cpu_work", target.name));
        match calibrate_target(target, &wanted, context)? {
            Ok(found) => {
                for (task, work) in found {
                    context.progress.line(&found_line(&target.name, &task, &work));
                    let cost = task.cpu_work.unwrap_or_default();
                    calibrated.table.insert(target.name.clone(), task.path_and_query, cost, work);
                }
            }
            Err(failure) => calibrated.failed.push((index, failure)),
        }
    }
    Ok(calibrated)
}

/// The distinct (endpoint, cost) tasks of the phases `target` takes part in.
fn wanted(suite: &Suite, target: &TargetSpec) -> Vec<TaskSpec> {
    let mut wanted: Vec<TaskSpec> = Vec::new();
    let tasks = suite.phases.iter().filter(|phase| phase.includes(&target.name)).flat_map(|phase| &phase.tasks);
    for task in tasks.filter(|task| task.cpu_work.is_some()) {
        let known = |each: &TaskSpec| each.path_and_query == task.path_and_query && each.cpu_work == task.cpu_work;
        if !wanted.iter().any(known) {
            wanted.push(task.clone());
        }
    }
    wanted
}

/// One fresh target process for all its costs. The outer error stops the run; the inner one fails the target.
type TargetOutcome = Result<Vec<(TaskSpec, CpuWork)>, ChildFailure>;

fn calibrate_target(
    target: &TargetSpec,
    wanted: &[TaskSpec],
    context: &PhaseContext<'_>,
) -> Result<TargetOutcome, CpuWorkError> {
    let started =
        phase::child_spec(target, None, context, None).and_then(|spec| ChildServer::start(&spec, context.cancel));
    let mut server = match started {
        Ok(server) => server,
        Err(_) if context.cancel.is_cancelled() => return Err(CpuWorkError::Cancelled),
        Err(failure) => {
            let reason = format!("did not start for the cpu_work calibration: {}", failure.reason);
            return Ok(Err(ChildFailure { reason, stderr_tail: failure.stderr_tail }));
        }
    };
    let mut found = Vec::new();
    for task in wanted {
        let cost = task.cpu_work.unwrap_or_default().as_secs_f64();
        let outcome = search::search(cost, |count| probe(&server.base_url, &task.path_and_query, count, cost, context));
        let refuse = |message: String| CpuWorkError::Refused { target: target.name.clone(), message };
        let what = format!(
            "cpu_work {} on {}",
            humantime::format_duration(task.cpu_work.unwrap_or_default()),
            task.path_and_query
        );
        match outcome {
            Ok(search::Found { iterations, seconds, samples, probes }) => found
                .push((task.clone(), CpuWork { requested_s: cost, iterations, measured_s: seconds, samples, probes })),
            Err(Miss::Probe(ProbeError::Cancelled)) => return Err(CpuWorkError::Cancelled),
            Err(Miss::Probe(ProbeError::Unanswered(error))) => {
                let tail = if server.exited().is_some() { server.final_stderr_tail() } else { server.stderr_tail() };
                let _ = server.stop(target.stop_grace);
                let reason = format!("stopped answering during the cpu_work calibration ({what}): {error}");
                return Ok(Err(ChildFailure { reason, stderr_tail: tail }));
            }
            Err(Miss::Probe(ProbeError::Answer(message))) => {
                return Err(refuse(format!(
                    "{what}: {message}; cpu_work needs an endpoint that reports its own duration"
                )))
            }
            Err(Miss::Unreachable { reached, refused, detail, ceiling }) => {
                return Err(refuse(unreachable_text(&what, reached, refused, &detail, ceiling)));
            }
            Err(Miss::Unsettled { last: (count, seconds) }) => {
                return Err(refuse(format!(
                    "{what}: no ?iterations= count came within ±{:.0}% in {MAX_PROBES} probes (the last, {count}, \
                     cost {}): its duration does not follow ?iterations=",
                    TOLERANCE * 100.0,
                    seconds_text(seconds)
                )))
            }
        }
    }
    let _ = server.stop(target.stop_grace);
    Ok(Ok(found))
}

/// "cpu_work 2s on /cpu-intensive is out of its reach: ..." with the cost it reached and where it stopped.
fn unreachable_text(
    what: &str,
    reached: Option<(u64, f64)>,
    refused: u64,
    detail: &str,
    ceiling: Option<f64>,
) -> String {
    let mut text =
        format!("{what} is out of its reach: it refuses ?iterations={refused} ({})", excerpt(detail.as_bytes()));
    match (reached, ceiling) {
        (Some((count, seconds)), Some(ceiling)) => text.push_str(&format!(
            "; the most it reached was {} at ?iterations={count}, and at that rate its largest count would cost \
             about {}",
            seconds_text(seconds),
            seconds_text(ceiling)
        )),
        (Some((count, seconds)), None) => {
            text.push_str(&format!("; the most it reached was {} at ?iterations={count}", seconds_text(seconds)))
        }
        (None, _) => text.push_str(" and every smaller count"),
    }
    text
}

/// Why a probe has no cost to give.
#[derive(Debug)]
enum ProbeError {
    /// No answer at all: the target failed.
    Unanswered(oneshot::GetError),
    /// An answer without a usable duration: the suite cannot run as written.
    Answer(String),
    Cancelled,
}

/// Sequential requests at `count`: the median of the durations the endpoint reports.
fn probe(base_url: &str, path: &str, count: u64, cost: f64, context: &PhaseContext<'_>) -> Result<Probe, ProbeError> {
    let request = with_iterations(path, count);
    let url = format!("{base_url}{request}");
    let timeout = REQUEST_TIMEOUT + Duration::from_secs_f64(cost * 10.0);
    let mut durations = Vec::new();
    let mut wanted = 1;
    while durations.len() < wanted {
        if context.cancel.is_cancelled() {
            return Err(ProbeError::Cancelled);
        }
        let answer = oneshot::get(&url, timeout).map_err(ProbeError::Unanswered)?;
        let seconds = match answer.status {
            200 => duration_of(&answer.body).ok_or_else(|| {
                ProbeError::Answer(format!(
                    "GET {request} answered 200 without a \"duration\" number in a JSON body ({})",
                    excerpt(&answer.body)
                ))
            })?,
            400 => {
                return Ok(Probe::Refused { detail: format!("400: {}", String::from_utf8_lossy(&answer.body).trim()) })
            }
            status => {
                return Err(ProbeError::Answer(format!("GET {request} answered {status} ({})", excerpt(&answer.body))))
            }
        };
        if durations.is_empty() && (seconds / cost - 1.0).abs() <= NEAR {
            let budgeted = (PROBE_BUDGET.as_secs_f64() / seconds.max(1e-9)).ceil() as u32;
            wanted = budgeted.clamp(MIN_SAMPLES, MAX_SAMPLES) as usize;
        }
        durations.push(seconds);
    }
    Ok(Probe::Cost { seconds: median(&durations), samples: durations.len() as u32 })
}

/// The `duration` field (seconds) of a JSON object body.
fn duration_of(body: &[u8]) -> Option<f64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("duration")?.as_f64().filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
}

/// The start of a body, for a message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "empty body".to_owned();
    }
    let mut shown: String = text.chars().take(80).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("body: {shown:?}")
}

/// Seconds for a person: "2.01 ms", "0.690 s", "48.2 µs".
fn seconds_text(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.3} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

fn found_line(target: &str, task: &TaskSpec, work: &CpuWork) -> String {
    format!(
        "{target}: cpu_work {} on {} = ?iterations={} (measured {}, median of {} requests, {} probes)",
        humantime::format_duration(task.cpu_work.unwrap_or_default()),
        task.path_and_query,
        work.iterations,
        seconds_text(work.measured_s),
        work.samples,
        work.probes
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_come_from_json_bodies_only() {
        assert_eq!(duration_of(br#"{"message":"CPU intensive task completed","duration":0.002}"#), Some(0.002));
        assert_eq!(duration_of(br#"{"message":"ok"}"#), None);
        assert_eq!(duration_of(br#"{"duration":"2ms"}"#), None);
        assert_eq!(duration_of(b"xxxxxxxx"), None);
        assert_eq!(duration_of(br#"{"duration":-1.0}"#), None);
    }

    #[test]
    fn iterations_join_the_query() {
        assert_eq!(with_iterations("/cpu-intensive", 5), "/cpu-intensive?iterations=5");
        assert_eq!(with_iterations("/cpu-intensive?x=1", 5), "/cpu-intensive?x=1&iterations=5");
    }

    #[test]
    fn messages_show_seconds_and_short_bodies() {
        assert_eq!(seconds_text(0.00201), "2.010 ms");
        assert_eq!(seconds_text(0.0000482), "48.2 µs");
        assert_eq!(seconds_text(1.5), "1.500 s");
        assert_eq!(excerpt(b""), "empty body");
        assert!(excerpt(&[b'x'; 200]).ends_with("…\""));
    }
}
