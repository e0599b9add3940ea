//! The page opens with the answer: the answer table (one row per kind of workload, the model the verdict ranks
//! first, its lead with the range, its uvicorn/gunicorn name) and the claims table, each linking to evidence in
//! the page; the evidence is folded in `<details>`; a phase whose targets are level gets a sentence, not charts;
//! summary.md opens with the same two tables.

mod common;

use common::{fixture, make_level, phase_anchor, phase_names, select, select_in, text_of};
use report::{render_html, render_summary_md, ReportOptions};
use results::RunResults;
use scraper::Html;

fn page(results: &RunResults) -> Html {
    Html::parse_document(&render_html(results, &ReportOptions::default()))
}

#[test]
fn the_first_screen_is_the_answer_table_then_the_claims_table() {
    let document = page(&fixture());
    let sections: Vec<String> = select(&document, "main > section, main > details, main > nav")
        .iter()
        .map(|e| e.value().id().unwrap_or("").to_owned())
        .collect();
    assert_eq!(&sections[..2], ["answer", "claims-table"], "the page opens with the two tables: {sections:?}");

    let rows: Vec<String> = select(&document, "#answer tbody tr").iter().map(text_of).collect();
    let workloads: Vec<String> = select(&document, "#answer tbody td:first-child").iter().map(text_of).collect();
    let expected = ["CPU-bound", "memory-bound", "blocking I/O", "async I/O", "the article's Locust mix"];
    assert_eq!(workloads, expected, "{rows:#?}");
    // The fixture makes two worker processes win CPU work with a clear lead over sync.
    assert!(rows[0].contains("prefork-w2"), "{}", rows[0]);
    assert!(rows[0].contains("gunicorn -w 2 -k uvicorn_worker.UvicornWorker"), "its Python name: {}", rows[0]);
    assert!(rows[0].contains("× (") && rows[0].contains("over sync"), "the lead with its range: {}", rows[0]);
    // The I/O models all meet the upstream's ceiling: level, and each named in Python terms.
    assert!(rows[2].contains("any of:") && rows[2].contains("level"), "{}", rows[2]);
    assert!(rows[2].contains("a threaded server") && rows[2].contains("uvicorn"), "{}", rows[2]);
    assert!(rows[4].contains("Locust"), "the article's mix: {}", rows[4]);

    let claims = select(&document, "#claims-table tbody tr");
    assert_eq!(claims.len(), 8, "one row per claim");
    for row in &claims {
        let findings: Vec<String> = select_in(row, "td.finding").iter().map(text_of).collect();
        assert_eq!(findings.len(), 2, "Python and Rust: {}", text_of(row));
        for finding in &findings {
            assert!(["holds", "in part", "does not hold", "not measured"].contains(&finding.as_str()), "{finding}");
        }
    }
}

#[test]
fn rust_threads_are_a_python_threaded_server_only_where_the_work_waits_on_the_upstream() {
    let mut results = fixture();
    make_level(&mut results, "memory-c8");
    let document = page(&results);
    let rows: Vec<String> = select(&document, "#answer tbody tr").iter().map(text_of).collect();
    // Memory work holds the GIL: Python's threads would take turns on one core, Rust's sync model does not.
    assert!(rows[1].contains("sync") && rows[1].contains("level"), "the memory row names sync: {}", rows[1]);
    assert!(rows[1].contains("no Python equivalent (threads without a GIL)"), "{}", rows[1]);
    assert!(!rows[1].contains("a threaded server"), "{}", rows[1]);
    // Waiting on the upstream releases it: there the same model is a threaded server.
    assert!(rows[2].contains("a threaded server") && !rows[2].contains("no Python equivalent"), "{}", rows[2]);
}

#[test]
fn every_first_screen_link_leads_to_evidence_in_the_page() {
    let document = page(&fixture());
    let links = select(&document, "#answer a, #claims-table a");
    assert!(links.len() >= 8 * 3 + 4, "each claim and each measured workload links: {}", links.len());
    for link in links {
        let href = link.value().attr("href").expect("a link has an href");
        let id = href.strip_prefix('#').expect("an anchor in the page");
        let target = select(&document, &format!("[id='{id}']"));
        assert_eq!(target.len(), 1, "{href} names one element");
        assert!(text_of(&target[0]).len() > 40, "{href} holds evidence: {}", text_of(&target[0]));
    }
}

#[test]
fn evidence_is_folded_in_details_and_the_page_needs_no_script() {
    let results = fixture();
    let document = page(&results);
    assert!(select(&document, "script").is_empty());
    let folded = select(&document, "details");
    assert!(folded.iter().all(|details| details.value().attr("open").is_none()), "closed until the reader opens them");
    for (index, name) in phase_names(&results).iter().enumerate() {
        let phase = select(&document, &format!("details#{}", phase_anchor(index, name)));
        assert_eq!(phase.len(), 1, "phase {name} folds");
        assert_eq!(select_in(&phase[0], "summary").len(), 1);
    }
    for id in ["resources", "scaling", "workers", "locust", "methodology"] {
        assert_eq!(select(&document, &format!("details#{id} > summary h2")).len(), 1, "{id} folds under its heading");
    }
    // Every chart carries a one-line takeaway computed from the data.
    for chart in select(&document, "figure.chart") {
        let takeaway = select_in(&chart, "p.takeaway");
        assert_eq!(takeaway.len(), 1, "figure #{} has a takeaway", chart.value().id().unwrap_or("?"));
        assert!(text_of(&takeaway[0]).ends_with('.'), "{}", text_of(&takeaway[0]));
    }
    let takeaways: Vec<String> = select(&document, "details.phase figure p.takeaway").iter().map(text_of).collect();
    assert!(takeaways.iter().any(|t| t.starts_with("p99: lowest ")), "{takeaways:?}");
    assert!(takeaways.iter().any(|t| t.starts_with("req/s: most ")), "{takeaways:?}");
}

#[test]
fn a_level_phase_says_so_in_a_sentence_and_draws_no_chart() {
    let mut results = fixture();
    let names = phase_names(&results);
    let index = names.iter().position(|name| name == "memory-c8").expect("the fixture has memory-c8");
    make_level(&mut results, "memory-c8");
    let document = page(&results);
    let level = &select(&document, &format!("details#{}", phase_anchor(index, "memory-c8")))[0];
    let sentence = text_of(&select_in(level, "p.level")[0]);
    assert!(sentence.starts_with("All ") && sentence.contains("are level") && sentence.contains("req/s"), "{sentence}");
    assert!(select_in(level, "figure, svg").is_empty(), "no chart of coinciding lines");
    assert!(select_in(level, "table").len() == 1, "the figures stay in the table");

    // With one repetition there is no range: level is judged against the run's own repetition spread.
    let mut once = fixture();
    for target in &mut once.targets {
        target.phases.retain(|phase| phase.name != "memory-c8" || phase.repetition == 0);
    }
    let single = once.clone();
    make_level(&mut once, "memory-c8");
    let document = page(&once);
    let level = &select(&document, &format!("details#{}", phase_anchor(index, "memory-c8")))[0];
    let sentence = text_of(&select_in(level, "p.level")[0]);
    assert!(sentence.contains("repetitions do in this run"), "{sentence}");
    assert!(select_in(level, "figure").is_empty());
    // The fixture's own single repetition differs by more than that spread: charts.
    let document = page(&single);
    let differs = &select(&document, &format!("details#{}", phase_anchor(index, "memory-c8")))[0];
    assert!(select_in(differs, "p.level").is_empty(), "{}", text_of(differs));

    // On the unchanged fixture the same phase differs: its charts are drawn.
    let document = page(&fixture());
    let differs = &select(&document, &format!("details#{}", phase_anchor(index, "memory-c8")))[0];
    assert!(select_in(differs, "p.level").is_empty());
    assert_eq!(select_in(differs, "figure svg").len(), 2, "latency and timeline");
}

#[test]
fn the_overview_shows_each_cell_relative_to_its_columns_best_with_the_figure() {
    let document = page(&fixture());
    let overview = &select(&document, "figure#chart-overview")[0];
    let columns = select_in(overview, "thead th").len() - 1;
    assert!(columns >= 5, "one column per endpoint and mixed phase");
    let rows = select_in(overview, "tbody tr");
    for column in 0..columns {
        let shares: Vec<String> = rows
            .iter()
            .filter_map(|row| select_in(row, "td").get(column + 1).map(text_of))
            .filter(|cell| cell.contains('%'))
            .collect();
        assert_eq!(
            shares.iter().filter(|cell| cell.starts_with("100 %")).count(),
            1,
            "one best per column: {shares:?}"
        );
        assert!(
            shares.iter().all(|cell| cell.contains("req/s") || cell.contains("ms")),
            "absolute figures: {shares:?}"
        );
    }
    assert!(text_of(&select_in(overview, "p.takeaway")[0]).starts_with("Widest gap: "));
}

#[test]
fn the_summary_opens_with_the_same_two_tables() {
    let summary = render_summary_md(&fixture(), &ReportOptions::default());
    let answer = summary.find("## Which model for which workload").expect("the answer table");
    let claims = summary.find("## The article's claims, checked").expect("the claims table");
    let verdict = summary.find("## Verdict").expect("the verdict");
    assert!(answer < claims && claims < verdict, "{summary}");
    assert!(summary.contains("| CPU-bound | prefork-w2 | 1.17× (1.11–1.47×) over sync | `gunicorn -w 2 -k uvicorn_worker.UvicornWorker` |"), "{summary}");
    let claim_rows =
        summary[claims..verdict].lines().filter(|line| line.starts_with("| ") && !line.starts_with("| #")).count();
    assert_eq!(claim_rows, 8, "{summary}");
}

#[test]
fn a_single_run_calls_no_lead_and_prints_no_ratio_as_one() {
    let mut once = fixture();
    for target in &mut once.targets {
        target.phases.retain(|phase| phase.repetition == 0);
    }
    let document = page(&once);
    let rows: Vec<String> = select(&document, "#answer tbody tr").iter().map(text_of).collect();
    for row in &rows[..4] {
        assert!(row.contains("single run, no spread: ranks first, no lead called"), "{row}");
        assert!(!has_ratio(row), "no lead ratio on one run: {row}");
    }
    let verdicts: Vec<String> = select(&document, "ul.verdicts li").iter().map(text_of).collect();
    for verdict in verdicts.iter().filter(|v| v.contains("ranks first")) {
        assert!(verdict.contains("Single run, no spread: no lead is called"), "{verdict}");
        assert!(!has_ratio(verdict), "{verdict}");
    }
    let summary = render_summary_md(&once, &ReportOptions::default());
    let first_screen = &summary[..summary.find("## The article's claims, checked").expect("claims")];
    assert!(!has_ratio(first_screen) && first_screen.contains("single run, no spread"), "{first_screen}");
    let phase = &select(&document, "details.phase")[0];
    assert!(text_of(phase).contains("Single run, no spread"), "the phase says it too");
}

/// True when `text` holds a ratio such as "1.17×" (a digit before the sign; "×1" is an endpoint's weight).
fn has_ratio(text: &str) -> bool {
    text.char_indices().any(|(at, c)| c == '×' && text[..at].chars().next_back().is_some_and(|d| d.is_ascii_digit()))
}

/// findings.json is the first screen as data: each answer row names the same workload, models, lead and Python
/// names as the page's answer table.
#[test]
fn findings_json_answer_rows_equal_the_first_screens() {
    let results = fixture();
    let document = page(&results);
    let findings = report::findings(&results);
    let rows = select(&document, "#answer tbody tr");
    assert_eq!(rows.len(), findings.answer.len());
    for (row, entry) in rows.iter().zip(&findings.answer) {
        let cells: Vec<String> = select_in(row, "td").iter().map(text_of).collect();
        assert_eq!(cells[0], entry.workload);
        if entry.use_targets.is_empty() {
            assert_eq!(cells[1], entry.lead, "a workload not measured says why");
            continue;
        }
        let models: Vec<String> = select_in(row, "span.model").iter().map(text_of).collect();
        assert_eq!(models.len(), entry.use_targets.len(), "{cells:?}");
        for (shown, name) in models.iter().zip(&entry.use_targets) {
            assert!(shown.starts_with(name.as_str()), "{shown} is {name}");
        }
        assert_eq!(cells[2], entry.lead);
        let python: Vec<String> = select_in(row, "code").iter().map(text_of).collect();
        assert_eq!(python, entry.python);
    }
}
