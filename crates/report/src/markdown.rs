//! summary.md: the verdict and the headline table in GitHub-flavoured markdown, for a CI job summary.

use std::fmt::Write;

use analysis::claims;
use analysis::tables;
use analysis::verdict;

use crate::page::Report;
use crate::Exporter;

pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn render(&self, report: &Report<'_>) -> Vec<u8> {
        render(report).into_bytes()
    }
}

fn render(report: &Report<'_>) -> String {
    let results = report.results;
    let verdicts = &report.findings.verdicts;
    let mut out = String::new();
    let _ = writeln!(out, "# rustcorn: {} (run {})\n", escape(&results.suite.name), escape(&results.run_id));
    if results.partial {
        let _ = writeln!(out, "> **Partial run**: it was interrupted; phases not measured are marked as missing.\n");
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "> Warning: {}\n", escape(warning));
    }
    let environment = &results.environment;
    let commit = environment.git_commit.as_deref().map(|c| c.chars().take(12).collect::<String>());
    let _ = writeln!(
        out,
        "{} · {} cores · {} · commit {}{}\n",
        escape(&environment.cpu_model),
        environment.cores,
        escape(&environment.kernel),
        escape(commit.as_deref().unwrap_or("unknown")),
        if environment.git_dirty == Some(true) { " (uncommitted changes)" } else { "" }
    );
    write_first_screen(&mut out, report);
    let _ = writeln!(out, "## Verdict\n");
    if verdicts.is_empty() {
        let _ = writeln!(out, "No phase has data to judge.\n");
    }
    for verdict in verdicts {
        let _ = writeln!(out, "- **{}**: {}", escape(&verdict.subject.title()), escape(&verdict.sentence(report)));
    }
    let _ = writeln!(out);
    write_claims(&mut out, report);
    write_variants(&mut out, report);
    write_headline(&mut out, report, verdicts);
    for target in &report.targets {
        if let Some(reason) = target.failure() {
            let _ = writeln!(out, "- **{}** failed, so it has no figures: {}", escape(target.name()), escape(reason));
        }
    }
    out
}

/// The page's first screen in markdown: the answer table and the claims table.
fn write_first_screen(out: &mut String, report: &Report<'_>) {
    let _ = writeln!(out, "## Which model for which workload\n");
    let _ = writeln!(out, "| workload | use | lead over the runner-up (range) | in Python terms |");
    let _ = writeln!(out, "|---|---|---|---|");
    for row in &report.findings.answer {
        let models: Vec<String> = row.models.iter().map(|&target| escape(report.target_name(target))).collect();
        let python: Vec<String> = row.python.iter().map(|python| format!("`{python}`")).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            escape(&row.workload),
            match models.len() {
                0 => "–".to_owned(),
                1 => models.join(""),
                _ => format!("any of: {}", models.join(", ")),
            },
            escape(&row.lead),
            if python.is_empty() { "–".to_owned() } else { python.join(" or ") }
        );
    }
    let _ = writeln!(out);
    if report.findings.claims.is_empty() {
        return;
    }
    let _ = writeln!(out, "## The article's claims, checked\n");
    let _ = writeln!(out, "| # | claim ({}) | Python | Rust |", escape(claims::ARTICLE));
    let _ = writeln!(out, "|---:|---|---|---|");
    for claim in &report.findings.claims {
        let finding = |family| {
            claim.checks.iter().find(|check| check.family == family).map_or("–", |check| check.finding.short_label())
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            claim.number,
            escape(claim.short),
            finding(results::Family::Python),
            finding(results::Family::Rust)
        );
    }
    let _ = writeln!(out);
}

/// The article's claims, each checked for Python and for Rust (crates/analysis/src/claims).
fn write_claims(out: &mut String, report: &Report<'_>) {
    if report.findings.claims.is_empty() {
        return;
    }
    let _ = writeln!(out, "## The article's claims, with the evidence\n");
    let _ = writeln!(out, "From {}, checked for Python and for Rust.\n", escape(claims::ARTICLE));
    for claim in &report.findings.claims {
        let _ = writeln!(out, "{}. **{}**", claim.number, escape(claim.statement));
        for check in &claim.checks {
            let _ = writeln!(out, "  - {}", escape(&check.sentence()));
        }
    }
    let _ = writeln!(out);
}

/// Each improved variant beside the article's code, when the suite runs any.
fn write_variants(out: &mut String, report: &Report<'_>) {
    let rows = tables::variant_rows(report);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "## What the article's code costs\n");
    let _ =
        writeln!(out, "| phase | article's code | improved | req/s | improved req/s | CPU ms / request | improved |");
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|");
    for row in &rows {
        let cpu = |ms: Option<f64>| ms.map_or_else(|| "–".to_owned(), |ms| analysis::format::significant(ms, 3));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            escape(report.phases[row.phase].name),
            escape(report.target_name(row.original)),
            escape(report.target_name(row.variant)),
            analysis::format::rate(row.rates.0),
            analysis::format::rate(row.rates.1),
            cpu(row.cpu_ms.0),
            cpu(row.cpu_ms.1)
        );
    }
    let _ = writeln!(out);
}

fn write_headline(out: &mut String, report: &Report<'_>, verdicts: &[verdict::Verdict]) {
    if verdicts.is_empty() {
        return;
    }
    let table = tables::headline(report, verdicts);
    let _ = writeln!(out, "## Headline\n");
    let header: Vec<String> =
        table.columns.iter().map(|column| format!("{} ({})", escape(&column.title), column.unit)).collect();
    let _ = writeln!(out, "| target | family | {} |", header.join(" | "));
    let _ = writeln!(out, "|---|---|{}", "---:|".repeat(table.columns.len()));
    for row in &table.rows {
        let view = &report.targets[row.target];
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|cell| {
                let text = if cell.best { format!("**{}**", escape(&cell.text)) } else { escape(&cell.text) };
                match &cell.in_flight {
                    Some(in_flight) => format!("{text} ({})", escape(in_flight)),
                    None => text,
                }
            })
            .collect();
        let family = view.family().label();
        let _ = writeln!(out, "| {} | {family} | {} |", escape(view.name()), cells.join(" | "));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "req/s: successful responses per second, higher is better; p99: 99th percentile latency, lower is better. {} In brackets: requests still in flight when the measured window closed, in none of the figures.\n",
        verdict::LEAD_RULE
    );
    let lower_bound = verdicts.iter().any(|verdict| verdict.ranking.iter().any(|entry| entry.lower_bound));
    if lower_bound {
        let _ = writeln!(out, "{}\n", analysis::tables::LOWER_BOUND_RULE);
    }
}

/// Backslash-escapes the characters markdown would read as formatting, links, HTML or table cells.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(character);
            }
            '\n' | '\r' => out.push(' '),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_table_pipes() {
        assert_eq!(escape("a|b <script> *x* _y_"), r"a\|b \<script\> \*x\* \_y\_");
        assert_eq!(escape("two\nlines"), "two lines");
    }
}
