//! Worker counts come from what the driver observed (the processes holding the listening socket, the pids that
//! answered), not from the command line: a multi-process Python server whose command was read as one worker
//! counts two, and a repetition in which one of them took all the load is named in the verdict.

use analysis::{Findings, RunView};
use loadgen::{WorkerCount, WorkerCounts};
use results::testing::{phase, run_with, target};
use results::{Family, ObservedWorkers, PhaseResult, TargetKind};

fn repetition(repetition: u32, answered: &[(u32, u64)], listening: u32) -> PhaseResult {
    let mut result = phase("cpu-c32", "/cpu-intensive", repetition, 1_000.0);
    result.load.responses_per_worker = WorkerCounts {
        workers: answered.iter().map(|&(pid, responses)| WorkerCount { pid, responses }).collect(),
        ..WorkerCounts::default()
    };
    result.observed_workers = Some(ObservedWorkers { serving: answered.len() as u32, listening });
    result
}

#[test]
fn a_python_server_counts_the_workers_it_ran_and_one_idle_worker_is_named() {
    let phases = vec![
        repetition(0, &[(11, 520), (12, 480)], 2),
        repetition(1, &[(21, 1_000)], 2),
        repetition(2, &[(31, 505), (32, 495)], 2),
    ];
    let mut hypercorn = target("hypercorn-w2", phases);
    (hypercorn.family, hypercorn.kind) = (Family::Python, TargetKind::External);
    hypercorn.command = ["hypercorn", "--workers", "2", "main:app"].map(str::to_owned).to_vec();
    hypercorn.workers = Some(1);
    let results = run_with(vec![hypercorn], None);
    assert_eq!(results.targets[0].worker_count(), Some(2), "observed, not the declared 1");

    let view = RunView::new(&results);
    let findings = Findings::of(&view);
    let sentence = findings.verdicts[0].sentence(&view);
    assert!(
        sentence.contains("hypercorn-w2's workers served 1,000 and 0 requests in repetition 2 of 3: spread 0.00"),
        "{sentence}"
    );
    assert_eq!(findings.answer[0].python, ["hypercorn-w2 (this run's command)"]);
}

#[test]
fn without_an_observation_the_declared_count_stands() {
    let mut old = target("prefork-2", vec![phase("cpu-c32", "/cpu-intensive", 0, 1_000.0)]);
    old.workers = Some(2);
    assert_eq!(old.worker_count(), Some(2));
}
