use super::*;

fn entry(target: usize, median: f64, failure_ratio: f64) -> Entry {
    Entry {
        target,
        value: Spread { median, min: median, max: median, n: 1 },
        cpu_cores: None,
        failure_ratio,
        lower_bound: false,
    }
}

/// A target measured `n` times with these median, min and max.
fn ranged(target: usize, (min, median, max): (f64, f64, f64), n: usize) -> Entry {
    Entry { target, value: Spread { median, min, max, n }, cpu_cores: None, failure_ratio: 0.0, lower_bound: false }
}

#[test]
fn the_lead_flips_to_level_when_the_ranges_meet() {
    // 10 % ahead on the median, and the ranges apart: a lead.
    let apart = [ranged(0, (108.0, 110.0, 112.0), 3), ranged(1, (98.0, 100.0, 103.0), 3)];
    assert_eq!(call(&apart), Call::Lead);
    // The same medians, the second's best repetition reaching the leader's worst: level.
    let meeting = [ranged(0, (108.0, 110.0, 112.0), 3), ranged(1, (98.0, 100.0, 108.5), 3)];
    assert_eq!(call(&meeting), Call::Level(vec![1]));
    // A 2 % lead is a lead when the repetitions are tight enough to separate it.
    let tight = [ranged(0, (101.8, 102.0, 102.2), 5), ranged(1, (99.9, 100.0, 100.1), 5)];
    assert_eq!(call(&tight), Call::Lead);
}

#[test]
fn a_wide_range_lower_down_still_makes_it_level() {
    let ranking =
        [ranged(0, (108.0, 110.0, 112.0), 3), ranged(1, (98.0, 100.0, 103.0), 3), ranged(2, (60.0, 90.0, 109.0), 3)];
    assert_eq!(call(&ranking), Call::Level(vec![2]));
}

#[test]
fn fewer_than_three_repetitions_call_no_lead_however_far_apart() {
    let two = [ranged(0, (190.0, 200.0, 210.0), 2), ranged(1, (90.0, 100.0, 110.0), 3)];
    assert_eq!(call(&two), Call::TooFewRepetitions);
    let one = [entry(0, 200.0, 0.0), entry(1, 100.0, 0.0)];
    assert_eq!(call(&one), Call::TooFewRepetitions);
    assert_eq!(call(&one[..1]), Call::Alone);
    assert_eq!(call(&[]), Call::Alone);
}

#[test]
fn the_caption_states_the_repetitions_a_lead_needs() {
    assert!(LEAD_RULE.contains(&format!("at least {MIN_REPETITIONS} repetitions")), "{LEAD_RULE}");
}

#[test]
fn throughput_ranks_highest_first() {
    let mut entries = vec![entry(0, 10.0, 0.0), entry(1, 30.0, 0.0), entry(2, 20.0, 0.0)];
    rank(&mut entries, Basis::Throughput);
    assert_eq!(entries.iter().map(|e| e.target).collect::<Vec<_>>(), [1, 2, 0]);
}

#[test]
fn latency_ranks_lowest_first_and_failing_targets_last() {
    let mut entries = vec![entry(0, 10.0, 0.5), entry(1, 30.0, 0.0), entry(2, 20.0, 0.0)];
    rank(&mut entries, Basis::P99Latency);
    assert_eq!(entries.iter().map(|e| e.target).collect::<Vec<_>>(), [2, 1, 0]);
}

#[test]
fn lists_join_with_and() {
    assert_eq!(format::join_and(&["a"]), "a");
    assert_eq!(format::join_and(&["a", "b"]), "a and b");
    assert_eq!(format::join_and(&["a", "b", "c"]), "a, b and c");
}

#[test]
fn closed_loop_phases_judge_throughput_and_others_latency() {
    assert_eq!(basis_of(&LoadModel::Concurrency { connections: 8 }), Basis::Throughput);
    assert_eq!(basis_of(&LoadModel::Rate { rate_per_s: 10.0, connections: 8 }), Basis::P99Latency);
    let users = LoadModel::Users { users: 10, think_min_s: 1.0, think_max_s: 5.0 };
    assert_eq!(basis_of(&users), Basis::P99Latency);
}
