//! [`Calibration`]: what the calibration workload measured once in a run (a fixed CPU loop and a loopback round
//! trip), stored in results.json so that `compare` can express figures of different machines in the same units.
//! The driver's `bench::calibration` measures it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bumped whenever the calibration workload changes: figures of different versions are not comparable.
pub const WORKLOAD_VERSION: u32 = 1;

/// Round figures near what this project's development machine measured (a 2-core AMD EPYC VM, release build,
/// workload version 1). Normalised figures are expressed as if measured on that machine: a run whose calibration is
/// twice as fast has its requests per CPU-second halved. Only ratios matter to `compare`; these constants just keep
/// the figures in familiar units.
pub const REFERENCE_CPU_LOOP_PER_CPU_S: f64 = 4.5e8;
/// See [`REFERENCE_CPU_LOOP_PER_CPU_S`].
pub const REFERENCE_ROUND_TRIPS_PER_CPU_S: f64 = 30_000.0;

/// What one run's calibration measured. Each figure is the median of its rounds; the rounds are kept to show the
/// spread. `compare` normalises by the CPU-time figures; the wall-clock ones show how contended the machine was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Calibration {
    /// [`WORKLOAD_VERSION`] of the workload that produced these figures.
    pub workload_version: u32,
    /// Iterations of the fixed CPU loop per second of the loop thread's CPU time.
    pub cpu_loop_per_cpu_s: f64,
    /// Iterations of the fixed CPU loop per wall-clock second.
    pub cpu_loop_per_s: f64,
    /// Loopback TCP round trips (one connection to an in-process echo) per second of the echo thread's CPU time:
    /// the kernel's cost of a small request and its answer, as a server pays it.
    pub round_trips_per_cpu_s: f64,
    /// Loopback TCP round trips per wall-clock second.
    pub round_trips_per_s: f64,
    pub cpu_rounds: Vec<CalibrationRound>,
    pub round_trip_rounds: Vec<CalibrationRound>,
    /// CPUs the CPU loop and the echo ran on (the targets' cores), when pinned.
    pub target_cores: Option<Vec<u32>>,
    /// CPUs the round-trip client ran on (the load generator's cores), when pinned.
    pub load_cores: Option<Vec<u32>>,
}

/// One round of a calibration workload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CalibrationRound {
    /// Units of work (loop iterations, round trips) per second of the measuring thread's CPU time.
    pub per_cpu_s: f64,
    /// Units of work per wall-clock second.
    pub per_s: f64,
}

impl Calibration {
    /// How much faster than the reference machine this run did the CPU loop, per CPU-second (2.0 = twice as fast).
    pub fn cpu_speed(&self) -> f64 {
        self.cpu_loop_per_cpu_s / REFERENCE_CPU_LOOP_PER_CPU_S
    }

    /// How much faster than the reference machine this run served loopback round trips, per CPU-second.
    pub fn round_trip_speed(&self) -> f64 {
        self.round_trips_per_cpu_s / REFERENCE_ROUND_TRIPS_PER_CPU_S
    }

    /// True when the figures `compare` divides by are positive and finite.
    pub fn is_usable(&self) -> bool {
        [self.cpu_loop_per_cpu_s, self.round_trips_per_cpu_s].iter().all(|value| value.is_finite() && *value > 0.0)
    }
}
