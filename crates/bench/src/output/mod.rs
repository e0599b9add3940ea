//! Formats a whole run is written in, one per file behind [`RunExporter`]: the terminal table, Locust's stats
//! CSV and JSON. (Per-phase `.hlog` files come from the load generator's own exporter.)

mod csv;
mod json;
mod table;

pub use self::csv::StatsCsv;
pub use json::Json;
pub use table::Table;

use crate::results::RunResults;

/// Renders a run's results as the bytes of one output format.
pub trait RunExporter {
    fn export(&self, results: &RunResults) -> Vec<u8>;
}
