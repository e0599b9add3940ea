//! results.json's bytes: pretty JSON and a final newline (also what `--json` prints).

use super::RunExporter;
use crate::results::RunResults;

pub struct Json;

impl RunExporter for Json {
    fn export(&self, results: &RunResults) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(results).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let results = crate::testing::results();
        let bytes = Json.export(&results);
        assert!(bytes.ends_with(b"}\n"));
        let back: RunResults = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, results);
    }
}
