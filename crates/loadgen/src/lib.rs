//! The load generator: Locust users, wrk concurrency and wrk2 constant rate over a lean HTTP/1.1 client, recorded
//! in HDR histograms per endpoint and per thread and merged at the end. `rustcorn load` and the bench driver call
//! [`run`] with a [`LoadPlan`] and render the [`LoadReport`] with an [`output::Exporter`].

pub mod agent;
pub mod capacity;
mod censored;
mod client;
mod control;
mod error;
mod fd_limit;
pub mod histogram;
mod in_flight;
mod open_loop;
mod open_stats;
pub mod output;
mod pacing;
pub mod per_worker;
mod plan;
pub mod precise_timer;
mod ramp_clock;
mod recorder;
mod report;
pub mod request;
mod run;
mod spread;
mod status;
mod stop;
mod tls;
mod worker;

pub use agent::{AgentSpec, AgentWindow};
pub use control::{LiveCounters, RunControl, Shutdown};
pub use error::LoadError;
pub use in_flight::InFlightStats;
pub use open_stats::{OpenLoopStats, GENERATOR_LAG_LIMIT_US};
pub use per_worker::{WorkerCount, WorkerCounts};
pub use plan::{LoadPlan, Model, Pacing, Stop, Target, Task};
pub use report::{
    merge, EndpointStats, FailureCounts, LatencyBasis, LatencySummary, LoadReport, Percentile, RateStats, SecondStats,
    AGGREGATED_NAME, REPORTED_PERCENTILES,
};
pub use request::RequestShape;
pub use run::run;
pub use spread::AnswerSpread;
pub use status::{StatusCount, StatusCounts};
pub use tls::{TlsTarget, TlsTrust};
