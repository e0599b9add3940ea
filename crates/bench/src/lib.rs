//! The benchmark driver behind `rustcorn bench`: suites, target processes and /proc sampling, writing the results
//! model of the `results` crate (re-exported here as [`results`]). [`run::run`] runs a suite into
//! `results/<run-id>/`.

mod capacity;
pub mod collect;
pub mod cpu_work;
pub mod environment;
pub mod failures;
pub mod k8s;
pub mod kill;
mod oneshot;
pub mod output;
mod phase;
pub mod pinning;
pub mod ports;
pub mod process;
mod progress;
pub mod run;
pub mod sampler;
pub mod schedule;
mod serve_check;
pub mod servers;
pub mod store;
pub mod suite;

// CI regression tracking: a calibration that makes runs on different machines comparable, and the comparison of a
// run with a baseline and with the history of passing runs (`results::history`) that widens its reference.
pub mod calibration;
pub mod compare;

pub use ::results;
#[cfg(any(test, feature = "test-support"))]
pub use ::results::testing;
pub use ::results::{history, numbers};

pub use results::{RunResults, SCHEMA_VERSION};
pub use run::{run, Outcome, RunError, RunOptions};
