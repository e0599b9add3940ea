//! `results/history.jsonl`, read through the results model of it ([`results::history::HistoryLine`]), oldest first. Here a
//! line that does not parse is skipped and named in the report, never fatal. The report draws its trend chart from
//! it.

use std::path::Path;

use results::history::{self, HistoryLine};

use crate::ReportError;

/// The most recent runs drawn; older lines are read but left out of the chart.
pub const MAX_RUNS: usize = 60;

/// The parsed history file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Where it was read from, as shown in the report.
    pub path: String,
    /// Oldest first, at most [`MAX_RUNS`].
    pub entries: Vec<HistoryLine>,
    /// "line N: reason" for each line that could not be used.
    pub skipped: Vec<String>,
}

impl History {
    /// Reads `path`; Ok(None) when the file does not exist.
    pub fn read(path: &Path) -> Result<Option<History>, ReportError> {
        let text = history::read_text(path)
            .map_err(|source| ReportError::Read { path: path.display().to_string(), source })?;
        Ok(text.map(|text| History::parse(&path.display().to_string(), &text)))
    }

    /// Parses JSON Lines text; blank lines are ignored.
    pub fn parse(path: &str, text: &str) -> History {
        let mut entries = Vec::new();
        let mut skipped = Vec::new();
        for (number, parsed) in history::parse_lines(text) {
            match parsed {
                Ok(entry) => entries.push(entry),
                Err(error) => skipped.push(format!("line {number}: {error}")),
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

/// A run's label on the chart: the date's first 10 characters (YYYY-MM-DD), or the commit's first 7 when there is
/// no date.
pub fn short_label(entry: &HistoryLine) -> String {
    let source = if entry.date.trim().is_empty() { &entry.commit } else { &entry.date };
    let limit = if entry.date.trim().is_empty() { 7 } else { 10 };
    source.chars().take(limit).collect()
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
        assert_eq!(short_label(&history.entries[0]), "2026-01-02");
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
        assert_eq!(short_label(&history.entries[0]), "c5");
    }

    #[test]
    fn a_missing_file_is_no_history() {
        let path = std::env::temp_dir().join(format!("rustcorn-no-history-{}.jsonl", std::process::id()));
        assert_eq!(History::read(&path).expect("absent is fine"), None);
    }
}
