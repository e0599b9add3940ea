//! `results/history.jsonl`: one line per CI run, `{commit, date, figures: {name: value}, passed}`. `compare` reads
//! a window of the latest passing lines as extra reference samples and appends the new run; the report draws its
//! trend chart from the same lines. This is the one model of the file: `compare` reads it strictly (a bad line is an
//! error), the report leniently (a bad line is skipped and named), both through [`parse_lines`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One CI run's headline figures (the normalised figures and ratios `compare` gates on, plus the calibration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// `git rev-parse HEAD` of the run, or "unknown".
    pub commit: String,
    /// RFC 3339, UTC: when the run started.
    pub date: String,
    /// Figure name (as `compare` names it, e.g. "norm:sync/health") to the median over the run's repetitions.
    /// Non-numbers are dropped on reading: serde_json writes a non-finite figure as `null`, and a line written by
    /// hand may carry a note; neither makes the rest of the line unusable.
    #[serde(deserialize_with = "numbers_only")]
    pub figures: BTreeMap<String, f64>,
    /// Whether `compare` passed this run. Only passing runs serve as reference, so that an accepted regression
    /// does not slowly become the norm; absent in lines written by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
}

/// Errors reading or appending the history file.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} line {line}: not a history line: {source}")]
    Parse { path: String, line: usize, source: serde_json::Error },
    #[error("cannot append to {path}: {source}")]
    Append { path: String, source: std::io::Error },
}

/// Reads every line; a missing file is an empty history. Blank lines are skipped.
pub fn read(path: &Path) -> Result<Vec<HistoryLine>, HistoryError> {
    let shown = path.display().to_string();
    let text = match read_text(path) {
        Ok(text) => text.unwrap_or_default(),
        Err(source) => return Err(HistoryError::Read { path: shown, source }),
    };
    parse_lines(&text)
        .map(|(line, parsed)| parsed.map_err(|source| HistoryError::Parse { path: shown.clone(), line, source }))
        .collect()
}

/// The file's text, or None when it does not exist.
pub fn read_text(path: &Path) -> Result<Option<String>, std::io::Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Each non-blank line of JSON Lines text with its 1-based number, parsed or not; the caller decides whether a
/// bad line is fatal.
pub fn parse_lines(text: &str) -> impl Iterator<Item = (usize, Result<HistoryLine, serde_json::Error>)> + '_ {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| (index + 1, serde_json::from_str(line)))
}

fn numbers_only<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let raw = BTreeMap::<String, serde_json::Value>::deserialize(deserializer)?;
    Ok(raw.into_iter().filter_map(|(name, value)| value.as_f64().map(|number| (name, number))).collect())
}

/// Appends one line (creating the file), written with a single `write` so that concurrent appends do not interleave.
pub fn append(path: &Path, line: &HistoryLine) -> Result<(), HistoryError> {
    let append_error = |source| HistoryError::Append { path: path.display().to_string(), source };
    let mut text = serde_json::to_string(line).map_err(|error| append_error(std::io::Error::other(error)))?;
    text.push('\n');
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(append_error)?;
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(append_error)?;
    file.write_all(text.as_bytes()).map_err(append_error)
}

/// The values of `figure` in the last `window` lines that passed (or say nothing about passing), oldest first.
pub fn window_values(lines: &[HistoryLine], figure: &str, window: usize) -> Vec<f64> {
    let mut values: Vec<f64> = lines
        .iter()
        .rev()
        .filter(|line| line.passed != Some(false))
        .filter_map(|line| line.figures.get(figure).copied())
        .filter(|value| value.is_finite())
        .take(window)
        .collect();
    values.reverse();
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(commit: &str, value: f64, passed: Option<bool>) -> HistoryLine {
        HistoryLine {
            commit: commit.into(),
            date: "2026-01-01T00:00:00Z".into(),
            figures: BTreeMap::from([("norm:sync/health".to_owned(), value)]),
            passed,
        }
    }

    #[test]
    fn append_then_read_round_trips_and_keeps_the_shape() {
        let dir = std::env::temp_dir().join(format!("results-history-{}", std::process::id()));
        let path = dir.join("nested/history.jsonl");
        append(&path, &line("a", 1.0, Some(true))).expect("append");
        append(&path, &line("b", 2.0, None)).expect("append");
        let lines = read(&path).expect("read");
        assert_eq!(lines, vec![line("a", 1.0, Some(true)), line("b", 2.0, None)]);
        let first: serde_json::Value =
            serde_json::from_str(std::fs::read_to_string(&path).expect("text").lines().next().expect("a line"))
                .expect("json");
        assert_eq!(first["commit"], "a");
        assert_eq!(first["figures"]["norm:sync/health"], 1.0);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_non_finite_figure_written_as_null_reads_back_without_it() {
        let dir = std::env::temp_dir().join(format!("results-history-nan-{}", std::process::id()));
        let path = dir.join("history.jsonl");
        let mut nan = line("a", f64::NAN, None);
        nan.figures.insert("ratio".into(), 2.0);
        append(&path, &nan).expect("append");
        let lines = read(&path).expect("a null figure does not spoil the line");
        assert_eq!(lines[0].figures, BTreeMap::from([("ratio".to_owned(), 2.0)]));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_missing_file_is_an_empty_history() {
        assert!(read(Path::new("/nonexistent/history.jsonl")).expect("read").is_empty());
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = std::env::temp_dir().join(format!("results-history-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("history.jsonl");
        std::fs::write(&path, "{\"commit\":\"a\",\"date\":\"d\",\"figures\":{}}\n\nnot json\n").expect("write");
        let error = read(&path).expect_err("line 3 is bad");
        assert!(matches!(error, HistoryError::Parse { line: 3, .. }), "{error}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_window_takes_the_latest_passing_values_oldest_first() {
        let lines = vec![
            line("a", 1.0, Some(true)),
            line("b", 2.0, Some(true)),
            line("c", 9.0, Some(false)),
            line("d", 3.0, None),
            line("e", 4.0, Some(true)),
        ];
        assert_eq!(window_values(&lines, "norm:sync/health", 3), vec![2.0, 3.0, 4.0]);
        assert_eq!(window_values(&lines, "norm:sync/health", 0), Vec::<f64>::new());
        assert!(window_values(&lines, "other", 3).is_empty());
    }
}
