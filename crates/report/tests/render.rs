//! Renders the committed fixture (crates/analysis/tests/fixtures/small.json, made by analysis's
//! `examples/make_fixture`) and checks the
//! page as a reader and a browser would get it: it parses, has one inline SVG per expected chart, loads nothing
//! from outside, names the best model in the verdict, shows missing data as missing, and escapes every text.

use std::collections::HashMap;
use std::path::PathBuf;

use loadgen::{WorkerCount, WorkerCounts};
use report::{render_html, render_summary_md, write_report, History, ReportOptions};
use results::RunResults;
use results::{Family, TargetStatus};
use scraper::{Html, Selector};

mod common;

use common::{fixture, fixture_path, phase_anchor, phase_names, select, select_in, text_of};

#[test]
fn the_fixture_is_valid_against_the_committed_results_schema() {
    let schema_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../results/schema/results.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("read schema")).expect("schema is JSON");
    let instance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path()).expect("read fixture")).expect("fixture is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(&instance).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "fixture does not match the schema: {errors:#?}");
}

#[test]
fn the_page_parses_and_has_one_inline_svg_per_expected_chart() {
    let results = fixture();
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    assert!(document.errors.is_empty(), "HTML parse errors: {:?}", document.errors);

    let mut expected = vec![
        "chart-cpu".to_owned(),
        "chart-memory".to_owned(),
        "chart-scaling-concurrency".to_owned(),
        "chart-scaling-workers".to_owned(),
        "chart-workers".to_owned(),
    ];
    for (index, name) in phase_names(&results).iter().enumerate() {
        expected.push(format!("chart-latency-{}", phase_anchor(index, name)));
        expected.push(format!("chart-timeline-{}", phase_anchor(index, name)));
    }
    for id in &expected {
        let figures = select(&document, &format!("figure#{id}"));
        assert_eq!(figures.len(), 1, "one figure #{id}");
        let svgs: Vec<_> = figures[0].select(&Selector::parse("svg").expect("selector")).collect();
        assert_eq!(svgs.len(), 1, "figure #{id} holds exactly one inline svg");
        assert!(
            svgs[0].select(&Selector::parse("rect, polyline, line, text").expect("sel")).count() > 10,
            "#{id} drew"
        );
    }
    assert_eq!(select(&document, "figure.chart").len(), expected.len() + 1, "no unexpected charts");
    assert_eq!(select(&document, "figure.chart.overview").len(), 1, "the overview heat map is the one table chart");
    assert_eq!(select(&document, "svg").len(), expected.len(), "every svg is one of the charts");
    assert!(select(&document, ".missing").iter().all(|e| !text_of(e).contains("could not be drawn")));
    // The fixture's prefork workers split 53/47 in most phases: those rows are told in a sentence, not drawn.
    assert!(html.contains("Not drawn where every worker served at least 0.8× the mean"), "even worker rows");
    for attribute in ["width=\"-", "height=\"-"] {
        assert!(!html.contains(attribute), "an SVG shape has a negative size ({attribute}...): browsers log an error");
    }
}

#[test]
fn the_page_references_no_external_url_and_needs_no_script() {
    let html = render_html(&fixture(), &ReportOptions::default());
    let document = Html::parse_document(&html);
    assert!(select(&document, "script, link, iframe, img, object, embed, base").is_empty());
    for element in select(&document, "*") {
        for (name, value) in element.value().attrs() {
            let value = value.trim().to_ascii_lowercase();
            if matches!(name, "src" | "href" | "xlink:href" | "action" | "poster" | "srcset" | "data") {
                assert!(
                    value.starts_with('#'),
                    "<{}> {name}={value:?} points outside the page",
                    element.value().name()
                );
            }
            if name == "style" {
                assert!(!value.contains("url("), "style attribute loads a resource: {value}");
            }
        }
    }
    for style in select(&document, "style") {
        assert!(!text_of(&style).contains("url("), "CSS loads a resource");
        assert!(!text_of(&style).contains("@import"), "CSS imports a sheet");
    }
}

/// The target with the most successful req/s in `phase`, straight from the load reports (median of repetitions).
fn best_by_throughput(results: &RunResults, phase: &str) -> String {
    let mut best = (String::new(), 0.0);
    for target in &results.targets {
        let mut rates: Vec<f64> = target
            .phases
            .iter()
            .filter(|p| p.name == phase)
            .map(|p| {
                let aggregated = &p.load.aggregated;
                (aggregated.count - aggregated.failures.total()) as f64 / p.load.duration_secs
            })
            .collect();
        if rates.is_empty() {
            continue;
        }
        rates.sort_by(f64::total_cmp);
        let median = if rates.len() % 2 == 1 {
            rates[rates.len() / 2]
        } else {
            (rates[rates.len() / 2 - 1] + rates[rates.len() / 2]) / 2.0
        };
        if median > best.1 {
            best = (target.name.clone(), median);
        }
    }
    best.0
}

#[test]
fn the_verdict_names_the_model_the_fixture_makes_best() {
    let results = fixture();
    let best_cpu = best_by_throughput(&results, "cpu-c8");
    assert_eq!(best_cpu, "prefork-w2", "the fixture is built so two worker processes win CPU work");
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    let verdicts: Vec<String> = select(&document, "#verdict ul.verdicts li").iter().map(text_of).collect();
    let cpu = verdicts.iter().find(|v| v.starts_with("/cpu-intensive")).expect("a verdict for /cpu-intensive");
    assert!(cpu.contains(&format!("{best_cpu} serves the most")), "{cpu}");
    for endpoint in ["/memory-intensive", "/sync-google", "/async-google", "/health", "article-locust"] {
        assert!(verdicts.iter().any(|v| v.starts_with(endpoint)), "a verdict for {endpoint}: {verdicts:#?}");
    }
    let best_cells: Vec<String> = select(&document, "#chart-overview td.best").iter().map(text_of).collect();
    assert!(!best_cells.is_empty(), "the overview marks the winners");
    assert!(verdicts[0].starts_with("/cpu-intensive"), "CPU-bound work comes first: {verdicts:#?}");
}

#[test]
fn a_failed_target_is_shown_as_missing_never_as_a_zero_bar() {
    let results = fixture();
    let failed = results.targets.iter().find(|t| matches!(t.status, TargetStatus::Failed { .. })).expect("one failed");
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    let problems = text_of(&select(&document, "#problems")[0]);
    assert!(problems.contains(&failed.name) && problems.contains("ModuleNotFoundError"), "{problems}");
    let row = select(&document, "#chart-overview tbody tr")
        .into_iter()
        .find(|row| text_of(row).contains(&failed.name))
        .expect("the failed target has a headline row");
    assert!(select_in(&row, "td.missing").len() >= 4, "its cells say why they are empty: {}", text_of(&row));
    let note = text_of(&select(&document, "#verdict p.missing")[0]);
    assert!(note.contains(&format!("No figures from {}: the target failed", failed.name)), "{note}");
}

#[test]
fn a_partial_run_says_so_and_marks_unmeasured_phases() {
    let mut results = fixture();
    results.partial = true;
    let async_target = results.targets.iter_mut().find(|t| t.name == "async").expect("async target");
    // Phases are in repetition order: keep the first repetition of all but the last two phases.
    let kept = phase_names(&fixture()).len() - 2;
    async_target.phases.truncate(kept);
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    assert!(text_of(&select(&document, "header .banner")[0]).contains("Partial run"));
    let async_row = select(&document, "#chart-overview tbody tr")
        .into_iter()
        .map(|row| text_of(&row))
        .find(|row| row.starts_with("async"))
        .expect("an overview row for async");
    assert!(async_row.contains("interrupted"), "the phases async never reached: {async_row}");
    let verdicts = text_of(&select(&document, "#verdict ul.verdicts")[0]);
    assert!(verdicts.contains("No figures for async (no data: run interrupted)"), "{verdicts}");
    let summary = render_summary_md(&results, &ReportOptions::default());
    assert!(summary.contains("**Partial run**"), "{summary}");
}

#[test]
fn a_target_a_phase_did_not_include_is_left_out_not_shown_missing() {
    let mut results = fixture();
    let only_cpu = results.targets.iter_mut().find(|t| t.name == "prefork-w1").expect("prefork-w1");
    only_cpu.phases.retain(|phase| phase.name == "cpu-c8");
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    let memory_rows = text_of(&select(&document, "details#p3-memory-c8 table")[0]);
    assert!(!memory_rows.contains("prefork-w1"), "{memory_rows}");
    let cpu_rows = text_of(&select(&document, "details#p2-cpu-c8 table")[0]);
    assert!(cpu_rows.contains("prefork-w1"), "{cpu_rows}");
}

#[test]
fn every_text_from_the_results_is_escaped() {
    let mut results = fixture();
    results.targets[0].name = "<script>alert('target')</script>".into();
    results.suite.text.push_str("\n</pre><script>alert('suite')</script>\n");
    results.environment.cpu_model = "<img src=x onerror=alert(1)>".into();
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    assert!(select(&document, "script, img").is_empty(), "injected markup became elements");
    assert!(text_of(&select(&document, "#methodology pre")[0]).contains("</pre><script>alert('suite')</script>"));
    assert!(text_of(&select(&document, "#verdict")[0]).contains("<script>alert('target')</script>"));
    assert!(html.contains("&lt;script&gt;alert('target')&lt;/script&gt;"), "SVG text is escaped too");
}

#[test]
fn each_target_keeps_one_colour_across_charts_and_the_families_differ() {
    let results = fixture();
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    let mut colours: HashMap<String, String> = HashMap::new();
    for key in select(&document, "figure .legend .key") {
        let Some(swatch) = select_in(&key, ".swatch").into_iter().next() else { continue };
        let colour = swatch.value().attr("style").expect("swatch style").to_owned();
        let label = text_of(&key);
        let name = label.split(" (").next().unwrap_or(&label).to_owned();
        let previous = colours.entry(name.clone()).or_insert_with(|| colour.clone());
        assert_eq!(*previous, colour, "{name} changes colour between charts");
    }
    let family_colours = |family: Family| -> Vec<&String> {
        results.targets.iter().filter(|t| t.family == family).filter_map(|t| colours.get(&t.name)).collect()
    };
    let rust = family_colours(Family::Rust);
    let python = family_colours(Family::Python);
    assert!(rust.len() >= 4 && !python.is_empty(), "{colours:?}");
    for colour in &python {
        assert!(!rust.contains(colour), "a Python target shares a Rust colour");
    }
}

#[test]
fn the_summary_has_the_verdict_and_the_headline_table() {
    let results = fixture();
    let summary = render_summary_md(&results, &ReportOptions::default());
    assert!(summary.starts_with("# rustcorn: fixture (synthetic numbers)"), "{summary}");
    assert!(summary.contains("## Verdict"));
    assert!(summary.contains("- **/cpu-intensive (CPU-bound)**: prefork-w2 serves the most"), "{summary}");
    let headline = summary.split("## Headline").nth(1).expect("a headline section");
    let table: Vec<&str> = headline.lines().filter(|line| line.starts_with('|')).collect();
    assert_eq!(table.len(), 2 + results.targets.len(), "header, rule, one row per target:\n{summary}");
    assert!(table.iter().any(|row| row.contains("prefork-w2") && row.contains("**")), "the winner is bold");
}

/// The verdict line of `subject` in the markdown summary.
fn verdict_line(summary: &str, subject: &str) -> String {
    let start = format!("- **{subject}");
    summary.lines().find(|line| line.starts_with(&start)).unwrap_or_else(|| panic!("no {subject}:\n{summary}")).into()
}

#[test]
fn the_verdict_names_a_poor_spread_of_requests_over_workers_for_rust_and_python() {
    let mut results = fixture();
    let cpu = verdict_line(&render_summary_md(&results, &ReportOptions::default()), "/cpu-intensive");
    assert!(!cpu.contains("spread"), "53/47 is shared well enough to go unmentioned: {cpu}");

    // The Rust prefork target without --stats: the header counts, with the idle worker known from -w.
    let prefork = results.targets.iter_mut().find(|target| target.name == "prefork-w2").expect("prefork-w2");
    for phase in prefork.phases.iter_mut().filter(|phase| phase.name == "cpu-c8") {
        phase.worker_requests = None;
        phase.load.responses_per_worker =
            WorkerCounts { workers: vec![WorkerCount { pid: 4201, responses: 53_904 }], ..Default::default() };
    }
    // A Python target with two workers, one of which took most connections.
    let python = results.targets.iter_mut().find(|target| target.family == Family::Python).expect("a Python target");
    python.workers = Some(2);
    let name = python.name.clone();
    for phase in python.phases.iter_mut().filter(|phase| phase.name == "cpu-c8") {
        let workers = vec![WorkerCount { pid: 900, responses: 900 }, WorkerCount { pid: 901, responses: 100 }];
        phase.load.responses_per_worker = WorkerCounts { workers, ..Default::default() };
    }
    let cpu = verdict_line(&render_summary_md(&results, &ReportOptions::default()), "/cpu-intensive");
    let rust = "prefork-w2's workers served 53,904 and 0 requests in repetition 1 of 3: spread 0.00 (fewest/most).";
    assert!(cpu.contains(rust), "{cpu}");
    let python = format!("{name}'s workers served 900 and 100 requests in repetition 1 of 3: spread 0.11");
    assert!(cpu.contains(&python), "{cpu}");

    let html = render_html(&results, &ReportOptions::default());
    let table = text_of(&select(&Html::parse_document(&html), "#workers table")[0]);
    assert!(table.contains("x-worker-pid") && table.contains("master --stats"), "{table}");
}

fn history_of(figures: &[&str]) -> ReportOptions {
    let text = (0..5)
        .map(|run| {
            let values: Vec<String> =
                figures.iter().map(|name| format!("\"{name}\": {}", 1.8 + f64::from(run) * 0.05)).collect();
            format!(
                r#"{{"commit": "c{run}", "date": "2026-01-0{}T00:00:00Z", "figures": {{{}}}}}"#,
                run + 1,
                values.join(", ")
            ) + "\n"
        })
        .collect::<String>()
        + "garbage\n";
    ReportOptions { history: Some(History::parse("results/history.jsonl", &text)) }
}

#[test]
fn a_history_of_this_runs_figures_adds_the_trend_chart_in_words() {
    let options =
        history_of(&["eff:prefork-w2/cpu-c8@c8", "ratio:async_vs_sync/memory-c8@c8", "cal:cpu_loop_per_cpu_s"]);
    let html = render_html(&fixture(), &options);
    let document = Html::parse_document(&html);
    let trend = select(&document, "figure#chart-trend");
    assert_eq!(trend.len(), 1);
    assert_eq!(select_in(&trend[0], "svg").len(), 1);
    let section = text_of(&select(&document, "#trend")[0]);
    assert!(section.contains("prefork-w2 on cpu-c8 at 8 connections: requests per CPU-second"), "{section}");
    assert!(section.contains("async on memory-c8 at 8 connections: relative to sync"), "{section}");
    assert!(section.contains("Calibration: CPU-loop iterations"), "{section}");
    assert!(!section.contains("eff:") && !section.contains("cal:"), "no raw figure names: {section}");
    assert!(text_of(&select_in(&trend[0], "svg")[0]).contains("2026-01-05"));
    assert!(section.contains("line 6"), "the bad line is named");
    assert_eq!(select(&document, "nav.toc a[href='#trend']").len(), 1, "listed in the contents");
}

#[test]
fn a_history_of_another_suite_adds_no_trend_section() {
    // The CI history committed in results/ is the quick suite's: a user's run of other phases has no trend.
    let options = history_of(&["eff:async-1/cpu@c16", "raw:sync/memory@c16", "cal:cpu_loop_per_cpu_s"]);
    let html = render_html(&fixture(), &options);
    let document = Html::parse_document(&html);
    assert!(select(&document, "#trend").is_empty(), "no trend section");
    assert!(select(&document, "nav.toc a[href='#trend']").is_empty(), "and no contents entry");
    assert!(!html.contains("eff:async-1"));
}

#[test]
fn write_report_puts_the_summary_next_to_the_page() {
    let dir = std::env::temp_dir().join(format!("report-write-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files = write_report(&fixture(), &dir.join("page.html"), &ReportOptions::default()).expect("written");
    assert_eq!(files.summary, dir.join("summary.md"));
    assert_eq!(files.findings, dir.join("findings.json"));
    assert!(std::fs::read_to_string(&files.findings).expect("findings").contains("\"answer\""));
    assert!(std::fs::read_to_string(&files.html).expect("html").starts_with("<!DOCTYPE html>"));
    assert!(std::fs::read_to_string(&files.summary).expect("md").contains("## Verdict"));
    let leftovers: Vec<_> =
        std::fs::read_dir(&dir).expect("list").filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 3, "no temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_article_is_cited_its_claims_checked_and_its_codes_cost_shown() {
    let results = fixture();
    let html = render_html(&results, &ReportOptions::default());
    assert_eq!(html.matches("Gunicorn &amp; Uvicorn").count(), 1, "the article is cited once on the page");
    assert!(html.contains("2024-05-30"));
    let claims = html.split("id=\"claims\"").nth(1).expect("a claims section");
    assert_eq!(claims.split("</ol>").next().map(|list| list.matches("<strong>").count()), Some(8), "eight claims");
    // The improved uvicorn beside the article's code, phase by phase.
    let variants = html.split("id=\"variants\"").nth(1).expect("a variants section");
    assert!(variants.contains("uvicorn-improved") && variants.contains("CPU ms / request"), "{variants:.400}");
    // The kill phase: a table around the kill, the kill's second marked, a single process at zero after it.
    let kill = html.split("Around the kill").nth(1).expect("a kill table");
    assert!(kill.contains("the whole server") && kill.contains("a worker") && kill.contains('✝'), "{kill:.600}");
    let summary = render_summary_md(&results, &ReportOptions::default());
    assert!(summary.contains("## The article's claims") && summary.contains("## What the article's code costs"));
    assert!(summary.contains("8. **-w should follow the core count"), "{summary}");
}

/// Over TLS, the variants section says what a new connection cost and puts each I/O phase's CPU per response and
/// req/s in words; the methodology states what the handshakes negotiated. Over plain HTTP, both say so.
#[test]
fn the_per_request_connection_is_shown_with_the_tls_it_paid_for() {
    let results = fixture();
    let document = Html::parse_document(&render_html(&results, &ReportOptions::default()));
    let variants = text_of(&select(&document, "#variants")[0]);
    assert!(variants.contains("spoke TLS (TLSv1.3, TLS_AES_256_GCM_SHA384, X25519)"), "{variants}");
    let findings: Vec<String> = select(&document, "#variants ul.findings li").iter().map(text_of).collect();
    assert!(findings.iter().any(|f| f.starts_with("/async-google (phase async-io-c16)")), "{findings:?}");
    assert!(findings.iter().all(|f| f.contains("CPU per response") && f.contains("req/s")), "{findings:?}");
    assert!(!findings.iter().any(|f| f.contains("/cpu-intensive")), "only the upstream's phases: {findings:?}");
    let methodology = text_of(&select(&document, "#methodology")[0]);
    assert!(methodology.contains("2,950 full handshakes and 40 resumed ones, 0 failed"), "{methodology}");
    assert!(methodology.contains("negotiated: TLSv1.3, TLS_AES_256_GCM_SHA384, X25519."), "{methodology}");

    let mut plain = results.clone();
    plain.upstream.url = "http://127.0.0.1:40123/".into();
    plain.upstream.holds.as_mut().expect("the fixture has the upstream's record").tls = None;
    let document = Html::parse_document(&render_html(&plain, &ReportOptions::default()));
    assert!(text_of(&select(&document, "#variants")[0]).contains("spoke plain HTTP in this run"));
    assert!(text_of(&select(&document, "#methodology")[0]).contains("Plain HTTP: no TLS handshake"));
}

#[test]
fn the_locust_section_sets_every_target_side_by_side() {
    let html = render_html(&fixture(), &ReportOptions::default());
    let locust = html.split("id=\"locust\"").nth(1).expect("a Locust section");
    let side_by_side = locust.split("</table>").next().expect("a first table");
    for column in ["# requests", "# fails", "Median (ms)", "Average (ms)", "Min (ms)", "Max (ms)", "RPS"] {
        assert!(side_by_side.contains(column), "{column}");
    }
    for target in ["sync", "async", "prefork-w2", "uvicorn"] {
        assert!(side_by_side.contains(&format!("</span>{target}<span")), "{target} has a row");
    }
}

#[test]
fn in_flight_requests_and_the_upstreams_holds_are_shown_beside_the_figures() {
    let results = fixture();
    let document = Html::parse_document(&render_html(&results, &ReportOptions::default()));
    let notes: Vec<String> = select(&document, "table.heat td small.in-flight").iter().map(text_of).collect();
    assert!(!notes.is_empty(), "the headline cells say what was in flight");
    assert!(notes.iter().all(|note| note.contains(" in flight, median age ")), "{notes:?}");
    let locust_headers: Vec<String> = select(&document, "#locust th").iter().map(text_of).collect();
    assert!(locust_headers.iter().any(|header| header == "In flight"), "{locust_headers:?}");

    let holds = results.upstream.holds.as_ref().expect("the fixture has the upstream's record");
    let methodology = text_of(&select(&document, "#methodology")[0]);
    let median = format!("{:.3} ms at the median", holds.hold.median_us as f64 / 1000.0);
    assert!(methodology.contains(&median), "the methodology gives the upstream's own median hold ({median})");
    assert!(methodology.contains("unanswered when the window closed"), "and says what is left out of the figures");

    let mut without = results.clone();
    without.upstream.holds = None;
    let document = Html::parse_document(&render_html(&without, &ReportOptions::default()));
    assert!(text_of(&select(&document, "#methodology")[0]).contains("record of the holds it gave is not in"));
}

#[test]
fn verdict_figures_carry_their_ranges_and_overlapping_targets_are_level() {
    let results = fixture();
    let html = render_html(&results, &ReportOptions::default());
    let document = Html::parse_document(&html);
    let verdicts: Vec<String> = select(&document, "#verdict ul.verdicts li").iter().map(text_of).collect();
    let cpu = verdicts.iter().find(|v| v.starts_with("/cpu-intensive")).expect("a /cpu-intensive verdict");
    assert!(cpu.contains("over 3 repetitions no other target's range (min–max) overlaps its own"), "{cpu}");
    assert!(cpu.contains("req/s (") && cpu.contains("CPU cores"), "figures with ranges: {cpu}");
    // The fixture's I/O-bound models all meet the upstream's ceiling: their ranges overlap.
    let io = verdicts.iter().find(|v| v.starts_with("/sync-google")).expect("a /sync-google verdict");
    assert!(io.contains("are level") && io.contains("ranges (min–max over 3 repetitions) overlap"), "{io}");
    let cells: Vec<String> = select(&document, "#chart-overview tbody td").iter().map(text_of).collect();
    assert!(cells.iter().any(|cell| cell.contains("req/s (") && cell.contains('–')), "{cells:?}");
    let summary = render_summary_md(&results, &ReportOptions::default());
    assert!(summary.contains("range (min–max) in brackets"), "{summary}");
}

#[test]
fn the_methodology_shows_each_targets_cpu_work_and_labels_the_literal_loop() {
    let html = render_html(&fixture(), &ReportOptions::default());
    let document = Html::parse_document(&html);
    let methodology = text_of(&select(&document, "#methodology")[0]);
    assert!(methodology.contains("CPU work per request") && methodology.contains("36,400"), "{methodology}");
    assert!(methodology.contains("2,860,000") && methodology.contains("±5 %"), "{methodology}");
    assert!(methodology.contains("Phase cpu-literal-100k"), "{methodology}");
    assert!(methodology.contains("the article's loop as written"), "{methodology}");
    assert!(methodology.contains("Repetitions and the verdict"), "{methodology}");
}

#[test]
fn a_phase_with_a_request_shape_says_what_it_sent_without_header_values() {
    let mut results = fixture();
    let phase = results.targets[0].phases[0].name.clone();
    let sent = results::SentRequest {
        method: "POST".into(),
        header_names: vec!["Authorization".into()],
        body_bytes: 1024,
        keep_alive: false,
    };
    for target in &mut results.targets {
        for measured in target.phases.iter_mut().filter(|measured| measured.name == phase) {
            measured.request = Some(sent.clone());
        }
    }
    results.suite.text.push_str("\n[[phases]]\nname = \"post\"\nheaders = [\"Authorization: Bearer s3cret\"]\n");
    let html = render_html(&results, &ReportOptions::default());
    let methodology = text_of(&select(&Html::parse_document(&html), "#methodology")[0]);
    let line = format!(
        "Phase {phase} sent POST with 1 header (Authorization) and a 1,024-byte body, no keep-alive (a new \
         connection per request)."
    );
    assert!(methodology.contains(&line), "{methodology:.3000}");
    assert_eq!(methodology.matches("sent POST").count(), 1, "one line for the one phase with a shape");
    assert!(!html.contains("s3cret") && methodology.contains("\"Authorization: …\""), "{methodology:.3000}");
}

/// The sync target's Locust phase as a saturated target reports it: its 9 answers plus 50 requests unanswered for
/// 4.95 s, counted as lower bounds, so its median and p99 are lower bounds.
fn with_censored_locust_phase(results: &mut RunResults) {
    let mut censored = loadgen::histogram::new_histogram();
    censored.record_n(4_950_000, 50).expect("record");
    let sync = results.targets.iter_mut().find(|target| target.name == "sync").expect("a sync target");
    for phase in sync.phases.iter_mut().filter(|phase| phase.name == "article-locust") {
        let latency = &mut phase.load.aggregated.latency;
        latency.censored = 50;
        latency.censored_histogram = loadgen::histogram::encode(&censored);
        latency.median_us = 4_950_000;
        for percentile in &mut latency.percentiles {
            (percentile.latency_us, percentile.lower_bound) = (4_950_000, true);
        }
    }
}

#[test]
fn a_percentile_among_unanswered_requests_prints_as_a_lower_bound() {
    let untouched = fixture();
    assert!(!render_html(&untouched, &ReportOptions::default()).contains('≥'), "no lower bound, no sign");
    assert!(!render_summary_md(&untouched, &ReportOptions::default()).contains('≥'));

    let mut results = fixture();
    with_censored_locust_phase(&mut results);
    let document = Html::parse_document(&render_html(&results, &ReportOptions::default()));
    let index = phase_names(&results).iter().position(|name| name == "article-locust").expect("the Locust phase");
    let section = text_of(&select(&document, &format!("[id='{}']", phase_anchor(index, "article-locust")))[0]);
    // The bound is the bottom of the 4.95 s histogram bucket: a bound never exceeds what it bounds.
    assert!(section.contains("≥ 4948"), "the phase table's p50, p99 and the chart's takeaway: {section}");
    assert!(section.contains(analysis::tables::LOWER_BOUND_RULE), "the caption says what ≥ means: {section}");
    let summary = render_summary_md(&results, &ReportOptions::default());
    assert!(summary.contains("≥ 4950 ms"), "the headline's p99 cell: {summary}");
    assert!(summary.contains(analysis::tables::LOWER_BOUND_RULE), "{summary}");
}

#[test]
fn the_methodology_states_the_sync_models_keep_alive_bound() {
    // The fixture predates the record: its methodology says nothing of keep-alive rather than guess.
    let untouched = Html::parse_document(&render_html(&fixture(), &ReportOptions::default()));
    assert!(!text_of(&select(&untouched, "#methodology")[0]).contains("MaxKeepAliveRequests"));
    let mut results = fixture();
    for target in &mut results.targets {
        target.keep_alive = results::KeepAlive::of_sync_target(target.kind, &target.command);
    }
    let document = Html::parse_document(&render_html(&results, &ReportOptions::default()));
    let methodology = text_of(&select(&document, "#methodology")[0]);
    let stated = "sync: thread per connection; keep-alive: at most 100 requests per connection (Apache's \
                  MaxKeepAliveRequests)";
    assert!(methodology.contains(stated), "the fixture's sync target runs with the default bound: {methodology}");
    assert_eq!(methodology.matches("MaxKeepAliveRequests").count(), 1, "said of the sync target only");
}
