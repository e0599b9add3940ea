//! The small statistics `compare` needs: medians, and a one-sided Mann-Whitney U test (exact for the sample sizes
//! CI runs have, normal approximation beyond) telling whether new repetitions are worse than the reference ones.

/// Above this many samples in total the exact distribution gives way to the normal approximation.
const EXACT_LIMIT: usize = 60;

/// The middle value (mean of the two middle ones for an even count); NaN for no values.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// One-sided Mann-Whitney U test of "`new` tends to be smaller than `reference`": the probability, if both came
/// from the same distribution, of a U statistic this small or smaller. Ties count half. None when a side is empty.
pub fn p_new_smaller(new: &[f64], reference: &[f64]) -> Option<f64> {
    if new.is_empty() || reference.is_empty() {
        return None;
    }
    let u = u_statistic(new, reference);
    let (m, n) = (new.len(), reference.len());
    if m + n <= EXACT_LIMIT {
        Some(exact_lower_tail(m, n, u))
    } else {
        Some(normal_lower_tail(m, n, u))
    }
}

/// The smallest p-value [`p_new_smaller`] can give for these sample sizes (every new value below every reference
/// one): when it exceeds the significance level, the test cannot decide and the caller says so.
pub fn smallest_p(new_count: usize, reference_count: usize) -> f64 {
    if new_count == 0 || reference_count == 0 {
        return 1.0;
    }
    1.0 / binomial(new_count + reference_count, new_count)
}

/// Pairs (new, reference) where the new value is larger, ties counting half.
fn u_statistic(new: &[f64], reference: &[f64]) -> f64 {
    new.iter()
        .flat_map(|a| reference.iter().map(move |b| a.total_cmp(b)))
        .map(|order| match order {
            std::cmp::Ordering::Greater => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Less => 0.0,
        })
        .sum()
}

/// P(U <= u) under the null hypothesis, from the exact distribution of U: the coefficients of the Gaussian
/// binomial coefficient [m+n choose m]_q, built by multiplying by (1 - q^(n+i)) and dividing by (1 - q^i).
fn exact_lower_tail(m: usize, n: usize, u: f64) -> f64 {
    let max_u = m * n;
    let mut counts = vec![0i128; max_u + m + 1];
    counts[0] = 1;
    for i in 1..=m {
        let grow = n + i;
        for k in (grow..counts.len()).rev() {
            counts[k] -= counts[k - grow];
        }
        for k in i..counts.len() {
            counts[k] += counts[k - i];
        }
    }
    let total: i128 = counts[..=max_u].iter().sum();
    let at_most = u.floor().clamp(0.0, max_u as f64) as usize;
    let below: i128 = counts[..=at_most].iter().sum();
    below as f64 / total as f64
}

/// P(U <= u) by the normal approximation with a continuity correction (no tie correction: the figures are
/// continuous measurements).
fn normal_lower_tail(m: usize, n: usize, u: f64) -> f64 {
    let (m, n) = (m as f64, n as f64);
    let mean = m * n / 2.0;
    let sd = (m * n * (m + n + 1.0) / 12.0).sqrt();
    standard_normal_cdf((u + 0.5 - mean) / sd)
}

/// Φ(z) through the complementary error function (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn standard_normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn all_new_below_all_reference_gives_the_smallest_p() {
        let p = p_new_smaller(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).expect("p");
        assert!(close(p, 1.0 / 20.0), "{p}");
        assert!(close(smallest_p(3, 3), 1.0 / 20.0));
        assert!(close(smallest_p(3, 13), 1.0 / 560.0));
    }

    #[test]
    fn all_new_above_gives_one_and_interleaved_is_in_between() {
        assert!(close(p_new_smaller(&[7.0, 8.0], &[1.0, 2.0]).expect("p"), 1.0));
        // new = {1, 3}, reference = {2, 4}: U = 1; P(U <= 1) for m = n = 2 is 2/6.
        assert!(close(p_new_smaller(&[1.0, 3.0], &[2.0, 4.0]).expect("p"), 2.0 / 6.0));
    }

    #[test]
    fn the_exact_distribution_matches_known_counts() {
        // m = 2, n = 3: U takes 0..=6 with counts 1 1 2 2 2 1 1 (total 10).
        let cumulative = [1.0, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0];
        for (u, expected) in cumulative.iter().enumerate() {
            assert!(close(exact_lower_tail(2, 3, u as f64), expected / 10.0), "u = {u}");
        }
    }

    #[test]
    fn the_normal_approximation_agrees_with_the_exact_test_near_the_limit() {
        let new: Vec<f64> = (0..30).map(|i| f64::from(i) * 1.3).collect();
        let reference: Vec<f64> = (0..30).map(|i| f64::from(i) * 1.3 + 5.0).collect();
        let u = u_statistic(&new, &reference);
        let exact = exact_lower_tail(30, 30, u);
        let approx = normal_lower_tail(30, 30, u);
        assert!((exact - approx).abs() < 0.01, "exact {exact}, approx {approx}");
    }

    #[test]
    fn empty_sides_give_no_p() {
        assert_eq!(p_new_smaller(&[], &[1.0]), None);
        assert_eq!(smallest_p(0, 3), 1.0);
    }
}
