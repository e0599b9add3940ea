//! Files framed into a text stream: a load agent whose only reliable output is its log (a Kubernetes pod read
//! back with `kubectl logs`) writes its JSON report and .hlog as marked base64 lines, and [`read`] pulls them back
//! out exactly. Every line carries the marker, agent and file name, so prefixes (`kubectl logs --prefix`,
//! timestamps), other output in between, and the lines of several agents interleaved do not disturb it; a frame
//! cut short is an error, never a silent loss.
//!
//! ```text
//! rustcorn-frame v1 agent-0 report.json begin 5123
//! rustcorn-frame v1 agent-0 report.json 0 ewogICJtb2RlbCI6ICJjb25jdXJyZW5jeSIsCiAgInN0YXJ0ZWRfYXRf...
//! rustcorn-frame v1 agent-0 report.json end 68
//! ```

use std::collections::BTreeMap;
use std::fmt::Write;

use base64::Engine;

/// Starts every framed line.
pub const MARKER: &str = "rustcorn-frame v1";

/// Base64 characters per data line: short enough for any log pipeline's line limit.
const LINE_CHARS: usize = 76;

/// One framed file, as written by one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub agent: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame {agent}/{name}: {reason}")]
    Broken { agent: String, name: String, reason: String },
    #[error("frame line {line}: {reason}")]
    BadLine { line: usize, reason: String },
}

/// Frames `bytes` as file `name` of `agent` (both without whitespace): begin line, base64 lines, end line.
pub fn write(agent: &str, name: &str, bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let chunks: Vec<&str> = encoded.as_bytes().chunks(LINE_CHARS).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    let mut text = String::with_capacity(encoded.len() + (chunks.len() + 2) * (MARKER.len() + 40));
    let _ = writeln!(text, "{MARKER} {agent} {name} begin {}", bytes.len());
    for (index, chunk) in chunks.iter().enumerate() {
        let _ = writeln!(text, "{MARKER} {agent} {name} {index} {chunk}");
    }
    let _ = writeln!(text, "{MARKER} {agent} {name} end {}", chunks.len());
    text
}

/// A frame being read: its announced size and the data lines seen so far, by sequence number.
#[derive(Default)]
struct Partial {
    size: Option<usize>,
    lines: BTreeMap<usize, String>,
    end: Option<usize>,
}

/// Every complete frame in `log`, in the order their begin lines appear. Lines without the marker are skipped; a
/// frame with a missing, repeated or extra line, a wrong size, or bad base64 is an error naming it.
pub fn read(log: &str) -> Result<Vec<Frame>, FrameError> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut partials: BTreeMap<(String, String), Partial> = BTreeMap::new();
    for (number, line) in log.lines().enumerate() {
        let Some(at) = line.find(MARKER) else { continue };
        let bad = |reason: &str| FrameError::BadLine { line: number + 1, reason: reason.to_owned() };
        let mut words = line[at + MARKER.len()..].split_whitespace();
        let (Some(agent), Some(name), Some(kind), Some(value), None) =
            (words.next(), words.next(), words.next(), words.next(), words.next())
        else {
            return Err(bad("expected: AGENT NAME begin|SEQ|end VALUE"));
        };
        let key = (agent.to_owned(), name.to_owned());
        let partial = partials.entry(key.clone()).or_default();
        let number_of = |text: &str| text.parse::<usize>().map_err(|_| bad("not a number"));
        let repeated = |what: &str| broken(&key, &format!("{what} appears twice (the same log given twice?)"));
        match kind {
            "begin" if partial.size.is_some() => return Err(repeated("the begin line")),
            "begin" => {
                partial.size = Some(number_of(value)?);
                order.push(key);
            }
            "end" if partial.end.is_some() => return Err(repeated("the end line")),
            "end" => partial.end = Some(number_of(value)?),
            sequence => {
                if partial.lines.insert(number_of(sequence)?, value.to_owned()).is_some() {
                    return Err(repeated(&format!("line {sequence}")));
                }
            }
        }
    }
    order.into_iter().map(|key| assemble(&key, partials.remove(&key).unwrap_or_default())).collect()
}

fn assemble(key: &(String, String), partial: Partial) -> Result<Frame, FrameError> {
    let Some(lines) = partial.end else {
        return Err(broken(key, &format!("cut short: no end line after {} data lines", partial.lines.len())));
    };
    let in_order = partial.lines.keys().copied().eq(0..lines);
    if !in_order {
        return Err(broken(key, &format!("has data lines {:?}, expected 0..{lines}", partial.lines.keys())));
    }
    let encoded: String = partial.lines.into_values().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|error| broken(key, &format!("bad base64: {error}")))?;
    let size = partial.size.unwrap_or_default();
    if bytes.len() != size {
        return Err(broken(key, &format!("holds {} bytes, its begin line announced {size}", bytes.len())));
    }
    Ok(Frame { agent: key.0.clone(), name: key.1.clone(), bytes })
}

fn broken(key: &(String, String), reason: &str) -> FrameError {
    FrameError::Broken { agent: key.0.clone(), name: key.1.clone(), reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(size: usize) -> Vec<u8> {
        (0..size).map(|i| (i * 7 % 256) as u8).collect()
    }

    #[test]
    fn round_trips_any_bytes_among_other_lines_and_prefixes() {
        let (one, two) = (payload(1000), payload(57));
        let mut log = String::from("Summary (Concurrency model):\n  Requests: 12\n");
        for line in write("agent-0", "report.json", &one).lines() {
            log.push_str(&format!("[pod/load-0-abc/agent] 2026-05-01T12:00:01.5Z {line}\n"));
        }
        log.push_str(&write("agent-1", "report.hlog", &two));
        log.push_str(&write("agent-2", "empty", b""));
        let frames = read(&log).unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0], Frame { agent: "agent-0".into(), name: "report.json".into(), bytes: one });
        assert_eq!(frames[1].bytes, two);
        assert_eq!(frames[2].bytes, b"");
        assert!(write("a", "b", &payload(1000)).lines().all(|line| line.len() <= MARKER.len() + 90));
    }

    #[test]
    fn interleaved_agents_are_pulled_apart() {
        let a = write("a", "f", &payload(500));
        let b = write("b", "f", &payload(300));
        let mut mixed = String::new();
        let (mut a_lines, mut b_lines) = (a.lines(), b.lines());
        loop {
            let (x, y) = (a_lines.next(), b_lines.next());
            if x.is_none() && y.is_none() {
                break;
            }
            for line in [x, y].into_iter().flatten() {
                mixed.push_str(line);
                mixed.push('\n');
            }
        }
        let frames = read(&mixed).unwrap();
        assert_eq!((frames[0].bytes.len(), frames[1].bytes.len()), (500, 300));
    }

    #[test]
    fn a_frame_cut_short_or_repeated_is_an_error_naming_it() {
        let full = write("agent-3", "report.json", &payload(400));
        let lines: Vec<&str> = full.lines().collect();
        let without_end = lines[..lines.len() - 1].join("\n");
        let error = read(&without_end).unwrap_err().to_string();
        assert!(error.contains("agent-3/report.json") && error.contains("cut short"), "{error}");
        let mut missing_middle = lines.clone();
        missing_middle.remove(2);
        assert!(read(&missing_middle.join("\n")).unwrap_err().to_string().contains("expected 0..8"));
        let twice = format!("{full}{full}");
        assert!(read(&twice).unwrap_err().to_string().contains("twice"));
        let garbled = full.replace(" begin 400", " begin 401");
        assert!(read(&garbled).unwrap_err().to_string().contains("announced 401"));
        assert!(matches!(read("rustcorn-frame v1 only-two words"), Err(FrameError::BadLine { line: 1, .. })));
    }
}
