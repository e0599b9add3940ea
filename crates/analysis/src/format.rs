//! Number formatting for people: latencies from microseconds, rates, bytes, ratios. Values stay exact until here
//! (microseconds end to end); rounding happens only when text is made.

/// A latency in microseconds as ms (or s past 10 s, or µs below 0.1 ms) with three significant digits.
pub fn latency_us(micros: f64) -> String {
    if !micros.is_finite() {
        return "n/a".to_owned();
    }
    if micros >= 10_000_000.0 {
        format!("{} s", significant(micros / 1e6, 3))
    } else if micros >= 100.0 {
        format!("{} ms", significant(micros / 1e3, 3))
    } else {
        format!("{} µs", significant(micros, 3))
    }
}

/// A figure marked "≥" when it is only a lower bound (a percentile among requests that had no answer).
pub fn at_least(text: String, lower_bound: bool) -> String {
    if lower_bound {
        format!("≥ {text}")
    } else {
        text
    }
}

/// Milliseconds as a bare number with three significant digits (tables whose header says "ms").
pub fn ms(micros: f64) -> String {
    significant(micros / 1e3, 3)
}

/// A rate (requests per second): thousands separated, one decimal below 100.
pub fn rate(per_second: f64) -> String {
    if !per_second.is_finite() {
        "n/a".to_owned()
    } else if per_second == 0.0 {
        "0".to_owned()
    } else if per_second.abs() >= 100.0 {
        thousands(per_second.round() as i64)
    } else {
        format!("{per_second:.1}")
    }
}

/// An axis tick: whole numbers plain with thousands grouped, others with three significant digits and no
/// trailing zeros ("0.5", "2.25", "0.005").
pub fn axis(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    if value.abs() >= 100.0 || ((value - value.round()).abs() < 1e-9 && value.abs() >= 1.0) {
        return thousands(value.round() as i64);
    }
    let text = significant(value, 3);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A tick on a log-2 axis of counts (connections, workers): whole numbers only.
pub fn count_axis(value: f64) -> String {
    if (value - value.round()).abs() < 1e-6 && value >= 1.0 {
        thousands(value.round() as i64)
    } else {
        String::new()
    }
}

/// A whole count with thousands separators.
pub fn count(value: u64) -> String {
    thousands(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Bytes in binary units: "512 B", "12.3 KiB", "1.50 MiB", "2.00 GiB".
pub fn bytes(value: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if value < 1024.0 {
        return format!("{value:.0} B");
    }
    let mut scaled = value / 1024.0;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    format!("{} {}", significant(scaled, 3), UNITS[unit])
}

/// Bytes as MiB with three significant digits (axes and tables whose header says MiB).
pub fn mib(value: f64) -> String {
    significant(value / (1024.0 * 1024.0), 3)
}

/// A ratio such as "1.93×"; two decimals below 10, one below 100, none above.
pub fn ratio(value: f64) -> String {
    if !value.is_finite() {
        "n/a".to_owned()
    } else if value < 10.0 {
        format!("{value:.2}×")
    } else if value < 100.0 {
        format!("{value:.1}×")
    } else {
        format!("{value:.0}×")
    }
}

/// A fraction as a percentage with up to two decimals: 0.0123 -> "1.23 %".
pub fn percent(fraction: f64) -> String {
    let value = fraction * 100.0;
    if value == 0.0 {
        "0 %".to_owned()
    } else if value < 0.01 {
        "<0.01 %".to_owned()
    } else {
        format!("{} %", significant(value, 3))
    }
}

/// A percentile label: 50 -> "50%", 99.9 -> "99.9%", 99.99 -> "99.99%".
pub fn percentile_label(percentile: f64) -> String {
    let text = format!("{percentile:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// `value` rounded to `digits` significant digits, without an exponent and without trailing zeros past the
/// point that the digits do not need. The rounding is bench's (as in `compare`'s markdown); a reader of the report
/// sees three digits (two for a few coarse figures), zero as "0" and a missing figure as "n/a", where `compare` keeps four digits
/// for reviewers comparing runs.
pub fn significant(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return if value == 0.0 { "0".to_owned() } else { "n/a".to_owned() };
    }
    results::numbers::significant(value, digits, usize::MAX)
}

fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut groups: Vec<&str> = Vec::with_capacity(digits.len() / 3 + 1);
    let mut end = digits.len();
    while end > 3 {
        groups.push(&digits[end - 3..end]);
        end -= 3;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}", groups.join(","))
}

/// "a", "a and b", "a, b and c".
pub fn join_and<T: AsRef<str>>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_owned(),
        [init @ .., last] => {
            format!("{} and {}", init.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_pick_a_unit_and_keep_three_digits() {
        assert_eq!(latency_us(12.0), "12.0 µs");
        assert_eq!(latency_us(1234.0), "1.23 ms");
        assert_eq!(latency_us(100_000.0), "100 ms");
        assert_eq!(latency_us(123_456.0), "123 ms");
        assert_eq!(latency_us(12_345_678.0), "12.3 s");
        assert_eq!(ms(1500.0), "1.50");
    }

    #[test]
    fn rates_and_counts_group_thousands() {
        assert_eq!(rate(1_234_567.4), "1,234,567");
        assert_eq!(rate(99.94), "99.9");
        assert_eq!(rate(100.0), "100");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(999), "999");
        assert_eq!(axis(-1234.0), "-1,234");
    }

    #[test]
    fn axis_ticks_are_short() {
        assert_eq!(axis(0.0), "0");
        assert_eq!(axis(0.5), "0.5");
        assert_eq!(axis(2.25), "2.25");
        assert_eq!(axis(-1.0), "-1");
        assert_eq!(axis(1500.0), "1,500");
        assert_eq!(axis(0.005), "0.005");
        assert_eq!(count_axis(16.0), "16");
        assert_eq!(count_axis(19.2), "");
        assert_eq!(rate(0.0), "0");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(bytes(30.0 * 1024.0 * 1024.0), "30.0 MiB");
        assert_eq!(mib(3.0 * 1024.0 * 1024.0), "3.00");
    }

    #[test]
    fn ratios_percentages_and_percentile_labels() {
        assert_eq!(ratio(1.934), "1.93×");
        assert_eq!(ratio(12.34), "12.3×");
        assert_eq!(percent(0.0123), "1.23 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.000_01), "<0.01 %");
        assert_eq!(percentile_label(50.0), "50%");
        assert_eq!(percentile_label(99.99), "99.99%");
    }
}
