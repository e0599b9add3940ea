//! Draws a run: one self-contained HTML page (inline plotters SVG charts, no JavaScript, no network), a markdown
//! summary for CI and `findings.json`, all from the same [`analysis::Findings`], so they cannot disagree; nothing
//! here judges. `rustcorn bench report` and the end of `rustcorn bench run` call [`write_report`] /
//! [`write_run_report`]; each drawn format is an [`Exporter`] in its own module.

mod charts;
mod figure_words;
pub mod history;
mod html;
mod markdown;
mod page;
mod palette;

use std::path::{Path, PathBuf};

use analysis::findings_file::FINDINGS_FILE;
use analysis::FindingsFile;
use results::RunResults;

pub use history::History;

/// The HTML report's file name inside a run folder.
pub const HTML_FILE: &str = "report.html";
/// The markdown summary's file name, always next to the HTML report.
pub const SUMMARY_FILE: &str = "summary.md";
/// The CI history file's name in the `results/` folder (the parent of each run folder).
pub const HISTORY_FILE: &str = "history.jsonl";

/// What a report shows beyond the results file.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Earlier CI runs for the trend chart; None leaves the chart out (the page says so).
    pub history: Option<History>,
}

impl ReportOptions {
    /// Options for the results file at `results_json`: the history is `history.jsonl` in the file's folder or in
    /// that folder's parent (`results/<run-id>/results.json` -> `results/history.jsonl`), when it exists.
    pub fn for_results_file(results_json: &Path) -> Result<ReportOptions, ReportError> {
        let folder = results_json.parent().unwrap_or(Path::new("."));
        let candidates = [Some(folder.join(HISTORY_FILE)), folder.parent().map(|parent| parent.join(HISTORY_FILE))];
        for candidate in candidates.into_iter().flatten() {
            if let Some(history) = History::read(&candidate)? {
                return Ok(ReportOptions { history: Some(history) });
            }
        }
        Ok(ReportOptions::default())
    }
}

/// Errors writing a report (rendering itself cannot fail: a chart that cannot be drawn says so on the page).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// The files a report was written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub summary: PathBuf,
    pub findings: PathBuf,
}

/// One output format: renders the whole report to bytes (hyperfine's exporter shape).
pub(crate) trait Exporter {
    fn render(&self, report: &page::Report<'_>) -> Vec<u8>;
}

/// The self-contained HTML page.
pub fn render_html(results: &RunResults, options: &ReportOptions) -> String {
    render_with(&html::HtmlExporter, results, options)
}

/// The markdown summary (verdict and headline table) for a CI job summary.
pub fn render_summary_md(results: &RunResults, options: &ReportOptions) -> String {
    render_with(&markdown::MarkdownExporter, results, options)
}

fn render_with(exporter: &dyn Exporter, results: &RunResults, options: &ReportOptions) -> String {
    let report = page::Report::new(results, options);
    // Both exporters build their text from Strings, so the bytes are UTF-8.
    String::from_utf8_lossy(&exporter.render(&report)).into_owned()
}

/// The findings as data (what `findings.json` holds).
pub fn findings(results: &RunResults) -> FindingsFile {
    let view = analysis::RunView::new(results);
    FindingsFile::new(&view, &analysis::Findings::of(&view))
}

/// Writes the HTML report to `html_path`, and `summary.md` and `findings.json` next to it, each atomically
/// (temporary file + rename), all three from one judgement of the results.
pub fn write_report(
    results: &RunResults,
    html_path: &Path,
    options: &ReportOptions,
) -> Result<ReportFiles, ReportError> {
    let folder = html_path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let summary_path = folder.join(SUMMARY_FILE);
    let findings_path = folder.join(FINDINGS_FILE);
    let report = page::Report::new(results, options);
    write_atomically(html_path, &html::HtmlExporter.render(&report))?;
    write_atomically(&summary_path, &markdown::MarkdownExporter.render(&report))?;
    write_atomically(&findings_path, &FindingsFile::new(report.view(), &report.findings).to_json())?;
    Ok(ReportFiles { html: html_path.to_path_buf(), summary: summary_path, findings: findings_path })
}

/// What `rustcorn bench run` calls when a run ends: `report.html` and `summary.md` in the run folder, with the
/// trend from `results/history.jsonl` when there is one.
pub fn write_run_report(run_dir: &Path, results: &RunResults) -> Result<ReportFiles, ReportError> {
    let options = ReportOptions::for_results_file(&run_dir.join("results.json"))?;
    write_report(results, &run_dir.join(HTML_FILE), &options)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let error = |source| ReportError::Write { path: path.display().to_string(), source };
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes).map_err(error)?;
    std::fs::rename(&temporary, path).map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        error(source)
    })
}
