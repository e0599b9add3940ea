//! HdrHistogram interval logs (`.hlog`): one interval histogram per second of the run, in the text format that
//! HdrHistogram's own tools (HistogramLogProcessor) read; plus reading logs back and merging several agents' logs
//! exactly. Values are microseconds.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use super::{ExportError, Exporter};
use crate::histogram;
use crate::{AgentWindow, LatencyBasis, LoadError, LoadReport};

pub struct Hlog;

/// One interval read from a log, its start as absolute seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub tag: Option<String>,
    pub start_unix_secs: f64,
    pub duration_secs: f64,
    pub histogram: Histogram<u64>,
}

impl Exporter for Hlog {
    fn export(&self, report: &LoadReport) -> Result<Vec<u8>, ExportError> {
        let basis = match report.latency_basis {
            LatencyBasis::Corrected => "corrected latency (from intended send time)",
            LatencyBasis::ServiceTime => "service time",
        };
        let comment = format!("rustcorn load, {:?} model, {basis}", report.model);
        let start = report.started_at_unix_ms as f64 / 1000.0;
        let mut intervals = Vec::with_capacity(report.timeline.len());
        for second in &report.timeline {
            intervals.push(Interval {
                tag: None,
                start_unix_secs: start + second.second as f64,
                duration_secs: 1.0,
                histogram: histogram::decode(&second.histogram)?,
            });
        }
        Ok(write(&comment, &report.agents, start, &intervals)?)
    }
}

/// Marks the comment line that carries one agent's window (as JSON) in a log's header.
const AGENT_COMMENT: &str = "#[Agent: ";

/// One `#[Agent: {...}]` comment per agent (without the leading `#` the log writer adds): who measured and its
/// absolute window. HdrHistogram's readers skip comment lines, so the log stays standard.
fn agent_comments(agents: &[AgentWindow]) -> impl Iterator<Item = String> + '_ {
    agents
        .iter()
        .filter_map(|agent| serde_json::to_string(agent).ok())
        .map(|json| format!("{}{json}]", &AGENT_COMMENT[1..]))
}

/// The agents named in a log's header comments (none in logs from other tools or older versions).
pub fn read_agents(log: &[u8]) -> Result<Vec<AgentWindow>, LoadError> {
    String::from_utf8_lossy(log)
        .lines()
        .filter_map(|line| line.strip_prefix(AGENT_COMMENT)?.strip_suffix(']'))
        .map(|json| {
            serde_json::from_str(json).map_err(|error| LoadError::Histogram(format!("bad agent comment: {error}")))
        })
        .collect()
}

/// Writes a log the way Java's HistogramLogWriter does, through hdrhistogram's interval-log writer: version,
/// StartTime, BaseTime, legend, then intervals relative to BaseTime; after the first comment, one comment line per
/// agent with its absolute window.
pub fn write(
    comment: &str,
    agents: &[AgentWindow],
    base_unix_secs: f64,
    intervals: &[Interval],
) -> Result<Vec<u8>, LoadError> {
    let base_time = Duration::try_from_secs_f64(base_unix_secs)
        .map_err(|_| LoadError::Histogram(format!("bad log base time {base_unix_secs}")))?;
    let mut header = IntervalLogWriterBuilder::new();
    header.add_comment(&format!("[{comment}; values in microseconds]"));
    for line in agent_comments(agents) {
        header.add_comment(&line);
    }
    header
        .add_comment("[Histogram log format version 1.3]")
        .with_start_time(UNIX_EPOCH + base_time)
        .with_base_time(UNIX_EPOCH + base_time);
    let mut text = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    header.begin_log_with(&mut text, &mut serializer).map_err(write_error)?;
    // The crate's writer leaves out the CSV legend Java's writer prints; a writer without headers writes
    // nothing of its own, so the legend goes in between.
    text.extend_from_slice(LEGEND.as_bytes());
    let mut log = IntervalLogWriterBuilder::new().begin_log_with(&mut text, &mut serializer).map_err(write_error)?;
    for interval in intervals {
        let start = Duration::try_from_secs_f64(interval.start_unix_secs - base_unix_secs).map_err(|_| {
            LoadError::Histogram(format!("interval at {} starts before the log's base time", interval.start_unix_secs))
        })?;
        let length = Duration::try_from_secs_f64(interval.duration_secs)
            .map_err(|_| LoadError::Histogram(format!("bad interval length {}", interval.duration_secs)))?;
        let tag = match &interval.tag {
            Some(tag) => Some(Tag::new(tag).ok_or_else(|| LoadError::Histogram(format!("bad interval tag {tag:?}")))?),
            None => None,
        };
        log.write_histogram(&interval.histogram, start, length, tag).map_err(write_error)?;
    }
    Ok(text)
}

/// The CSV header line of Java's HistogramLogWriter.
const LEGEND: &str = "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";

fn write_error(error: impl std::fmt::Debug) -> LoadError {
    LoadError::Histogram(format!("cannot write the interval log: {error:?}"))
}

/// Reads every interval of a log, resolving BaseTime (or StartTime used as a base, as Java's reader does for
/// small timestamps) into absolute start times.
pub fn read(log: &[u8]) -> Result<Vec<Interval>, LoadError> {
    const YEAR_SECS: f64 = 365.0 * 24.0 * 3600.0;
    let (mut base, mut start_time) = (None::<f64>, None::<f64>);
    let mut intervals = Vec::new();
    for entry in IntervalLogIterator::new(log) {
        let entry = entry.map_err(|error| LoadError::Histogram(format!("bad interval log: {error:?}")))?;
        match entry {
            LogEntry::BaseTime(time) => base = Some(time.as_secs_f64()),
            LogEntry::StartTime(time) => start_time = Some(time.as_secs_f64()),
            LogEntry::Interval(interval) => {
                let relative = interval.start_timestamp().as_secs_f64();
                let offset = base.unwrap_or(match start_time {
                    Some(start) if relative < start - YEAR_SECS => start,
                    _ => 0.0,
                });
                intervals.push(Interval {
                    tag: interval.tag().map(|tag| tag.as_str().to_owned()),
                    start_unix_secs: offset + relative,
                    duration_secs: interval.duration().as_secs_f64(),
                    histogram: histogram::decode(interval.encoded_histogram())?,
                });
            }
        }
    }
    Ok(intervals)
}

/// Merges logs from load agents that ran at the same time: intervals with the same tag that start in the same
/// wall-clock second are added (exactly); the result is one log with one interval per tag and second.
pub fn merge(logs: &[&[u8]]) -> Result<Vec<u8>, LoadError> {
    let mut agents = Vec::new();
    for log in logs {
        agents.extend(read_agents(log)?);
    }
    crate::agent::check_windows(&agents)?;
    let mut merged: BTreeMap<(Option<String>, i64), Interval> = BTreeMap::new();
    for log in logs {
        for interval in read(log)? {
            let key = (interval.tag.clone(), interval.start_unix_secs.floor() as i64);
            match merged.get_mut(&key) {
                Some(existing) => {
                    existing.histogram.add(&interval.histogram).map_err(|e| LoadError::Histogram(format!("{e:?}")))?;
                    existing.duration_secs = existing.duration_secs.max(interval.duration_secs);
                }
                None => {
                    let start_unix_secs = key.1 as f64;
                    merged.insert(key, Interval { start_unix_secs, ..interval });
                }
            }
        }
    }
    let mut intervals: Vec<Interval> = merged.into_values().collect();
    intervals.sort_by(|a, b| a.start_unix_secs.total_cmp(&b.start_unix_secs));
    let base = intervals.first().map_or(0.0, |interval| interval.start_unix_secs);
    write(&format!("rustcorn merge of {} logs", logs.len()), &agents, base, &intervals)
}

/// The sum of every interval in a log: the whole run's histogram.
pub fn total(intervals: &[Interval]) -> Result<Histogram<u64>, LoadError> {
    let mut sum = histogram::new_histogram();
    for interval in intervals {
        sum.add(&interval.histogram).map_err(|error| LoadError::Histogram(format!("{error:?}")))?;
    }
    Ok(sum)
}

/// Whole seconds covered by the intervals (for callers that print a duration).
pub fn span(intervals: &[Interval]) -> Duration {
    let first = intervals.iter().map(|i| i.start_unix_secs).fold(f64::INFINITY, f64::min);
    let last = intervals.iter().map(|i| i.start_unix_secs + i.duration_secs).fold(f64::NEG_INFINITY, f64::max);
    if first.is_finite() && last > first {
        Duration::from_secs_f64(last - first)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sample;
    use crate::Model;

    #[test]
    fn writes_the_standard_format_and_reads_it_back() {
        let report = sample::report(Model::Concurrency);
        let bytes = Hlog.export(&report).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("#[Histogram log format version 1.3]\n"));
        assert!(text
            .contains("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"));
        let line = text.lines().last().unwrap();
        assert!(line.starts_with("0.000,1.000,"), "{line}");
        assert!(line.split(',').nth(3).unwrap().starts_with("HISTF"), "V2 compressed base64: {line}");
        let intervals = read(&bytes).unwrap();
        assert_eq!(intervals.len(), 1);
        assert_eq!(intervals[0].start_unix_secs, 1_700_000_000.0);
        assert_eq!(intervals[0].histogram.len(), 1000);
    }

    #[test]
    fn the_header_is_java_writers_line_for_line() {
        let report = sample::report(Model::Concurrency);
        let text = String::from_utf8(Hlog.export(&report).unwrap()).unwrap();
        let agent = serde_json::to_string(&report.agents[0]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..6],
            [
                "#[rustcorn load, Concurrency model, service time; values in microseconds]",
                &format!("#[Agent: {agent}]"),
                "#[Histogram log format version 1.3]",
                "#[StartTime: 1700000000.000 (seconds since epoch)]",
                "#[BaseTime: 1700000000.000 (seconds since epoch)]",
                "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
            ],
            "{text}"
        );
        let expected_max = read(text.as_bytes()).unwrap()[0].histogram.max();
        assert!(lines[6].starts_with(&format!("0.000,1.000,{expected_max}.000,HISTF")), "{}", lines[6]);
    }

    /// The sample report as agent `id`, its window 2 s long from start + offset_s.
    fn agent_log(id: &str, offset_s: u64) -> (LoadReport, Vec<u8>) {
        let mut report = sample::report(Model::Concurrency);
        report.started_at_unix_ms += offset_s * 1000;
        let agent = &mut report.agents[0];
        agent.id = id.into();
        agent.window_start_unix_us += offset_s * 1_000_000;
        agent.window_end_unix_us = agent.window_start_unix_us + 2_000_000;
        let log = Hlog.export(&report).unwrap();
        (report, log)
    }

    #[test]
    fn merging_agents_adds_histograms_per_second_and_keeps_their_windows() {
        let (a, one) = agent_log("a", 0);
        let (_, two) = agent_log("b", 0);
        let (_, three) = agent_log("c", 1);
        let merged_log = merge(&[&one, &two, &three]).unwrap();
        let merged = read(&merged_log).unwrap();
        assert_eq!(merged.len(), 2, "seconds 0 and 1");
        assert_eq!(merged[0].histogram.len(), 2000);
        assert_eq!(merged[1].histogram.len(), 1000);
        let mut expected = read(&one).unwrap()[0].histogram.clone();
        expected.add(&read(&two).unwrap()[0].histogram).unwrap();
        assert_eq!(merged[0].histogram, expected, "merging is exact");
        assert_eq!(total(&merged).unwrap().len(), 3000);
        assert_eq!(span(&merged), Duration::from_secs(2));
        let agents = read_agents(&merged_log).unwrap();
        assert_eq!(agents.iter().map(|agent| agent.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(read_agents(&one).unwrap(), a.agents, "the header carries the absolute window");
    }

    #[test]
    fn merging_refuses_the_same_log_twice_and_disjoint_windows() {
        let (_, one) = agent_log("a", 0);
        assert!(matches!(merge(&[&one, &one]), Err(LoadError::DuplicateAgent { .. })));
        let (_, late) = agent_log("late", 2);
        let error = merge(&[&one, &late]).unwrap_err().to_string();
        assert!(error.contains("\"late\"") && error.contains("\"a\""), "{error}");
    }
}
