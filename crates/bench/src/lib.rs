//! The benchmark driver behind `rustcorn bench`: suites, target processes, /proc sampling and the results model
//! that the report and `compare` read.

pub mod results;

pub use results::{RunResults, SCHEMA_VERSION};
