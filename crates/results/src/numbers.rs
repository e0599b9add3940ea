//! Rounding a number for text, shared by `compare`'s markdown and the report's formatting, so that both round
//! the same way; each picks its digits (see their callers for why they differ).

/// `value` rounded to `digits` significant digits, with at most `max_decimals` decimals and no exponent. Zero gets
/// the decimals a number between 1 and 10 would ("0.000" at 4 digits); a non-finite value prints as Rust does.
pub fn significant(value: f64, digits: i32, max_decimals: usize) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = if value == 0.0 { 0 } else { value.abs().log10().floor() as i32 };
    let decimals = ((digits - 1 - magnitude).max(0) as usize).min(max_decimals);
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_significant_digits_within_the_decimal_cap() {
        assert_eq!(significant(12345.6, 4, 3), "12346");
        assert_eq!(significant(999.96, 4, 3), "1000.0");
        assert_eq!(significant(0.123456, 4, 3), "0.123");
        assert_eq!(significant(0.123456, 4, usize::MAX), "0.1235");
        assert_eq!(significant(-2.5, 3, 3), "-2.50");
        assert_eq!(significant(0.0, 4, 3), "0.000");
        assert_eq!(significant(f64::NAN, 4, 3), "NaN");
    }
}
