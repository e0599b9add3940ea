//! `rustcorn bench collect`: finds what load agents wrote (each agent's JSON report and .hlog) in `kubectl logs`
//! output files (as frames, see `loadgen::output::frames`), in plain files, or in directories of either, and
//! merges them exactly. Nothing is dropped silently: a cut frame, an agent without its report, or one agent found
//! twice is an error naming the agent and the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use loadgen::agent::{check_windows, Spread};
use loadgen::output::{frames, hlog};
use loadgen::{LoadError, LoadReport};

/// Names agents give their files: `AGENT.json` (the report) and `AGENT.hlog`.
const REPORT_SUFFIX: &str = ".json";
const HLOG_SUFFIX: &str = ".hlog";

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a load report (rustcorn load --json): {reason}", path.display())]
    NotAReport { path: PathBuf, reason: String },
    #[error("{}: not an interval log (rustcorn load --hlog): {reason}", path.display())]
    NotAnHlog { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Frames { path: PathBuf, source: frames::FrameError },
    #[error("{}: no agent output in it (no rustcorn-frame lines, not a .json report or .hlog)", path.display())]
    NothingIn { path: PathBuf },
    #[error("{}: a merged report of {agents} agents; collect the agents' own reports", path.display())]
    AlreadyMerged { path: PathBuf, agents: usize },
    #[error("agent {agent:?}: its {what} was found twice, in {} and in {}", first.display(), second.display())]
    Twice { agent: String, what: &'static str, first: PathBuf, second: PathBuf },
    #[error("agent {agent:?}: its .hlog is in {} but its JSON report is nowhere", hlog.display())]
    NoReport { agent: String, hlog: PathBuf },
    #[error("no agent output found in the inputs")]
    Nothing,
    #[error(transparent)]
    Merge(#[from] LoadError),
}

/// One agent's outputs, and where they were found.
#[derive(Debug, Clone)]
pub struct AgentOutput {
    pub agent: String,
    pub report: LoadReport,
    pub report_source: PathBuf,
    pub hlog: Option<Vec<u8>>,
}

/// The merged outputs: the report, the .hlog when every agent had one, and how far apart the agents started.
#[derive(Debug, Clone)]
pub struct Merged {
    pub report: LoadReport,
    pub hlog: Option<Vec<u8>>,
    pub spread: Spread,
}

/// Every agent's outputs in `inputs` (files, or directories whose files are read; hidden files are skipped).
pub fn gather(inputs: &[PathBuf]) -> Result<Vec<AgentOutput>, CollectError> {
    let mut found = Found::default();
    for path in expand(inputs)? {
        let bytes = std::fs::read(&path).map_err(|source| CollectError::Io { path: path.clone(), source })?;
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if name.ends_with(REPORT_SUFFIX) || name.ends_with(HLOG_SUFFIX) {
            found.add(&path, &name, bytes)?;
        } else {
            let framed = frames::read(&String::from_utf8_lossy(&bytes))
                .map_err(|source| CollectError::Frames { path: path.clone(), source })?;
            if framed.is_empty() {
                return Err(CollectError::NothingIn { path });
            }
            for frame in framed {
                found.add(&path, &frame.name, frame.bytes)?;
            }
        }
    }
    found.into_outputs()
}

/// Merges the agents' reports (and .hlog logs, when every agent has one) exactly; refuses windows that do not
/// overlap.
pub fn merge(outputs: &[AgentOutput]) -> Result<Merged, CollectError> {
    if outputs.is_empty() {
        return Err(CollectError::Nothing);
    }
    let reports: Vec<LoadReport> = outputs.iter().map(|output| output.report.clone()).collect();
    let report = loadgen::merge(&reports)?;
    let logs: Option<Vec<&[u8]>> = outputs.iter().map(|output| output.hlog.as_deref()).collect();
    let hlog = logs.map(|logs| hlog::merge(&logs)).transpose()?;
    let spread = check_windows(&report.agents)?;
    Ok(Merged { report, hlog, spread })
}

/// Files of the inputs, directories listed (not recursively), in name order.
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CollectError> {
    let mut files = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            files.push(input.clone());
            continue;
        }
        let io = |source| CollectError::Io { path: input.clone(), source };
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(input).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let hidden = path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                entries.push(path);
            }
        }
        entries.sort();
        files.extend(entries);
    }
    Ok(files)
}

/// Outputs found so far, by agent id: the report and the .hlog, each with the file it came from.
#[derive(Default)]
struct Found {
    reports: BTreeMap<String, (LoadReport, PathBuf)>,
    hlogs: BTreeMap<String, (Vec<u8>, PathBuf)>,
}

impl Found {
    /// Adds file `name` (`AGENT.json` or `AGENT.hlog`) read from `path`.
    fn add(&mut self, path: &Path, name: &str, bytes: Vec<u8>) -> Result<(), CollectError> {
        if let Some(stem) = name.strip_suffix(HLOG_SUFFIX) {
            let agents = hlog::read_agents(&bytes)
                .map_err(|error| CollectError::NotAnHlog { path: path.to_owned(), reason: error.to_string() })?;
            let agent = agents.first().map_or_else(|| stem.to_owned(), |agent| agent.id.clone());
            return insert_once(&mut self.hlogs, agent, ".hlog", (bytes, path.to_owned()));
        }
        let not_report = |reason: String| CollectError::NotAReport { path: path.to_owned(), reason };
        let report: LoadReport = serde_json::from_slice(&bytes).map_err(|error| not_report(error.to_string()))?;
        let agent = match report.agents.as_slice() {
            [agent] => agent.id.clone(),
            [] => name.strip_suffix(REPORT_SUFFIX).unwrap_or(name).to_owned(),
            agents => return Err(CollectError::AlreadyMerged { path: path.to_owned(), agents: agents.len() }),
        };
        insert_once(&mut self.reports, agent, "JSON report", (report, path.to_owned()))
    }

    fn into_outputs(mut self) -> Result<Vec<AgentOutput>, CollectError> {
        if let Some((agent, (_, hlog))) = self.hlogs.iter().find(|(agent, _)| !self.reports.contains_key(*agent)) {
            return Err(CollectError::NoReport { agent: agent.clone(), hlog: hlog.clone() });
        }
        if self.reports.is_empty() {
            return Err(CollectError::Nothing);
        }
        let outputs = self
            .reports
            .into_iter()
            .map(|(agent, (report, report_source))| {
                let hlog = self.hlogs.remove(&agent).map(|(bytes, _)| bytes);
                AgentOutput { agent, report, report_source, hlog }
            })
            .collect();
        Ok(outputs)
    }
}

fn insert_once<T>(
    map: &mut BTreeMap<String, (T, PathBuf)>,
    agent: String,
    what: &'static str,
    value: (T, PathBuf),
) -> Result<(), CollectError> {
    if let Some((_, first)) = map.get(&agent) {
        return Err(CollectError::Twice { agent, what, first: first.clone(), second: value.1 });
    }
    map.insert(agent, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen::output::{Exporter, Hlog, Json};
    use loadgen::AgentWindow;

    /// The sample load report as measured by agent `id`, its window 2 s from `start_s`.
    fn report(id: &str, start_s: u64) -> LoadReport {
        let mut report = crate::testing::results().targets[0].phases[0].load.clone();
        report.agents = vec![AgentWindow {
            id: id.into(),
            host: "box".into(),
            start_at_unix_us: Some(start_s * 1_000_000),
            window_start_unix_us: start_s * 1_000_000,
            window_end_unix_us: (start_s + 2) * 1_000_000,
            first_request_unix_us: Some(start_s * 1_000_000 + 700),
            requests: report.aggregated.count,
        }];
        report
    }

    /// What `rustcorn load --frames` prints for `report`: a summary line, then both files framed.
    fn agent_log(report: &LoadReport) -> String {
        let id = &report.agents[0].id;
        let json = Json.export(report).unwrap();
        let hlog = Hlog.export(report).unwrap();
        let mut log = format!("Summary of {id}\n");
        log.push_str(&frames::write(id, &format!("{id}.json"), &json));
        log.push_str(&frames::write(id, &format!("{id}.hlog"), &hlog));
        log
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rustcorn-collect-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn frames_in_a_prefixed_log_of_several_agents_merge_exactly() {
        let dir = scratch("frames");
        let (a, b) = (report("agent-0", 100), report("agent-1", 100));
        let prefixed: String = agent_log(&a).lines().map(|line| format!("[pod/load-0-x/agent] {line}\n")).collect();
        std::fs::write(dir.join("agents.log"), format!("{prefixed}{}", agent_log(&b))).unwrap();
        let outputs = gather(&[dir.join("agents.log")]).unwrap();
        assert_eq!(outputs.iter().map(|output| output.agent.as_str()).collect::<Vec<_>>(), ["agent-0", "agent-1"]);
        assert!(outputs.iter().all(|output| output.hlog.is_some()));
        let merged = merge(&outputs).unwrap();
        assert_eq!(merged.report.aggregated.count, a.aggregated.count + b.aggregated.count);
        assert_eq!(merged.report.agents.len(), 2);
        assert_eq!((merged.spread.agents, merged.spread.hosts, merged.spread.first_request_us), (2, 1, Some(0)));
        let hlog = merged.hlog.expect("both agents had an hlog");
        assert_eq!(hlog::read_agents(&hlog).unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_directory_of_agent_files_is_read_and_hidden_files_skipped() {
        let dir = scratch("volume");
        for id in ["agent-0", "agent-1", "agent-2"] {
            let report = report(id, 100);
            std::fs::write(dir.join(format!("{id}.json")), Json.export(&report).unwrap()).unwrap();
            std::fs::write(dir.join(format!("{id}.hlog")), Hlog.export(&report).unwrap()).unwrap();
        }
        std::fs::write(dir.join(".lock"), "not an output").unwrap();
        let outputs = gather(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(outputs.len(), 3);
        assert_eq!(merge(&outputs).unwrap().report.agents.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lost_or_doubled_outputs_are_errors_naming_the_agent_and_file() {
        let dir = scratch("errors");
        let log = dir.join("a.log");
        std::fs::write(&log, agent_log(&report("agent-0", 100))).unwrap();
        let error = gather(&[log.clone(), log.clone()]).unwrap_err().to_string();
        assert!(error.contains("\"agent-0\"") && error.contains("found twice"), "{error}");

        let cut = dir.join("cut.log");
        let text = agent_log(&report("agent-1", 100));
        std::fs::write(&cut, &text[..text.len() - 60]).unwrap();
        let error = gather(&[cut]).unwrap_err().to_string();
        assert!(error.contains("cut.log") && error.contains("agent-1/agent-1.hlog"), "{error}");

        let lonely = dir.join("agent-2.hlog");
        std::fs::write(&lonely, Hlog.export(&report("agent-2", 100)).unwrap()).unwrap();
        let error = gather(&[log.clone(), lonely]).unwrap_err().to_string();
        assert!(error.contains("\"agent-2\"") && error.contains("JSON report is nowhere"), "{error}");

        let other = dir.join("notes.txt");
        std::fs::write(&other, "nothing framed here\n").unwrap();
        assert!(matches!(gather(&[other]), Err(CollectError::NothingIn { .. })));

        let merged = dir.join("merged.json");
        let both = loadgen::merge(&[report("x", 100), report("y", 100)]).unwrap();
        std::fs::write(&merged, Json.export(&both).unwrap()).unwrap();
        assert!(matches!(gather(&[merged]), Err(CollectError::AlreadyMerged { agents: 2, .. })));

        let late = dir.join("late.log");
        std::fs::write(&late, agent_log(&report("late", 200))).unwrap();
        let error = merge(&gather(&[log, late]).unwrap()).unwrap_err().to_string();
        assert!(error.contains("did not run at the same time"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
