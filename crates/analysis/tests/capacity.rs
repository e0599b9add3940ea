//! A capacity phase is judged on each target's capacity with its range over the search and its confirmations: a
//! lead only when the ranges part, the answer table's row read from it; and a target that starved some clients
//! while serving others is named in the verdict. Built on results alone.

use analysis::answer::AnswerRow;
use analysis::endpoint::EndpointKind;
use analysis::verdict::{Basis, Call};
use analysis::{Findings, RunView};
use results::testing::{capacity_run, phase};

fn async_io_row(findings: &Findings) -> &AnswerRow {
    findings.answer.iter().find(|row| row.kind == Some(EndpointKind::AsyncIo)).expect("an async I/O row")
}

#[test]
fn capacities_whose_ranges_part_make_a_lead_with_its_ratio_range() {
    let results = capacity_run(&[640.0, 620.0, 655.0, 633.0], &[10_200.0, 9_800.0, 10_400.0, 10_100.0]);
    let view = RunView::new(&results);
    let findings = Findings::of(&view);
    let verdict = &findings.verdicts[0];
    assert_eq!((verdict.basis, &verdict.call), (Basis::Capacity, &Call::Lead));
    assert_eq!(view.target_name(verdict.ranking[0].target), "async-1");
    let sentence = verdict.sentence(&view);
    assert!(sentence.starts_with("async-1 sustains the most at an objective of p99 <= 250 ms"), "{sentence}");
    assert!(sentence.contains("capacity 10,150 req/s (9,800–10,400)"), "{sentence}");
    // The ratio's range: the lowest of one over the highest of the other, and the reverse.
    assert!(sentence.contains("15.9× (15.0–16.8×) sync"), "{sentence}");
    let row = async_io_row(&findings);
    assert_eq!(row.models.iter().map(|&t| view.target_name(t)).collect::<Vec<_>>(), ["async-1"]);
    assert!(row.lead.contains("over sync"), "{}", row.lead);
    assert!(
        row.lead.ends_with("; capacity at p99 <= 250 ms, failures <= 0.1 %, achieved >= 98 % of offered"),
        "{}",
        row.lead
    );
    assert_eq!(row.python, ["uvicorn"]);
}

#[test]
fn capacities_whose_ranges_meet_are_level() {
    let results = capacity_run(&[640.0, 600.0, 700.0, 650.0], &[690.0, 660.0, 720.0, 700.0]);
    let view = RunView::new(&results);
    let findings = Findings::of(&view);
    assert_eq!(findings.verdicts[0].call, Call::Level(vec![1]));
    assert!(async_io_row(&findings).lead.starts_with("level"), "{}", async_io_row(&findings).lead);
}

#[test]
fn a_search_without_confirmations_calls_no_lead() {
    let results = capacity_run(&[640.0], &[10_200.0]);
    let findings = Findings::of(&RunView::new(&results));
    assert_eq!(findings.verdicts[0].call, Call::TooFewRepetitions);
}

#[test]
fn a_capacity_phase_is_the_one_judged_beside_a_fixed_concurrency_on_the_same_path() {
    let mut results = capacity_run(&[640.0, 620.0, 655.0, 633.0], &[10_200.0, 9_800.0, 10_400.0, 10_100.0]);
    for target in &mut results.targets {
        for repetition in 0..3 {
            target.phases.push(phase("async-io-c32", "/async-google", repetition, 320.0));
        }
    }
    let view = RunView::new(&results);
    let verdict = &Findings::of(&view).verdicts[0];
    assert_eq!(view.phases[verdict.phase].name, "async-io-capacity");
}

#[test]
fn a_target_that_starves_some_clients_is_named_in_the_verdict() {
    let mut results = capacity_run(&[640.0, 620.0, 655.0, 633.0], &[10_200.0, 9_800.0, 10_400.0, 10_100.0]);
    let starved = &mut results.targets[0].phases[2].load.aggregated;
    starved.in_flight.requests = 960;
    starved.in_flight.median_age_us = 4_950_000;
    let view = RunView::new(&results);
    let sentence = Findings::of(&view).verdicts[0].sentence(&view);
    assert!(
        sentence.contains(
            "sync starved some clients: 960 requests were still unanswered at the close, waiting a median 4950 ms, \
             while the 1,000 it answered took a median 1.00 ms."
        ),
        "{sentence}"
    );
    assert!(!sentence.contains("async-1 starved"), "{sentence}");
}

#[test]
fn a_capacity_that_held_at_the_highest_rate_asked_is_a_floor_and_so_is_its_lead() {
    let mut results = capacity_run(&[640.0, 620.0, 655.0, 633.0], &[10_200.0, 9_800.0, 10_400.0, 10_100.0]);
    let search = results.targets[1].phases[0].capacity.as_mut().expect("a capacity");
    search.at_least = true;
    let view = RunView::new(&results);
    let findings = Findings::of(&view);
    let sentence = findings.verdicts[0].sentence(&view);
    assert!(sentence.contains("capacity ≥ 10,150 req/s (9,800–10,400), ≥ 15.9× (15.0–16.8×) sync"), "{sentence}");
    assert!(async_io_row(&findings).lead.starts_with("≥ 15.9×"), "{}", async_io_row(&findings).lead);
}
