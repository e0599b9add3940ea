//! The benchmark driver behind `rustcorn bench`: suites, target processes, /proc sampling and the results model
//! that the report and `compare` read. [`run::run`] runs a suite into `results/<run-id>/`.

pub mod collect;
pub mod cpu_work;
pub mod environment;
pub mod failures;
pub mod k8s;
pub mod kill;
pub mod numbers;
mod oneshot;
pub mod output;
mod phase;
pub mod pinning;
pub mod ports;
pub mod process;
mod progress;
pub mod results;
pub mod run;
pub mod sampler;
pub mod schedule;
mod serve_check;
pub mod servers;
pub mod store;
pub mod suite;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

// CI regression tracking: a calibration that makes runs on different machines comparable, the comparison of a
// run with a baseline, and the history of passing runs that widens its reference.
pub mod calibration;
pub mod compare;
pub mod history;

pub use results::{RunResults, SCHEMA_VERSION};
pub use run::{run, Outcome, RunError, RunOptions};
