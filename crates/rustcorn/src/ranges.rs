//! The documented range of every numeric flag, checked by clap at parse time: a value outside it is a one-line
//! usage error (exit 2), never an allocation failure, an endless loop or an overflowing deadline deep inside a
//! server. Integer ranges use clap's own `value_parser!(T).range(..)`; durations and rates use the parsers here.

use std::ops::RangeInclusive;
use std::time::Duration;

/// Longest timeout or delay any flag takes: long enough for any real use, short enough that `now + timeout`
/// can never overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Listen backlog: the kernel caps it at net.core.somaxconn (at most 65535) anyway.
pub const BACKLOG: RangeInclusive<i64> = 1..=65_535;
/// Threads of one tokio runtime (serve async --threads, upstream --threads).
pub const RUNTIME_THREADS: RangeInclusive<i64> = 1..=1024;
/// tokio's blocking pool (--blocking-threads): threads start on demand, each with its own stack.
pub const BLOCKING_THREADS: RangeInclusive<i64> = 1..=4096;
/// Connection threads of the sync model (--max-threads): all are started at once.
pub const MAX_THREADS: RangeInclusive<i64> = 1..=4096;
/// Requests in flight before 503 (--limit-concurrency).
pub const LIMIT_CONCURRENCY: RangeInclusive<i64> = 1..=1_000_000;
/// --max-requests and its jitter: their sum must stay far from overflowing.
pub const MAX_REQUESTS: RangeInclusive<u64> = 0..=1_000_000_000_000;
/// Responses per kept-alive connection of the sync model (--max-keepalive-requests); 0 is no bound.
pub const MAX_KEEPALIVE_REQUESTS: RangeInclusive<u64> = 0..=1_000_000_000_000;
/// Upstream response body (--body-bytes): built once, cloned per response.
pub const BODY_BYTES: RangeInclusive<u64> = 0..=64 * 1024 * 1024;
/// Load connections or users: one socket and one task each; the loopback has ~28k ports per destination.
pub const CONNECTIONS: RangeInclusive<i64> = 1..=100_000;
/// Requests per second of the rate model (--rate) and users started per second (--spawn-rate).
pub const RATE: RangeInclusive<f64> = 0.001..=10_000_000.0;
/// Measured requests (-n).
pub const REQUESTS: RangeInclusive<u64> = 1..=1_000_000_000_000;

/// A clap value parser for a duration (humantime: `500ms`, `10s`, `2m`) within `min..=max`.
pub fn duration(min: Duration, max: Duration) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync {
    move |text| within(humantime::parse_duration(text).map_err(|error| error.to_string())?, min, max)
}

/// Checks that `value` lies in `min..=max`, naming the range in the error.
pub fn within(value: Duration, min: Duration, max: Duration) -> Result<Duration, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be from {} to {}", humantime::format_duration(min), humantime::format_duration(max)))
    }
}

/// A clap value parser for a finite number within `range`.
pub fn float(range: RangeInclusive<f64>) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text| match text.trim().parse::<f64>() {
        Ok(value) if range.contains(&value) => Ok(value),
        Ok(_) => Err(format!("must be from {} to {}", range.start(), range.end())),
        Err(_) => Err("not a number".to_owned()),
    }
}

/// The first line of a clap error (the rest is usage and a pointer to --help), for a one-line message.
pub fn first_line(rendered: &str) -> &str {
    let line = rendered.lines().find(|line| !line.trim().is_empty()).unwrap_or(rendered);
    line.strip_prefix("error: ").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_outside_their_range_are_refused() {
        let parse = duration(Duration::from_millis(1), MAX_DURATION);
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("24h"), Ok(MAX_DURATION));
        assert_eq!(parse("0s"), Err("must be from 1ms to 1day".to_owned()));
        assert!(parse("25h").is_err());
        assert!(parse("99999999999999999999s").is_err());
        assert!(parse("soon").is_err());
    }

    #[test]
    fn floats_must_be_finite_and_in_range() {
        let parse = float(RATE);
        assert_eq!(parse("2000"), Ok(2000.0));
        for bad in ["0", "-1", "NaN", "inf", "1e300", "x"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn first_line_of_a_clap_error() {
        let rendered =
            "error: invalid value '9' for '--memory-n <N>': 9 is not in 0..=1\n\nFor more information, try '--help'.\n";
        assert_eq!(first_line(rendered), "invalid value '9' for '--memory-n <N>': 9 is not in 0..=1");
    }
}
