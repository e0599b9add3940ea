//! Locust's `_stats.csv` layout: one row per endpoint and an Aggregated row, times in milliseconds. The only
//! output that rounds: percentiles and the median to whole milliseconds, as Locust prints them.

use std::fmt::Write;

use super::{ExportError, Exporter};
use crate::{EndpointStats, LoadReport};

/// Locust's header, column for column.
pub const HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,\
99.9%,99.99%,100%";

pub struct LocustCsv;

impl Exporter for LocustCsv {
    fn export(&self, report: &LoadReport) -> Result<Vec<u8>, ExportError> {
        let mut text = String::new();
        text.push_str(HEADER);
        text.push('\n');
        for endpoint in &report.endpoints {
            row(&mut text, "GET", endpoint);
        }
        row(&mut text, "", &report.aggregated);
        Ok(text.into_bytes())
    }
}

fn row(text: &mut String, kind: &str, stats: &EndpointStats) {
    let latency = &stats.latency;
    let ms = |micros: u64| micros as f64 / 1000.0;
    let whole_ms = |micros: u64| {
        if latency.samples == 0 {
            "N/A".to_owned()
        } else {
            format!("{}", (micros as f64 / 1000.0).round() as u64)
        }
    };
    let _ = write!(
        text,
        "{kind},{},{},{},{},{:.2},{:.2},{:.2},{:.2},{:.6},{:.6}",
        quote(&stats.name),
        stats.count,
        stats.failures.total(),
        whole_ms(latency.median_us),
        latency.mean_us / 1000.0,
        ms(latency.min_us),
        ms(latency.max_us),
        stats.avg_content_size,
        stats.requests_per_second,
        stats.failures_per_second,
    );
    for percentile in &latency.percentiles {
        let _ = write!(text, ",{}", whole_ms(percentile.latency_us));
    }
    text.push('\n');
}

/// Quotes a field when it holds a comma, quote or newline (RFC 4180).
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sample;
    use crate::Model;

    #[test]
    fn has_locusts_header_and_an_aggregated_row() {
        let text = String::from_utf8(LocustCsv.export(&sample::report(Model::Concurrency)).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines[0].split(',').count(), 22);
        assert!(lines[1].starts_with("GET,/health,757,10,"), "{}", lines[1]);
        assert!(lines[3].starts_with(",Aggregated,1007,10,"), "{}", lines[3]);
        for line in &lines[1..] {
            assert_eq!(line.split(',').count(), 22, "{line}");
        }
        // /cpu-intensive: 250 values 50.000..59.960 ms; its max column and 100% column agree.
        let cpu: Vec<&str> = lines[2].split(',').collect();
        assert_eq!(cpu[6], "50.00");
        assert_eq!(cpu[7], "59.96");
        assert_eq!(cpu[21], "60");
    }

    #[test]
    fn quotes_names_with_commas() {
        assert_eq!(quote("/a?b=1,2"), "\"/a?b=1,2\"");
        assert_eq!(quote("/plain"), "/plain");
    }
}
