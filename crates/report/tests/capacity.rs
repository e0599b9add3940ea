//! A run with a capacity phase opens its evidence with the latency-versus-throughput chart: one per capacity
//! phase, a curve per target over its steps, the objective and each capacity named in the takeaway; the answer
//! table, summary.md and findings.json read the capacity verdict. A run without one has no such section.

mod common;

use common::{fixture, select, text_of};
use report::{findings, render_html, render_summary_md, ReportOptions};
use results::testing::capacity_run;
use results::RunResults;
use scraper::Html;

fn run() -> RunResults {
    capacity_run(&[640.0, 620.0, 655.0, 633.0], &[10_200.0, 9_800.0, 10_400.0, 10_100.0])
}

#[test]
fn a_capacity_phase_gets_its_latency_against_throughput_chart_and_the_answer_reads_it() {
    let results = run();
    let document = Html::parse_document(&render_html(&results, &ReportOptions::default()));
    let figures = select(&document, "section#capacity figure.chart");
    assert_eq!(figures.len(), 1, "one chart per capacity phase");
    let chart = text_of(&figures[0]);
    assert!(chart.contains("Latency against throughput: async-io-capacity"), "{chart}");
    assert!(
        chart.contains(
            "Capacity at p99 <= 250 ms, failures <= 0.1 %, achieved >= 98 % of offered: async-1 10,150 req/s \
             (9,800–10,400), sync 637 req/s (620–655)."
        ),
        "{chart}"
    );
    assert_eq!(select(&document, "section#capacity svg").len(), 1);
    assert_eq!(select(&document, "nav.toc a[href='#capacity']").len(), 1, "the contents list it");

    let answer = text_of(&select(&document, "#answer tbody tr")[3]);
    assert!(answer.starts_with("async I/O") && answer.contains("async-1"), "{answer}");
    assert!(answer.contains("15.9× (15.0–16.8×) over sync") && answer.contains("uvicorn"), "{answer}");

    let summary = render_summary_md(&results, &ReportOptions::default());
    assert!(summary.contains("15.9× (15.0–16.8×) over sync"), "{summary}");
    let file = serde_json::to_value(findings(&results)).expect("findings serialise");
    let verdict = &file["verdicts"][0];
    assert_eq!((verdict["basis"].as_str(), verdict["best"].as_str()), (Some("capacity"), Some("async-1")));
}

#[test]
fn a_run_without_a_capacity_phase_has_no_capacity_section() {
    let document = Html::parse_document(&render_html(&fixture(), &ReportOptions::default()));
    assert!(select(&document, "section#capacity").is_empty());
    assert!(select(&document, "nav.toc a[href='#capacity']").is_empty());
}
