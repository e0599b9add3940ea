//! A chart is drawn only where it shows a difference: the CPU and memory panels of a phase whose targets are
//! level, and the scaling panels whose targets are level at every point, give way to one sentence with their
//! figures; the rule is the verdict's (ranges over the repetitions overlap).

mod common;

use common::{fixture, make_level, phase_names, select, select_in, text_of};
use report::{render_html, ReportOptions};
use results::RunResults;
use scraper::Html;

fn page(results: &RunResults) -> Html {
    Html::parse_document(&render_html(results, &ReportOptions::default()))
}

/// The inline SVG of `figure#id`, or None when the page has no such figure.
fn svg_of(document: &Html, id: &str) -> Option<String> {
    select(document, &format!("figure#{id} svg")).first().map(|svg| svg.html())
}

/// The level sentences under a folded section.
fn level_sentences(document: &Html, section: &str) -> Vec<String> {
    select(document, &format!("details#{section} p.level")).iter().map(text_of).collect()
}

/// Every target of `phase` uses the same CPU and memory in repetition r (r-th of three close values).
fn make_resources_level(results: &mut RunResults, phase: &str) {
    for target in &mut results.targets {
        for measured in target.phases.iter_mut().filter(|p| p.name == phase) {
            let r = measured.repetition as f64;
            let summary = &mut measured.resources.summary;
            summary.cpu_cores_avg = 0.50 + 0.01 * r;
            summary.rss_peak_bytes = (20.0 * 1024.0 * 1024.0 * (1.0 + 0.01 * r)) as u64;
            summary.pss_peak_bytes = Some((18.0 * 1024.0 * 1024.0 * (1.0 + 0.01 * r)) as u64);
        }
    }
}

#[test]
fn cpu_and_memory_panels_are_drawn_only_for_phases_whose_targets_differ() {
    let unchanged = page(&fixture());
    for id in ["chart-cpu", "chart-memory"] {
        let svg = svg_of(&unchanged, id).expect("the fixture's targets differ on CPU and memory");
        assert!(svg.contains("memory-c8:") && svg.contains("cpu-c8:"), "{id} draws both phases");
    }
    assert!(level_sentences(&unchanged, "resources").is_empty());

    let mut results = fixture();
    make_resources_level(&mut results, "memory-c8");
    let document = page(&results);
    for id in ["chart-cpu", "chart-memory"] {
        let svg = svg_of(&document, id).expect("the other phases still differ");
        assert!(!svg.contains("memory-c8:"), "{id}: no panel of equal bars for memory-c8");
        assert!(svg.contains("cpu-c8:"), "{id}: the phases that differ keep their panels");
    }
    let sentences = level_sentences(&document, "resources");
    assert_eq!(sentences.len(), 2, "{sentences:?}");
    assert!(sentences[0].starts_with("CPU cores used, not drawn where the targets are level: memory-c8, 0.5"));
    assert!(sentences[0].contains("cores (their ranges over 3 repetitions overlap)"), "{}", sentences[0]);
    assert!(sentences[1].starts_with("Peak memory, not drawn where the targets are level: memory-c8, 20"));

    // Level everywhere: no chart at all, the sentence stands in for it.
    let mut results = fixture();
    for name in phase_names(&results) {
        make_resources_level(&mut results, &name);
    }
    let document = page(&results);
    assert!(svg_of(&document, "chart-cpu").is_none() && svg_of(&document, "chart-memory").is_none());
    let sentences = level_sentences(&document, "resources");
    assert!(sentences.iter().all(|s| s.contains("kill-c8") && s.contains("cpu-c2")), "{sentences:?}");
}

#[test]
fn scaling_panels_whose_targets_are_level_at_every_point_give_way_to_a_sentence() {
    let unchanged = page(&fixture());
    let svg = svg_of(&unchanged, "chart-scaling-concurrency").expect("the fixture's sweeps differ");
    assert!(svg.contains("/async-google") && svg.contains("/cpu-intensive"), "both sweeps drawn");
    // One and two workers serve the I/O endpoints alike (the upstream sets the pace): only CPU work is drawn.
    let workers = svg_of(&unchanged, "chart-scaling-workers").expect("CPU work scales with workers");
    assert!(workers.contains("/cpu-intensive") && !workers.contains("/sync-google"), "{workers}");
    let sentences = level_sentences(&unchanged, "scaling");
    assert_eq!(sentences.len(), 1, "{sentences:?}");
    assert!(sentences[0].starts_with("Scaling with prefork workers, not drawn where the targets are level: "));
    assert!(sentences[0].contains("/sync-google") && sentences[0].contains("req/s at 1–2 workers"), "{sentences:?}");

    // The async I/O sweep made level at both of its connection counts: its panel goes, the CPU sweep stays.
    let mut results = fixture();
    make_level(&mut results, "async-io-c16");
    make_level(&mut results, "async-io-c64");
    let document = page(&results);
    let svg = svg_of(&document, "chart-scaling-concurrency").expect("the CPU sweep still differs");
    assert!(!svg.contains("/async-google"), "no panel of coinciding lines");
    assert!(svg.contains("/cpu-intensive"));
    let sentences = level_sentences(&document, "scaling");
    assert_eq!(sentences.len(), 2, "{sentences:?}");
    let sentence = &sentences[0];
    assert!(sentence.starts_with("Scaling with concurrency, not drawn where the targets are level: /async-google"));
    assert!(sentence.contains("req/s at 16, ") && sentence.contains("req/s at 64 connections"), "{sentence}");
    // Level at one connection count only is still a difference: the panel stays.
    let mut results = fixture();
    make_level(&mut results, "async-io-c16");
    let svg = svg_of(&page(&results), "chart-scaling-concurrency").expect("drawn");
    assert!(svg.contains("/async-google"), "the targets differ at 64 connections");

    // Every phase level: neither scaling chart is drawn, each has its sentence.
    let mut results = fixture();
    for name in phase_names(&results) {
        make_level(&mut results, &name);
    }
    let document = page(&results);
    assert!(svg_of(&document, "chart-scaling-concurrency").is_none());
    assert!(svg_of(&document, "chart-scaling-workers").is_none());
    let sentences = level_sentences(&document, "scaling");
    assert!(sentences.iter().any(|s| s.starts_with("Scaling with prefork workers, not drawn")), "{sentences:?}");
    assert!(select_in(&select(&document, "details#scaling")[0], "p.missing").is_empty(), "said why, not 'no chart'");
}
