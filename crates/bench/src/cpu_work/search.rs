//! The search for the `?iterations=` count at which a target's CPU endpoint reports a given cost: scale from a
//! small count by the ratio of wanted to measured cost (the loop's cost is linear in its count), then refine the
//! same way until the measured median is within [`TOLERANCE`]. A count the target refuses (its cap) bounds the
//! search; when even the largest count it accepts cannot reach the cost, the search says how close it came.

/// A probe's median may differ from the wanted cost by this fraction (either way) and be accepted.
pub const TOLERANCE: f64 = 0.05;
/// The first count probed: microseconds in compiled code, about half a millisecond in CPython.
const START_ITERATIONS: u64 = 10_000;
/// The most probes one search makes before giving up.
pub const MAX_PROBES: u32 = 16;
/// The largest factor between two consecutive counts: a cost too small to measure well cannot send the next
/// probe arbitrarily far.
const MAX_STEP: f64 = 1000.0;

/// What one probe at some count found.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// The median `duration` the target reported, in seconds, over `samples` requests.
    Cost { seconds: f64, samples: u32 },
    /// The target answered 400: the count is beyond what it accepts.
    Refused { detail: String },
}

/// The count that meets the cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub iterations: u64,
    /// Median cost at `iterations`, seconds.
    pub seconds: f64,
    pub samples: u32,
    /// Counts probed, the last one included.
    pub probes: u32,
}

/// Why no count meets the cost.
#[derive(Debug, Clone, PartialEq)]
pub enum Miss<E> {
    /// The target refuses every count that could reach the cost.
    Unreachable {
        /// The largest count it accepted and its cost (seconds), if any.
        reached: Option<(u64, f64)>,
        /// The smallest count it refuses, and what it said.
        refused: u64,
        detail: String,
        /// What the largest count below `refused` would cost at the rate `reached` was measured at, seconds.
        ceiling: Option<f64>,
    },
    /// [`MAX_PROBES`] counts and none within tolerance: the endpoint's cost does not follow its count.
    Unsettled { last: (u64, f64) },
    /// The probe itself failed (no answer, no duration in it).
    Probe(E),
}

/// Searches the count whose median cost is within [`TOLERANCE`] of `cost` seconds.
pub fn search<E>(cost: f64, mut probe: impl FnMut(u64) -> Result<Probe, E>) -> Result<Found, Miss<E>> {
    let mut count = START_ITERATIONS;
    // The largest count accepted with its cost, and the smallest refused with the target's words.
    let mut accepted: Option<(u64, f64)> = None;
    let mut refused: Option<(u64, String)> = None;
    let mut last = (count, 0.0);
    for probes in 1..=MAX_PROBES {
        let estimate = match probe(count).map_err(Miss::Probe)? {
            Probe::Cost { seconds, samples } => {
                if (seconds / cost - 1.0).abs() <= TOLERANCE {
                    return Ok(Found { iterations: count, seconds, samples, probes });
                }
                if accepted.is_none_or(|(largest, _)| count > largest) {
                    accepted = Some((count, seconds));
                }
                last = (count, seconds);
                scale(count, cost / seconds)
            }
            Probe::Refused { detail } => {
                // A refusal that states its limit ("must be at most N", as rustcorn's endpoints and the Python app
                // word it) bounds the search at once, without probing up to it.
                let stated = stated_limit(&detail).filter(|&limit| limit < count);
                let smallest = stated.map_or(count, |limit| limit + 1);
                if refused.as_ref().is_none_or(|(known, _)| smallest < *known) {
                    refused = Some((smallest, detail));
                }
                match (accepted, stated) {
                    (Some(_), _) => smallest,
                    (None, _) if smallest <= 1 => {
                        let (refused, detail) = refused.unwrap_or_default();
                        return Err(Miss::Unreachable { reached: None, refused, detail, ceiling: None });
                    }
                    (None, Some(limit)) => limit,
                    (None, None) => scale(count, 1.0 / MAX_STEP),
                }
            }
        };
        let (Some((cap, detail)), Some((largest, largest_cost))) = (&refused, accepted) else {
            count = estimate;
            continue;
        };
        // The cost is linear in the count, so no count below the refused one costs more than this.
        let ceiling = largest_cost * (*cap as f64 / largest as f64);
        let unreachable =
            || Miss::Unreachable { reached: accepted, refused: *cap, detail: detail.clone(), ceiling: Some(ceiling) };
        if ceiling < cost * (1.0 - TOLERANCE) {
            return Err(unreachable());
        }
        count = if estimate < *cap { estimate } else { between(largest, *cap).ok_or_else(unreachable)? };
    }
    Err(Miss::Unsettled { last })
}

/// N in a refusal that reads "... at most N".
fn stated_limit(detail: &str) -> Option<u64> {
    let (_, after) = detail.split_once("at most ")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `count` times `factor` (bounded by [`MAX_STEP`] either way), at least 1.
fn scale(count: u64, factor: f64) -> u64 {
    let factor = if factor.is_finite() { factor.clamp(1.0 / MAX_STEP, MAX_STEP) } else { MAX_STEP };
    let scaled = (count as f64 * factor).round();
    if scaled >= u64::MAX as f64 {
        u64::MAX
    } else {
        (scaled as u64).max(1)
    }
}

/// A count strictly between `low` and `high` (their geometric mean), if there is one.
fn between(low: u64, high: u64) -> Option<u64> {
    if high <= low.saturating_add(1) {
        return None;
    }
    let mean = ((low as f64) * (high as f64)).sqrt().round() as u64;
    Some(mean.clamp(low + 1, high - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target whose loop costs `per_iteration` seconds per count (plus `fixed`) and refuses counts above `cap`.
    struct Linear {
        per_iteration: f64,
        fixed: f64,
        cap: u64,
        probed: Vec<u64>,
    }

    impl Linear {
        fn new(per_iteration: f64, cap: u64) -> Linear {
            Linear { per_iteration, fixed: 0.0, cap, probed: Vec::new() }
        }

        fn probe(&mut self, count: u64) -> Result<Probe, String> {
            self.probed.push(count);
            if count > self.cap {
                return Ok(Probe::Refused { detail: format!("must be at most {}", self.cap) });
            }
            Ok(Probe::Cost { seconds: self.fixed + self.per_iteration * count as f64, samples: 9 })
        }
    }

    #[test]
    fn compiled_and_interpreted_loops_reach_two_ms_within_tolerance_in_a_few_probes() {
        // About what this machine measures: compiled Rust ~0.7 ns an iteration, CPython ~55 ns.
        for per_iteration in [0.7e-9, 55e-9] {
            let mut target = Linear::new(per_iteration, 1_000_000_000);
            let found = search(0.002, |count| target.probe(count)).expect("reachable");
            assert!((found.seconds / 0.002 - 1.0).abs() <= TOLERANCE, "{found:?}");
            assert!(found.probes <= 4, "{found:?} after {:?}", target.probed);
            assert_eq!(found.probes as usize, target.probed.len());
        }
    }

    #[test]
    fn a_fixed_overhead_is_refined_away() {
        // Half the cost of a small count is overhead (timer, parsing): the first estimate overshoots.
        let mut target = Linear { per_iteration: 1e-9, fixed: 10e-6, cap: u64::MAX, probed: Vec::new() };
        let found = search(0.002, |count| target.probe(count)).expect("reachable");
        assert!((found.seconds / 0.002 - 1.0).abs() <= TOLERANCE, "{found:?}");
    }

    #[test]
    fn a_cost_beyond_a_stated_cap_is_unreachable_at_once_and_says_how_far_the_target_gets() {
        let mut target = Linear::new(0.7e-9, 1_000_000_000);
        let miss = search(2.0, |count| target.probe(count)).expect_err("unreachable");
        let Miss::Unreachable { reached: Some((largest, cost)), refused, detail, ceiling: Some(ceiling) } = miss else {
            panic!("{miss:?}")
        };
        assert_eq!((refused, detail.as_str()), (1_000_000_001, "must be at most 1000000000"));
        assert!((cost - 0.7e-9 * largest as f64).abs() < 1e-12, "{cost}");
        assert!((ceiling - 0.7).abs() < 0.01, "{ceiling}");
        // No probe ran the loop anywhere near the cap: the refusal named it.
        assert!(target.probed.iter().all(|&count| count <= 10_000_000 || count > 1_000_000_000), "{:?}", target.probed);
    }

    #[test]
    fn an_unstated_cap_is_narrowed_down_until_the_cost_is_out_of_reach() {
        let mut probed = Vec::new();
        let miss = search(2.0, |count| {
            probed.push(count);
            if count > 1_000_000_000 {
                return Ok::<_, String>(Probe::Refused { detail: "400: too large".into() });
            }
            Ok(Probe::Cost { seconds: 0.7e-9 * count as f64, samples: 1 })
        })
        .expect_err("unreachable");
        let Miss::Unreachable { reached: Some((largest, _)), refused, ceiling: Some(ceiling), .. } = miss else {
            panic!("{miss:?}")
        };
        assert!(largest <= 1_000_000_000 && refused > 1_000_000_000, "{largest} {refused} after {probed:?}");
        assert!(ceiling < 1.9, "{ceiling}");
    }

    #[test]
    fn stated_limits_are_read_from_the_refusal() {
        assert_eq!(
            stated_limit("400: {\"detail\":\"query parameter 'iterations' must be at most 1000000000\"}"),
            Some(1_000_000_000)
        );
        assert_eq!(stated_limit("400: too large"), None);
    }

    #[test]
    fn an_estimate_beyond_the_cap_is_searched_under_it() {
        // Small counts read half their cost (a coarse timer), so the first estimate (5.7M) overshoots the cap (3M)
        // although 2.86M iterations meet the cost: the search must come back under the cap and find them.
        let mut probed = Vec::new();
        let found = search(0.002, |count| {
            probed.push(count);
            if count > 3_000_000 {
                return Ok::<_, String>(Probe::Refused { detail: "too many".into() });
            }
            let reading = if count < 100_000 { 0.5 } else { 1.0 };
            Ok(Probe::Cost { seconds: 0.7e-9 * count as f64 * reading, samples: 5 })
        })
        .expect("reachable under the cap");
        assert!(probed.iter().any(|&count| count > 3_000_000), "the cap was hit: {probed:?}");
        assert!(found.iterations <= 3_000_000 && (found.seconds / 0.002 - 1.0).abs() <= TOLERANCE, "{found:?}");
    }

    #[test]
    fn a_target_refusing_every_count_is_unreachable_with_nothing_reached() {
        let mut target = Linear::new(1e-6, 0);
        let miss = search(0.002, |count| target.probe(count)).expect_err("unreachable");
        assert!(matches!(miss, Miss::Unreachable { reached: None, refused: 1, .. }), "{miss:?}");
        assert!(target.probed.len() <= 2, "{:?}", target.probed);
    }

    #[test]
    fn an_endpoint_that_ignores_its_count_does_not_settle() {
        let miss = search(0.002, |_| Ok::<_, String>(Probe::Cost { seconds: 50e-6, samples: 3 })).expect_err("no");
        assert!(matches!(miss, Miss::Unsettled { .. }), "{miss:?}");
    }

    #[test]
    fn probe_errors_end_the_search() {
        let miss = search(0.002, |_| Err::<Probe, _>("no duration")).expect_err("error");
        assert_eq!(miss, Miss::Probe("no duration"));
    }

    #[test]
    fn counts_scale_within_bounds() {
        assert_eq!(scale(10_000, 1e9), 10_000_000);
        assert_eq!(scale(10_000, f64::INFINITY), 10_000_000);
        assert_eq!(scale(10, 1e-9), 1);
        assert_eq!(scale(u64::MAX / 2, 1000.0), u64::MAX);
        assert_eq!(between(10, 1000), Some(100));
        assert_eq!(between(10, 11), None);
        assert_eq!(between(10, 12), Some(11));
    }
}
