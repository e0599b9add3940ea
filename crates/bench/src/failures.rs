//! The run's failure threshold as the command line gives it (`--max-failures`); the rule itself, which phases went
//! beyond it, is the results model's ([`crate::results::failures`]).

pub use crate::results::failures::{FailingPhase, DEFAULT_MAX_FAILURES};

/// A share written as a percentage (`5%`, `0.5 %`) or a fraction (`0.05`), as a fraction; None when it is not a
/// finite number. Thresholds on the command line (`--max-failures`, `bench compare --threshold`) read it.
pub fn parse_share(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(number) => (number.trim(), 100.0),
        None => (trimmed, 1.0),
    };
    number.parse::<f64>().ok().filter(|value| value.is_finite()).map(|value| value / scale)
}

/// Parses a failure threshold ([`parse_share`]) within 0..=100 %.
pub fn parse_max_failures(text: &str) -> Result<f64, String> {
    match parse_share(text) {
        Some(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share of failed requests from 0% to 100% (e.g. 5% or 0.05)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_as_percent_or_fraction() {
        assert_eq!(parse_max_failures("5%"), Ok(0.05));
        assert_eq!(parse_max_failures("0.5 %"), Ok(0.005));
        assert_eq!(parse_max_failures("0.25"), Ok(0.25));
        assert_eq!(parse_max_failures("0"), Ok(0.0));
        for bad in ["101%", "-1%", "2", "NaN", "x", ""] {
            assert!(parse_max_failures(bad).is_err(), "{bad}");
        }
    }
}
