//! Output formats for a [`LoadReport`], one per file behind the small [`Exporter`] trait: the terminal summary,
//! JSON, Locust's `_stats.csv` and the HdrHistogram interval log. `rustcorn load` and the bench driver use them.
//! Beside them: [`agents`] describes the agents of a merge, [`frames`] carries files through a log stream,
//! [`capacity`] draws a capacity search's steps and answer.

pub mod agents;
pub mod capacity;
mod csv;
pub mod frames;
pub mod hlog;
mod json;
mod terminal;

pub use self::csv::LocustCsv;
pub use hlog::Hlog;
pub use json::Json;
pub use terminal::Terminal;

use crate::LoadReport;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Histogram(#[from] crate::LoadError),
    #[error("cannot write the interval log: {0}")]
    Hlog(String),
}

/// Renders a report as the bytes of one output format.
pub trait Exporter {
    fn export(&self, report: &LoadReport) -> Result<Vec<u8>, ExportError>;
}

/// Microseconds as milliseconds with 3 decimals (microsecond precision kept), for people.
pub(crate) fn millis(micros: u64) -> String {
    format!("{:.3} ms", micros as f64 / 1000.0)
}

/// A percentile as [`millis`], marked "≥" when it is a lower bound (it lands among censored requests).
pub(crate) fn percentile_millis(percentile: &crate::Percentile) -> String {
    bounded_millis(percentile.latency_us, percentile.lower_bound)
}

/// [`millis`], marked "≥" when the value is only a lower bound.
pub(crate) fn bounded_millis(micros: u64, lower_bound: bool) -> String {
    if lower_bound {
        format!("≥ {}", millis(micros))
    } else {
        millis(micros)
    }
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small deterministic report the format tests share.

    use std::time::Duration;

    use crate::histogram::Latencies;
    use crate::report::{EndpointRecord, LatencyBasis, ReportParts, SecondRecord};
    use crate::{AgentWindow, FailureCounts, InFlightStats, LoadReport, Model, RateStats};

    pub fn report(model: Model) -> LoadReport {
        let corrected = model == Model::Rate;
        let mut health = EndpointRecord::with_service_time(corrected);
        let mut cpu = EndpointRecord::with_service_time(corrected);
        let mut second = SecondRecord::default();
        let mut timeline_latency = Latencies::default();
        for i in 0..1000u64 {
            let (record, micros) = if i % 4 == 0 { (&mut cpu, 50_000 + i * 10) } else { (&mut health, 100 + i) };
            record.latency.record(micros + if corrected { 500 } else { 0 });
            if let Some(service) = &mut record.service {
                service.record(micros);
            }
            record.content_bytes += 20;
            timeline_latency.record(micros);
        }
        health.failures = FailureCounts { connect: 1, timeout: 2, status: 3, read: 4 };
        // Five /cpu-intensive requests unanswered at the close, 10-50 ms old.
        for age_ms in [10, 20, 30, 40, 50] {
            cpu.in_flight.record(age_ms * 1000);
        }
        second.requests = 1000;
        second.errors = 10;
        second.latency = Some(timeline_latency.histogram);
        let mut not_sent = Latencies::default();
        not_sent.record(7_000);
        let rate = corrected.then(|| RateStats {
            target_per_second: 1000.0,
            achieved_per_second: 999.0,
            // The sample's 1007 finished + 5 sent and unanswered + 1 not sent.
            scheduled: 1013,
            sent: 1012,
            max_send_lag_us: 1234,
            kept_up: true,
            warmup_scheduled: 0,
            not_sent: InFlightStats::of(&not_sent),
            open: None,
        });
        ReportParts {
            model,
            started_at_unix_ms: 1_700_000_000_000,
            duration_secs: Duration::from_secs(1).as_secs_f64(),
            warmup_requests: 0,
            cancelled: false,
            latency_basis: if corrected { LatencyBasis::Corrected } else { LatencyBasis::ServiceTime },
            endpoints: vec![("/health".into(), health), ("/cpu-intensive".into(), cpu)],
            timeline: vec![second],
            rate,
            workers: crate::WorkerCounts {
                workers: vec![
                    crate::WorkerCount { pid: 4242, responses: 600 },
                    crate::WorkerCount { pid: 4243, responses: 390 },
                ],
                other_workers: 0,
                without_pid: 10,
            },
            statuses: crate::StatusCounts(vec![
                crate::StatusCount { status: 200, responses: 994 },
                crate::StatusCount { status: 503, responses: 3 },
            ]),
        }
        .into_report()
        .map(|mut report| {
            report.agents = vec![agent()];
            report.answers_per_connection =
                (model != Model::Rate).then_some(crate::AnswerSpread { connections: 64, fewest: 0, most: 40, none: 3 });
            report
        })
        .expect("the sample report assembles")
    }

    /// A saturated target: 100 answers of 100-110 ms, 50 requests in flight at the close for 4.95 s (censored) and
    /// 2 answered-too-late ones 10 ms old (young, left out).
    pub fn saturated() -> LoadReport {
        let mut record = EndpointRecord::default();
        for index in 0..100u64 {
            record.latency.record(100_000 + index * 100);
        }
        for _ in 0..50 {
            record.in_flight.record(4_950_000);
        }
        record.in_flight.record(10_000);
        record.in_flight.record(10_000);
        ReportParts {
            model: Model::Concurrency,
            started_at_unix_ms: 1_700_000_000_000,
            duration_secs: 4.0,
            warmup_requests: 0,
            cancelled: false,
            latency_basis: LatencyBasis::ServiceTime,
            endpoints: vec![("/async-google".into(), record)],
            timeline: Vec::new(),
            rate: None,
            workers: crate::WorkerCounts::default(),
            statuses: crate::StatusCounts::default(),
        }
        .into_report()
        .expect("the saturated report assembles")
    }

    /// The agent of the sample report: started at its --start-at instant, 412 µs late.
    pub fn agent() -> AgentWindow {
        AgentWindow {
            id: "agent-0".into(),
            host: "loadbox".into(),
            start_at_unix_us: Some(1_700_000_000_000_000),
            window_start_unix_us: 1_700_000_000_000_000,
            window_end_unix_us: 1_700_000_001_000_000,
            first_request_unix_us: Some(1_700_000_000_000_412),
            requests: 1000,
        }
    }
}
