//! The benchmark driver behind `rustcorn bench`: suites, target processes, /proc sampling and the results model
//! that the report and `compare` read.

pub mod environment;
pub mod pinning;
pub mod process;
pub mod results;
pub mod sampler;
pub mod suite;

pub use results::{RunResults, SCHEMA_VERSION};
