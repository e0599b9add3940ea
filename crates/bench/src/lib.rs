//! The benchmark driver behind `rustcorn bench`: suites, target processes, /proc sampling and the results model
//! that the report and `compare` read.

pub mod results;

// CI regression tracking (issue 7).
pub mod calibration;
pub mod compare;
pub mod history;

pub use results::{RunResults, SCHEMA_VERSION};
