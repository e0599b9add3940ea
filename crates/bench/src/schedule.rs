//! The order of a suite's runs. Phase after phase; within a phase, round after round, each round one repetition
//! of every target taking part; each round starts one target further along, so that neither a slow drift of the
//! shared machine nor the place in the round (first after the previous phase, last before the next) favours one
//! target. The verdict compares repetitions measured this way.

use crate::suite::Suite;

/// One run: a fresh target process measured under one phase once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Index into `suite.phases`.
    pub phase: usize,
    /// 0-based repetition of this target x phase.
    pub repetition: u32,
    /// Index into `suite.targets`.
    pub target: usize,
}

/// Every run of `suite`, in the order they happen.
pub fn schedule(suite: &Suite) -> Vec<Slot> {
    let mut slots = Vec::with_capacity(suite.run_count());
    for (phase_index, phase) in suite.phases.iter().enumerate() {
        let taking_part: Vec<usize> =
            (0..suite.targets.len()).filter(|&target| phase.includes(&suite.targets[target].name)).collect();
        if taking_part.is_empty() {
            continue;
        }
        for repetition in 0..phase.repetitions {
            let start = repetition as usize % taking_part.len();
            for offset in 0..taking_part.len() {
                let target = taking_part[(start + offset) % taking_part.len()];
                slots.push(Slot { phase: phase_index, repetition, target });
            }
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn suite(text: &str) -> Suite {
        Suite::parse(Path::new("s.toml"), text.to_owned()).unwrap_or_else(|error| panic!("{error}"))
    }

    const THREE_TARGETS: &str = r#"
repetitions = 3

[[targets]]
name = "a"
serve = "sync"

[[targets]]
name = "b"
serve = "async"

[[targets]]
name = "c"
serve = "async --threads 2"

[[phases]]
name = "cpu"
load = "concurrency"
connections = 4
duration = "1s"
tasks = [{ path = "/cpu-intensive" }]

[[phases]]
name = "once"
load = "concurrency"
connections = 4
duration = "1s"
repetitions = 1
targets = ["c", "a"]
tasks = [{ path = "/health" }]
"#;

    fn order(suite: &Suite, slots: &[Slot]) -> Vec<String> {
        slots
            .iter()
            .map(|slot| {
                format!("{}{}{}", suite.phases[slot.phase].name, slot.repetition, suite.targets[slot.target].name)
            })
            .collect()
    }

    #[test]
    fn repetitions_interleave_across_targets_and_each_round_starts_one_further() {
        let suite = suite(THREE_TARGETS);
        let slots = schedule(&suite);
        assert_eq!(
            order(&suite, &slots),
            [
                "cpu0a", "cpu0b", "cpu0c", "cpu1b", "cpu1c", "cpu1a", "cpu2c", "cpu2a", "cpu2b", //
                "once0a", "once0c",
            ]
        );
        assert_eq!(slots.len(), suite.run_count());
    }

    #[test]
    fn every_target_takes_every_place_in_the_round_equally_often() {
        let suite = suite(THREE_TARGETS);
        let slots = schedule(&suite);
        let cpu: Vec<&Slot> = slots.iter().filter(|slot| slot.phase == 0).collect();
        for target in 0..3 {
            let mut places: Vec<usize> = cpu
                .chunks(3)
                .map(|round| round.iter().position(|slot| slot.target == target).expect("in every round"))
                .collect();
            places.sort_unstable();
            assert_eq!(places, [0, 1, 2], "target {target}");
        }
    }
}
