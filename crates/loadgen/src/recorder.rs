//! [`Recorder`]: one per load thread, shared by that thread's connections (single-threaded, so no lock): an
//! [`EndpointRecord`] per task, a per-second timeline, responses per server worker, warm-up counts, and which
//! request each connection is waiting on, so that the window's close can report what was still in flight. Merged
//! across threads at the end.
//!
//! The measured set is wrk's: a request counts when its answer (or failure) completes inside the window
//! [end of warm-up, close), whenever it was sent. Completed before the window: a warm-up request. Still unanswered
//! at the close, or answered after it: in flight, with its age at the close.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::client::Response;
use crate::histogram::{self, Latencies, SIGNIFICANT_DIGITS};
use crate::per_worker::WorkerCounts;
use crate::report::{EndpointRecord, SecondRecord};
use crate::{FailureCounts, LiveCounters, LoadError, StatusCounts};

/// How often a thread adds its counts to the shared [`LiveCounters`].
const LIVE_FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// How one request ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Response(Response),
    Failed(FailureKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    Connect,
    Timeout,
    Read,
}

/// One request's times: intended (by the pacer), actually sent, and completed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub intended: Instant,
    pub sent: Instant,
    pub done: Instant,
}

/// The request a connection is waiting on.
#[derive(Debug, Clone, Copy)]
struct Pending {
    task: usize,
    intended: Instant,
}

pub(crate) struct Recorder {
    measure_start: Instant,
    /// The end of the window: the deadline of a timed run from the start, otherwise set by [`Recorder::close`].
    close: Option<Instant>,
    endpoints: Vec<EndpointRecord>,
    timeline: Timeline,
    workers: WorkerCounts,
    statuses: StatusCounts,
    warmup_requests: u64,
    /// Per connection of this thread (by its local index): the request on the wire, if any.
    pending: Vec<Option<Pending>>,
    /// Per connection of this thread: requests sent, warm-up included (in rate mode, the next slot's number).
    sends: Vec<u64>,
    /// Per connection of this thread: responses completed inside the window.
    answers: Vec<u64>,
    sends_in_window: u64,
    max_send_lag: Duration,
    /// Rate mode: ages of the slots due before the close that had not been sent.
    not_sent: Latencies,
    /// The earliest actual send of a measured request: when this thread's window really began.
    first_sent: Option<Instant>,
    live: Arc<LiveCounters>,
    unflushed: (u64, u64),
    last_flush: Instant,
}

/// What a thread hands back when it is done.
pub(crate) struct ThreadRecords {
    pub endpoints: Vec<EndpointRecord>,
    pub timeline: Vec<SecondRecord>,
    pub workers: WorkerCounts,
    pub statuses: StatusCounts,
    pub warmup_requests: u64,
    /// Responses inside the window, per connection of this thread.
    pub answers: Vec<u64>,
    /// Requests intended inside the window and sent, and the worst lag of a send behind its intended time.
    pub sends_in_window: u64,
    pub max_send_lag: Duration,
    pub not_sent: Latencies,
    pub first_sent: Option<Instant>,
}

impl Recorder {
    /// `keep_service_time`: rate mode records the uncorrected service time next to the corrected latency.
    /// `deadline`: the close of a timed window, known in advance.
    pub fn new(
        tasks: usize,
        connections: usize,
        keep_service_time: bool,
        (measure_start, deadline): (Instant, Option<Instant>),
        live: Arc<LiveCounters>,
    ) -> Recorder {
        Recorder {
            measure_start,
            close: deadline,
            endpoints: (0..tasks).map(|_| EndpointRecord::with_service_time(keep_service_time)).collect(),
            timeline: Timeline::default(),
            workers: WorkerCounts::reserved(),
            statuses: StatusCounts::default(),
            warmup_requests: 0,
            pending: vec![None; connections],
            sends: vec![0; connections],
            answers: vec![0; connections],
            sends_in_window: 0,
            max_send_lag: Duration::ZERO,
            not_sent: Latencies::default(),
            first_sent: None,
            live,
            unflushed: (0, 0),
            last_flush: measure_start,
        }
    }

    /// Connection `connection` put a request for `task` on the wire at `sent`, intended at `intended`.
    pub fn sent(&mut self, connection: usize, task: usize, intended: Instant, sent: Instant) {
        self.pending[connection] = Some(Pending { task, intended });
        self.sends[connection] += 1;
        if intended >= self.measure_start {
            self.sends_in_window += 1;
            self.max_send_lag = self.max_send_lag.max(sent.saturating_duration_since(intended));
        }
    }

    /// Requests every connection of this thread has sent so far.
    pub fn total_sends(&self) -> u64 {
        self.sends.iter().sum()
    }

    /// Requests connection `connection` has sent so far.
    pub fn sends(&self, connection: usize) -> u64 {
        self.sends[connection]
    }

    pub fn record(&mut self, connection: usize, task: usize, timing: Timing, outcome: Outcome) {
        self.pending[connection] = None;
        if timing.done < self.measure_start {
            self.warmup_requests += 1;
            return;
        }
        if let Some(close) = self.close.filter(|&close| timing.done >= close) {
            self.endpoints[task].in_flight.record(micros(close.saturating_duration_since(timing.intended)));
            return;
        }
        self.first_sent = Some(self.first_sent.map_or(timing.sent, |first| first.min(timing.sent)));
        let endpoint = &mut self.endpoints[task];
        let (latency_us, failed) = match outcome {
            Outcome::Response(response) => {
                let latency_us = micros(timing.done - timing.intended);
                endpoint.latency.record(latency_us);
                if let Some(service) = &mut endpoint.service {
                    service.record(micros(timing.done - timing.sent));
                }
                endpoint.content_bytes += response.body_bytes;
                self.workers.record(response.worker_pid);
                self.statuses.record(response.status);
                self.answers[connection] += 1;
                let failed = response.status >= 400;
                endpoint.failures.status += u64::from(failed);
                (Some(latency_us), failed)
            }
            Outcome::Failed(kind) => {
                count_failure(&mut endpoint.failures, kind);
                if kind == FailureKind::Timeout {
                    endpoint.timed_out.record(micros(timing.done - timing.intended));
                }
                (None, true)
            }
        };
        self.timeline.record(timing.done.saturating_duration_since(self.measure_start), latency_us, failed);
        self.unflushed.0 += 1;
        self.unflushed.1 += u64::from(failed);
        if timing.done.saturating_duration_since(self.last_flush) >= LIVE_FLUSH_INTERVAL {
            self.flush_live(timing.done);
        }
    }

    /// Closes the window at `at`: every request still on the wire becomes in flight, aged from its intended time.
    /// The caller stops the connections first, so nothing is recorded after this.
    pub fn close(&mut self, at: Instant) {
        self.close = Some(at);
        for pending in self.pending.iter_mut().filter_map(Option::take) {
            self.endpoints[pending.task].in_flight.record(micros(at.saturating_duration_since(pending.intended)));
        }
    }

    /// Rate mode: a slot due at `intended` that had not been sent at the close.
    pub fn not_sent(&mut self, intended: Instant) {
        let close = self.close.unwrap_or(intended);
        self.not_sent.record(micros(close.saturating_duration_since(intended)));
    }

    fn flush_live(&mut self, now: Instant) {
        self.live.add(self.unflushed.0, self.unflushed.1);
        self.unflushed = (0, 0);
        self.last_flush = now;
    }

    pub fn finish(&mut self) -> Result<ThreadRecords, LoadError> {
        self.flush_live(Instant::now());
        Ok(ThreadRecords {
            endpoints: std::mem::take(&mut self.endpoints),
            timeline: std::mem::take(&mut self.timeline).finish()?,
            workers: std::mem::take(&mut self.workers),
            statuses: std::mem::take(&mut self.statuses),
            warmup_requests: self.warmup_requests,
            answers: std::mem::take(&mut self.answers),
            sends_in_window: self.sends_in_window,
            max_send_lag: self.max_send_lag,
            not_sent: std::mem::take(&mut self.not_sent),
            first_sent: self.first_sent,
        })
    }
}

fn count_failure(failures: &mut FailureCounts, kind: FailureKind) {
    match kind {
        FailureKind::Connect => failures.connect += 1,
        FailureKind::Timeout => failures.timeout += 1,
        FailureKind::Read => failures.read += 1,
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Per-second counts and latency. Completions arrive in time order within a thread, so only the current second
/// is live; finished seconds are kept encoded (a few hundred bytes each) instead of as full histograms.
struct Timeline {
    second: u64,
    requests: u64,
    errors: u64,
    latency: Histogram<u64>,
    finished: Vec<(u64, u64, Vec<u8>)>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            second: 0,
            requests: 0,
            errors: 0,
            latency: Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid precision"),
            finished: Vec::new(),
        }
    }
}

impl Timeline {
    fn record(&mut self, since_start: Duration, latency_us: Option<u64>, failed: bool) {
        let second = since_start.as_secs();
        if second > self.second {
            self.roll_to(second);
        }
        self.requests += 1;
        self.errors += u64::from(failed);
        if let Some(latency_us) = latency_us {
            if self.latency.record(latency_us).is_err() {
                self.latency.saturating_record(latency_us);
            }
        }
    }

    /// Closes the current second (and any empty ones before `second`).
    fn roll_to(&mut self, second: u64) {
        while self.second < second {
            self.close_current();
            self.second += 1;
        }
    }

    fn close_current(&mut self) {
        let encoded = histogram::encode_bytes(&self.latency);
        self.finished.push((self.requests, self.errors, encoded));
        self.requests = 0;
        self.errors = 0;
        self.latency.reset();
    }

    fn finish(mut self) -> Result<Vec<SecondRecord>, LoadError> {
        if self.requests > 0 {
            self.close_current();
        }
        self.finished
            .into_iter()
            .map(|(requests, errors, encoded)| {
                let latency = histogram::decode_bytes(&encoded)?;
                Ok(SecondRecord { requests, errors, latency: Some(latency) })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timed-out request counts as a failure and, at its timeout from the intended send, as a censored latency.
    #[test]
    fn a_timed_out_request_enters_the_latencies_at_its_timeout() {
        let start = Instant::now();
        let timeout = Duration::from_secs(5);
        let mut recorder = Recorder::new(1, 2, false, (start, None), Arc::new(LiveCounters::default()));
        let answered = Timing { intended: start, sent: start, done: start + Duration::from_millis(100) };
        let response = Response { status: 200, body_bytes: 2, worker_pid: None };
        recorder.sent(0, 0, start, start);
        recorder.record(0, 0, answered, Outcome::Response(response));
        recorder.sent(1, 0, start, start);
        let timed_out = Timing { intended: start, sent: start, done: start + timeout };
        recorder.record(1, 0, timed_out, Outcome::Failed(FailureKind::Timeout));
        let records = recorder.finish().expect("finish");
        let stats = records.endpoints[0].stats("/a", 5.0);
        assert_eq!((stats.count, stats.failures.timeout, stats.latency.samples), (2, 1, 1));
        assert_eq!(stats.latency.censored, 1);
        let max = stats.latency.percentile(100.0).expect("p100");
        assert!(max.lower_bound && max.latency_us.abs_diff(5_000_000) <= 5_000, "{max:?}");
        assert!(!stats.latency.percentile(50.0).expect("p50").lower_bound);
    }
}
