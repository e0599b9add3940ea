//! JSON output: the [`LoadReport`] as is (pretty-printed), for machines; schema in `crates/loadgen/schema/`.

use super::{ExportError, Exporter};
use crate::LoadReport;

pub struct Json;

impl Exporter for Json {
    fn export(&self, report: &LoadReport) -> Result<Vec<u8>, ExportError> {
        let mut bytes = serde_json::to_vec_pretty(report)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sample;
    use crate::Model;

    #[test]
    fn round_trips_through_serde() {
        for model in [Model::Concurrency, Model::Rate] {
            let report = sample::report(model);
            let bytes = Json.export(&report).unwrap();
            let back: LoadReport = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back, report);
        }
    }
}
