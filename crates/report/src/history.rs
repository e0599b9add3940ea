//! `results/history.jsonl`: one JSON object per CI run, `{"commit": "...", "date": "...", "figures": {"name":
//! number, ...}}`, oldest first. Other fields are ignored and so are non-numeric figures; a line that does not
//! parse is skipped and named in the report, never fatal. The report draws its trend chart from it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::ReportError;

/// The most recent runs drawn; older lines are read but left out of the chart.
pub const MAX_RUNS: usize = 60;

/// The parsed history file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Where it was read from, as shown in the report.
    pub path: String,
    /// Oldest first, at most [`MAX_RUNS`].
    pub entries: Vec<HistoryEntry>,
    /// "line N: reason" for each line that could not be used.
    pub skipped: Vec<String>,
}

/// One CI run's headline figures.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryEntry {
    pub commit: String,
    /// RFC 3339 or any date text; the chart shows its first 10 characters.
    pub date: String,
    #[serde(deserialize_with = "numbers_only")]
    pub figures: BTreeMap<String, f64>,
}

impl History {
    /// Reads `path`; Ok(None) when the file does not exist.
    pub fn read(path: &Path) -> Result<Option<History>, ReportError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(History::parse(&path.display().to_string(), &text))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ReportError::Read { path: path.display().to_string(), source }),
        }
    }

    /// Parses JSON Lines text; blank lines are ignored.
    pub fn parse(path: &str, text: &str) -> History {
        let mut entries = Vec::new();
        let mut skipped = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<HistoryEntry>(line) {
                Ok(entry) => entries.push(entry),
                Err(error) => skipped.push(format!("line {}: {error}", index + 1)),
            }
        }
        let excess = entries.len().saturating_sub(MAX_RUNS);
        entries.drain(..excess);
        History { path: path.to_owned(), entries, skipped }
    }

    /// Every figure name in any entry, sorted.
    pub fn figure_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.entries.iter().flat_map(|entry| entry.figures.keys().cloned()).collect();
        names.sort();
        names.dedup();
        names
    }
}

impl HistoryEntry {
    /// The date's first 10 characters (YYYY-MM-DD), or the commit's first 7 when there is no date.
    pub fn short_label(&self) -> String {
        let source = if self.date.trim().is_empty() { &self.commit } else { &self.date };
        let limit = if self.date.trim().is_empty() { 7 } else { 10 };
        source.chars().take(limit).collect()
    }
}

fn numbers_only<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let raw = BTreeMap::<String, serde_json::Value>::deserialize(deserializer)?;
    Ok(raw.into_iter().filter_map(|(name, value)| value.as_f64().map(|number| (name, number))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_names_the_bad_ones() {
        let text = concat!(
            r#"{"commit": "abc1234def", "date": "2026-01-02T03:04:05Z", "figures": {"cpu": 1.5, "io": 2}}"#,
            "\n\n",
            "not json\n",
            r#"{"commit": "bcd", "date": "2026-01-03", "figures": {"cpu": 1.6, "note": "text", "gap": null}, "x": 1}"#,
            "\n",
        );
        let history = History::parse("history.jsonl", text);
        assert_eq!(history.entries.len(), 2);
        assert_eq!(history.skipped.len(), 1);
        assert!(history.skipped[0].starts_with("line 3:"), "{:?}", history.skipped);
        assert_eq!(history.figure_names(), ["cpu", "io"]);
        assert_eq!(history.entries[0].short_label(), "2026-01-02");
        assert_eq!(history.entries[1].figures.len(), 1, "non-numbers are dropped");
    }

    #[test]
    fn keeps_only_the_latest_runs() {
        let text: String = (0..MAX_RUNS + 5)
            .map(|run| format!(r#"{{"commit": "c{run}", "date": "", "figures": {{"f": {run}}}}}"#) + "\n")
            .collect();
        let history = History::parse("h", &text);
        assert_eq!(history.entries.len(), MAX_RUNS);
        assert_eq!(history.entries[0].commit, "c5");
        assert_eq!(history.entries[0].short_label(), "c5");
    }

    #[test]
    fn a_missing_file_is_no_history() {
        let path = std::env::temp_dir().join(format!("rustcorn-no-history-{}.jsonl", std::process::id()));
        assert_eq!(History::read(&path).expect("absent is fine"), None);
    }
}
