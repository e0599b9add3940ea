use super::*;
use crate::capacity::objective::Miss;

fn miss() -> StepVerdict {
    StepVerdict::Misses(vec![Miss::Failures { failures: 1, requests: 1, ratio: 1.0, max_ratio: 0.0 }])
}

/// Runs a search against a target that holds every rate up to `capacity` (and, with `flaky`, misses the listed
/// rates anyway), returning the outcome and the rates offered in order.
fn run(config: SearchConfig, holds: impl Fn(f64) -> StepVerdict) -> (CapacityOutcome, Vec<f64>) {
    let mut search = Search::new(config);
    let mut offered = Vec::new();
    while let Some(rate) = search.next_rate() {
        assert!(offered.len() < MAX_STEPS, "the search ends within its step bound");
        offered.push(rate);
        search.record(rate, holds(rate));
    }
    assert_eq!(search.phase(), SearchPhase::Done);
    (search.outcome(), offered)
}

fn up_to(capacity: f64) -> impl Fn(f64) -> StepVerdict {
    move |rate| if rate <= capacity { StepVerdict::Holds } else { miss() }
}

fn config(start: f64) -> SearchConfig {
    SearchConfig { start_per_second: start, max_per_second: 1e6, precision: 0.05, confirmations: 3 }
}

#[test]
fn ramps_by_doubling_then_bisects_to_the_precision_then_confirms() {
    let (outcome, offered) = run(config(100.0), up_to(640.0));
    assert_eq!(offered[..5], [100.0, 200.0, 400.0, 800.0, 600.0], "x2 until a miss, then the midpoint");
    let capacity = outcome.capacity_per_second.expect("a capacity");
    assert!((640.0 / 1.05..=640.0).contains(&capacity), "within 5 % below the true capacity: {capacity}");
    assert_eq!(outcome.ended, Some(SearchEnd::Confirmed));
    assert!(!outcome.at_least);
    let confirmations: Vec<&SearchStep> =
        outcome.steps.iter().filter(|step| step.phase == SearchPhase::Confirm).collect();
    assert_eq!(confirmations.len(), 6, "3 runs each of the found rate and the one above");
    assert_eq!(confirmations.iter().filter(|step| step.per_second == capacity).count(), 3);
    assert_eq!(outcome.range_per_second, Some((capacity, capacity)), "the rate above missed every time");
    assert_eq!(outcome.steps.len(), offered.len());
}

#[test]
fn bisection_ends_once_held_and_missed_are_within_the_precision() {
    let (outcome, _) = run(config(100.0), up_to(640.0));
    let last_bisect = outcome.steps.iter().filter(|step| step.phase != SearchPhase::Confirm).count();
    let search_steps = &outcome.steps[..last_bisect];
    let held = search_steps.iter().filter(|step| step.held).map(|step| step.per_second).fold(0.0, f64::max);
    let missed =
        search_steps.iter().filter(|step| !step.held).map(|step| step.per_second).fold(f64::INFINITY, f64::min);
    assert!(missed <= held * 1.05, "stopped with {held} held and {missed} missed");
    assert!(search_steps.len() <= 4 + 4, "a ramp of 4 and a bisection of 800/400 to 5 %: {search_steps:?}");
}

#[test]
fn a_rate_above_that_holds_on_confirmation_widens_the_range() {
    // Bisection ends with 625 held against 650 missed; 650 then holds on confirmation (a noisy limit).
    let offered_650 = std::cell::Cell::new(0);
    let holds = |rate: f64| {
        if rate == 650.0 {
            offered_650.set(offered_650.get() + 1);
            return if offered_650.get() > 1 { StepVerdict::Holds } else { miss() };
        }
        up_to(640.0)(rate)
    };
    let (outcome, offered) = run(config(100.0), holds);
    assert_eq!(offered[..8], [100.0, 200.0, 400.0, 800.0, 600.0, 700.0, 650.0, 625.0]);
    assert_eq!(outcome.capacity_per_second, Some(625.0));
    assert_eq!(outcome.range_per_second, Some((625.0, 650.0)), "the lowest and highest rate that held");
}

#[test]
fn a_found_rate_that_misses_on_confirmation_steps_down_by_the_precision() {
    // Bisection finds 625 (held) against 650 (missed); on confirmation 625 misses too: the search steps down to
    // 593.75 and confirms that.
    let confirm_625 = std::cell::Cell::new(false);
    let holds = |rate: f64| {
        if rate == 625.0 && confirm_625.replace(true) {
            return miss();
        }
        up_to(640.0)(rate)
    };
    let (outcome, offered) = run(config(100.0), holds);
    assert!(offered.contains(&625.0), "{offered:?}");
    let capacity = outcome.capacity_per_second.expect("a capacity");
    assert!((capacity - 625.0 * 0.95).abs() < 1e-9, "stepped down 5 % from 625: {capacity} ({offered:?})");
    assert_eq!(outcome.ended, Some(SearchEnd::Confirmed));
}

#[test]
fn a_found_rate_that_never_confirms_ends_unstable_within_the_bound() {
    let bisected = std::cell::Cell::new(false);
    let holds = |rate: f64| {
        // Holds until confirmation starts, then nothing holds any more.
        if bisected.get() {
            return miss();
        }
        let verdict = up_to(640.0)(rate);
        if rate == 625.0 {
            bisected.set(true);
        }
        verdict
    };
    let (outcome, offered) = run(config(100.0), holds);
    assert_eq!(outcome.ended, Some(SearchEnd::Unstable));
    assert_eq!(outcome.capacity_per_second, None);
    assert!(offered.len() < MAX_STEPS, "{offered:?}");
}

#[test]
fn a_generator_behind_ends_the_search_with_at_least_the_last_rate_that_held() {
    let holds = |rate: f64| if rate >= 800.0 { StepVerdict::GeneratorBehind } else { StepVerdict::Holds };
    let (outcome, offered) = run(config(100.0), holds);
    assert_eq!(offered, [100.0, 200.0, 400.0, 800.0]);
    assert_eq!(outcome.ended, Some(SearchEnd::GeneratorBehind { per_second: 800.0 }));
    assert_eq!(outcome.capacity_per_second, Some(400.0));
    assert!(outcome.at_least);
}

#[test]
fn the_maximum_rate_holding_ends_the_ramp() {
    let config = SearchConfig { max_per_second: 500.0, ..config(100.0) };
    let (outcome, offered) = run(config, up_to(1e9));
    assert_eq!(offered, [100.0, 200.0, 400.0, 500.0], "the ramp is capped at the maximum");
    assert_eq!(outcome.ended, Some(SearchEnd::MaxRateHeld));
    assert_eq!((outcome.capacity_per_second, outcome.at_least), (Some(500.0), true));
}

#[test]
fn a_start_that_misses_halves_until_a_rate_holds() {
    let (outcome, offered) = run(config(1000.0), up_to(300.0));
    assert_eq!(offered[..3], [1000.0, 500.0, 250.0]);
    let capacity = outcome.capacity_per_second.expect("a capacity");
    assert!((300.0 / 1.05..=300.0).contains(&capacity), "{capacity}");
}

#[test]
fn nothing_holding_ends_after_a_bounded_number_of_halvings() {
    let (outcome, offered) = run(config(1000.0), |_| miss());
    assert_eq!(outcome.ended, Some(SearchEnd::NothingHeld));
    assert_eq!(outcome.capacity_per_second, None);
    assert_eq!(offered.len(), 1 + MAX_HALVINGS as usize);
}

#[test]
fn without_confirmations_the_bisection_result_stands() {
    let config = SearchConfig { confirmations: 0, ..config(100.0) };
    let (outcome, offered) = run(config, up_to(640.0));
    assert!(outcome.steps.iter().all(|step| step.phase != SearchPhase::Confirm), "{offered:?}");
    assert_eq!(outcome.ended, Some(SearchEnd::Confirmed));
    assert!(outcome.capacity_per_second.is_some());
}

#[test]
fn steps_last_long_enough_for_a_p99_and_no_longer_than_ten_seconds() {
    assert_eq!(step_duration(100.0), Duration::from_secs(10), "2,000 requests at 100/s would take 20 s");
    assert_eq!(step_duration(500.0), Duration::from_secs(4));
    assert_eq!(step_duration(10_000.0), Duration::from_secs(1), "at least 1 s");
    assert_eq!(step_duration(0.0), Duration::from_secs(10));
}
