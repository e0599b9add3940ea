use super::*;
use crate::output::sample;
use crate::{FailureCounts, Model, OpenLoopStats, Percentile};

/// A rate report of 1000 answers in 1 s with no failure, p99 at `p99_us`.
fn report(p99_us: u64) -> LoadReport {
    let mut report = sample::report(Model::Rate);
    report.duration_secs = 1.0;
    let total = &mut report.aggregated;
    total.failures = FailureCounts::default();
    total.latency.samples = 1000;
    total.count = 1000;
    total.in_flight.requests = 0;
    total.latency.percentiles = crate::REPORTED_PERCENTILES
        .iter()
        .map(|&percentile| Percentile {
            percentile,
            latency_us: if percentile >= 99.0 { p99_us } else { 1_000 },
            lower_bound: false,
        })
        .collect();
    report
}

#[test]
fn objectives_parse_with_or_without_spaces() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    assert_eq!((objective.percentile, objective.max_latency), (99.0, Duration::from_millis(250)));
    assert_eq!((objective.max_failure_ratio, objective.min_achieved_ratio), (0.001, 0.98));
    let objective: Objective = "p99.9<=1s".parse().unwrap();
    assert_eq!((objective.percentile, objective.max_latency), (99.9, Duration::from_secs(1)));
    assert_eq!("P50 <= 20ms".parse::<Objective>().unwrap().percentile, 50.0);
    for bad in ["p99 < 250ms", "99 <= 1s", "p101 <= 1s", "p0 <= 1s", "p99 <= fast", "p99 <= 0s", "px <= 1s"] {
        assert!(bad.parse::<Objective>().is_err(), "{bad} parsed");
    }
    assert_eq!(objective_text("p99 <= 250ms"), "p99 <= 250ms, failures <= 0.1%, achieved >= 98% of offered");
}

fn objective_text(text: &str) -> String {
    text.parse::<Objective>().unwrap().to_string()
}

#[test]
fn a_step_inside_every_rule_holds() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    assert_eq!(judge(&report(250_000), 1000.0, &objective), StepVerdict::Holds, "the bound is inclusive");
}

#[test]
fn the_latency_rule_reads_the_percentile_at_or_above_the_asked_one() {
    let objective: Objective = "p98.5 <= 250ms".parse().unwrap();
    let verdict = judge(&report(300_000), 1000.0, &objective);
    let expected = Miss::Latency { percentile: 99.0, latency_us: 300_000, max_latency_us: 250_000 };
    assert_eq!(verdict, StepVerdict::Misses(vec![expected]));
    assert_eq!(reported_percentile(&report(5), 100.0), (100.0, 5));
}

#[test]
fn failures_count_against_requests_including_those_in_flight() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    let mut report = report(1_000);
    report.aggregated.failures.timeout = 2;
    report.aggregated.in_flight.requests = 1000;
    assert_eq!(judge(&report, 1000.0, &objective), StepVerdict::Holds, "2 of 2000 is 0.1 %, allowed");
    report.aggregated.failures.read = 1;
    let StepVerdict::Misses(misses) = judge(&report, 1000.0, &objective) else { panic!("3 of 2000 misses") };
    assert!(matches!(misses[..], [Miss::Failures { failures: 3, requests: 2000, .. }]), "{misses:?}");
}

#[test]
fn answers_below_98_percent_of_the_offered_rate_miss() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    assert!(judge(&report(1_000), 1020.0, &objective).holds(), "1000 of 1020 is 98.04 %");
    let StepVerdict::Misses(misses) = judge(&report(1_000), 1100.0, &objective) else { panic!("90.9 % misses") };
    assert!(matches!(misses[..], [Miss::Achieved { .. }]), "{misses:?}");
    assert!(misses[0].to_string().starts_with("achieved 1000.0/s of 1100.0/s"), "{}", misses[0]);
}

#[test]
fn every_failed_rule_is_listed() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    let mut report = report(900_000);
    report.aggregated.failures.connect = 100;
    let StepVerdict::Misses(misses) = judge(&report, 2000.0, &objective) else { panic!("misses") };
    assert_eq!(misses.len(), 3, "{misses:?}");
}

fn open_stats(bound_waits: u64, send_lag_p99_us: u64) -> OpenLoopStats {
    OpenLoopStats {
        max_connections: 10,
        most_open: 10,
        bound_waits,
        send_lag_p50_us: 0,
        send_lag_p99_us,
        send_lag_max_us: send_lag_p99_us,
        open_file_limit: None,
        generator_behind: bound_waits > 0 || send_lag_p99_us > crate::GENERATOR_LAG_LIMIT_US,
    }
}

#[test]
fn a_generator_at_its_connection_bound_is_not_the_target_missing() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    let mut report = report(900_000);
    report.rate.as_mut().expect("a rate sample").open = Some(open_stats(5, 0));
    set_service_p99(&mut report, 200_000);
    assert_eq!(judge(&report, 1000.0, &objective), StepVerdict::GeneratorBehind);
}

/// Sets the service time's percentiles at and above 99 to `p99_us`.
fn set_service_p99(report: &mut LoadReport, p99_us: u64) {
    let service = report.aggregated.service_time.as_mut().expect("a rate sample keeps the service time");
    for reported in &mut service.percentiles {
        reported.latency_us = if reported.percentile >= 99.0 { p99_us } else { 1_000 };
    }
}

#[test]
fn a_target_missing_even_on_service_time_misses_though_the_generator_fell_behind() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    let mut report = report(900_000);
    report.rate.as_mut().expect("a rate sample").open = Some(open_stats(5, 0));
    set_service_p99(&mut report, 600_000);
    let expected = Miss::ServiceTime { percentile: 99.0, latency_us: 600_000, max_latency_us: 250_000 };
    assert_eq!(judge(&report, 1000.0, &objective), StepVerdict::Misses(vec![expected]));
}

#[test]
fn a_send_lag_counts_once_it_could_move_the_latency_verdict() {
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    let mut report = report(1_000);
    report.rate.as_mut().expect("a rate sample").open = Some(open_stats(0, 1_500));
    assert!(judge(&report, 1000.0, &objective).holds(), "1.5 ms of lag is 0.6 % of a 250 ms bound");
    set_service_p99(&mut report, 1_000);
    report.rate.as_mut().expect("a rate sample").open = Some(open_stats(0, 13_000));
    assert_eq!(judge(&report, 1000.0, &objective), StepVerdict::GeneratorBehind, "13 ms is over 5 % of 250 ms");
    let tight: Objective = "p50 <= 20ms".parse().unwrap();
    report.rate.as_mut().expect("a rate sample").open = Some(open_stats(0, 1_500));
    assert_eq!(judge(&report, 1000.0, &tight), StepVerdict::GeneratorBehind, "1.5 ms is 7.5 % of 20 ms");
}

#[test]
fn verdicts_serialise_with_their_figures() {
    let verdict = StepVerdict::Misses(vec![Miss::Latency { percentile: 99.0, latency_us: 2, max_latency_us: 1 }]);
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(json["misses"][0]["rule"], "latency");
    assert_eq!(serde_json::from_value::<StepVerdict>(json).unwrap(), verdict);
    let objective: Objective = "p99 <= 250ms".parse().unwrap();
    let json = serde_json::to_value(&objective).unwrap();
    assert_eq!(json["max_latency_us"], 250_000);
}
