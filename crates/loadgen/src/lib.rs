//! The load generator: Locust users, wrk concurrency and wrk2 constant rate over a lean HTTP/1.1 client, recorded
//! in HDR histograms per endpoint and per thread and merged at the end. `rustcorn load` and the bench driver call
//! [`run`] with a [`LoadPlan`] and render the [`LoadReport`] with an [`output::Exporter`].

mod control;
mod error;
pub mod histogram;
mod plan;
mod report;

pub use control::{CancellationToken, LiveCounters, RunControl};
pub use error::LoadError;
pub use plan::{LoadPlan, Model, Pacing, Stop, Target, Task};
pub use report::{
    merge, EndpointStats, FailureCounts, LatencyBasis, LatencySummary, LoadReport, Percentile, RateStats, SecondStats,
    AGGREGATED_NAME, REPORTED_PERCENTILES,
};
