//! [`FindingsFile`]: the run's [`Findings`] as data, written as `findings.json` beside results.json, so that a CI
//! job reads "which model for async I/O" with `jq` instead of parsing the page. Targets are named, not indexed;
//! every figure keeps its range over the repetitions. The schema is committed as `schema/findings.schema.json`.

use results::{Family, RunResults};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::answer::AnswerRow;
use crate::claims::{Check, Claim, Finding};
use crate::endpoint::EndpointKind;
use crate::verdict::{Basis, Call, Subject, Verdict};
use crate::{Findings, RunView};

/// Bumped when a field changes meaning or disappears; adding an optional field keeps the version.
pub const FINDINGS_SCHEMA_VERSION: u32 = 1;

/// The file name beside results.json.
pub const FINDINGS_FILE: &str = "findings.json";

/// What a run found: the answer table, the verdicts it reads, the article's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FindingsFile {
    /// [`FINDINGS_SCHEMA_VERSION`] of the program that wrote the file.
    pub schema_version: u32,
    /// The run's id, as in its results.json.
    pub run_id: String,
    /// True when the run was interrupted (some phases are missing).
    pub partial: bool,
    /// One row per kind of workload, in the first screen's order.
    pub answer: Vec<AnswerEntry>,
    pub verdicts: Vec<VerdictEntry>,
    /// Empty when no target has a role in the article's claims.
    pub claims: Vec<ClaimEntry>,
}

/// One row of the answer table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnswerEntry {
    /// Stable key of the workload: cpu, memory, blocking_io, async_io, locust_mix.
    pub kind: WorkloadKind,
    /// The row's words: "CPU-bound", "async I/O", "the article's Locust mix".
    pub workload: String,
    /// The targets to use: the best alone on a lead, the best and those level with it otherwise; empty when the
    /// run did not measure the workload.
    #[serde(rename = "use")]
    pub use_targets: Vec<String>,
    /// The lead over the runner-up with its range, "level: …", or why nothing is said.
    pub lead: String,
    /// The call behind `lead`; None when the run did not measure the workload.
    pub call: Option<CallKind>,
    /// `use` in uvicorn/gunicorn terms.
    pub python: Vec<String>,
    /// Index into `verdicts` of the verdict the row reads.
    pub verdict: Option<usize>,
}

/// The workloads of the answer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    Cpu,
    Memory,
    BlockingIo,
    AsyncIo,
    LocustMix,
}

/// What a ranking says once the ranges over repetitions are taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// No target, or only one, has figures.
    Alone,
    /// The best target's range overlaps no other target's.
    Lead,
    /// The best target's range overlaps others': level with them.
    Level,
    /// Fewer repetitions than a lead needs.
    TooFewRepetitions,
}

/// The verdict on one endpoint or mixed phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerdictEntry {
    /// "/cpu-intensive (CPU-bound)".
    pub title: String,
    /// The endpoint judged; None for a phase mixing several.
    pub path: Option<String>,
    /// The phase the verdict judged on.
    pub phase: String,
    /// The figure ranked: throughput (req/s, higher is better) or p99_latency (µs, lower is better).
    pub basis: BasisKind,
    pub call: CallKind,
    /// The best target, then those level with it (for a level call).
    pub best: Option<String>,
    pub level_with: Vec<String>,
    /// Best first, by median.
    pub ranking: Vec<RankEntry>,
    /// Targets without figures in the phase.
    pub missing: Vec<String>,
    /// The verdict in words, as the page prints it.
    pub sentence: String,
}

/// The figure a verdict ranks on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BasisKind {
    Throughput,
    P99Latency,
    /// The highest open-loop rate sustained with the phase's latency objective met (req/s).
    Capacity,
}

/// One target's figure in a verdict: the median over the repetitions and their range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RankEntry {
    pub target: String,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub repetitions: usize,
    /// CPU cores used on average (median over the repetitions).
    pub cpu_cores: Option<f64>,
    /// Failed requests as a share (0..=1) of all, over every repetition.
    pub failure_ratio: f64,
    /// p99_latency basis: a repetition's p99 landed among requests that had no answer (timed out, or in flight at
    /// the close for longer than the slowest answer), so the figures are lower bounds. Absent when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub lower_bound: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One of the article's claims, checked for each family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimEntry {
    pub number: u8,
    pub statement: String,
    pub checks: Vec<CheckEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckEntry {
    pub family: Family,
    pub finding: FindingKind,
    /// The figures behind the finding, or why it could not be checked.
    pub evidence: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Holds,
    Partly,
    DoesNotHold,
    NotMeasured,
}

impl FindingsFile {
    pub fn new(view: &RunView<'_>, findings: &Findings) -> FindingsFile {
        let results: &RunResults = view.results;
        FindingsFile {
            schema_version: FINDINGS_SCHEMA_VERSION,
            run_id: results.run_id.clone(),
            partial: results.partial,
            answer: findings.answer.iter().map(|row| answer_entry(view, findings, row)).collect(),
            verdicts: findings.verdicts.iter().map(|verdict| verdict_entry(view, verdict)).collect(),
            claims: findings.claims.iter().map(claim_entry).collect(),
        }
    }

    /// Pretty JSON with one trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The JSON Schema of this file, as committed in `crates/analysis/schema/findings.schema.json`.
    pub fn json_schema() -> serde_json::Value {
        schemars::schema_for!(FindingsFile).to_value()
    }
}

fn answer_entry(view: &RunView<'_>, findings: &Findings, row: &AnswerRow) -> AnswerEntry {
    let verdict = row.verdict.map(|index| &findings.verdicts[index]);
    AnswerEntry {
        kind: row.kind.map_or(WorkloadKind::LocustMix, workload_kind),
        workload: row.workload.clone(),
        use_targets: names(view, &row.models),
        lead: row.lead.clone(),
        call: verdict.filter(|_| !row.models.is_empty()).map(|verdict| call_kind(&verdict.call)),
        python: row.python.clone(),
        verdict: row.verdict,
    }
}

fn workload_kind(kind: EndpointKind) -> WorkloadKind {
    match kind {
        EndpointKind::Cpu => WorkloadKind::Cpu,
        EndpointKind::Memory => WorkloadKind::Memory,
        EndpointKind::BlockingIo => WorkloadKind::BlockingIo,
        // The answer table has rows for these four kinds and the Locust mix only (answer::rows).
        _ => WorkloadKind::AsyncIo,
    }
}

fn call_kind(call: &Call) -> CallKind {
    match call {
        Call::Alone => CallKind::Alone,
        Call::Lead => CallKind::Lead,
        Call::Level(_) => CallKind::Level,
        Call::TooFewRepetitions => CallKind::TooFewRepetitions,
    }
}

fn verdict_entry(view: &RunView<'_>, verdict: &Verdict) -> VerdictEntry {
    let level_with: Vec<String> = match &verdict.call {
        Call::Level(positions) => {
            positions.iter().map(|&p| view.target_name(verdict.ranking[p].target).to_owned()).collect()
        }
        _ => Vec::new(),
    };
    VerdictEntry {
        title: verdict.subject.title(),
        path: match &verdict.subject {
            Subject::Endpoint { path, .. } => Some(path.clone()),
            Subject::Mix { .. } => None,
        },
        phase: view.phases[verdict.phase].name.to_owned(),
        basis: match verdict.basis {
            Basis::Throughput => BasisKind::Throughput,
            Basis::P99Latency => BasisKind::P99Latency,
            Basis::Capacity => BasisKind::Capacity,
        },
        call: call_kind(&verdict.call),
        best: verdict.best().map(|target| view.target_name(target).to_owned()),
        level_with,
        ranking: verdict
            .ranking
            .iter()
            .map(|entry| RankEntry {
                target: view.target_name(entry.target).to_owned(),
                median: entry.value.median,
                min: entry.value.min,
                max: entry.value.max,
                repetitions: entry.value.n,
                cpu_cores: entry.cpu_cores.map(|spread| spread.median),
                failure_ratio: entry.failure_ratio,
                lower_bound: entry.lower_bound,
            })
            .collect(),
        missing: names(view, &verdict.missing),
        sentence: verdict.sentence(view),
    }
}

fn claim_entry(claim: &Claim) -> ClaimEntry {
    ClaimEntry {
        number: claim.number,
        statement: claim.statement.to_owned(),
        checks: claim.checks.iter().map(check_entry).collect(),
    }
}

fn check_entry(check: &Check) -> CheckEntry {
    CheckEntry {
        family: check.family,
        finding: match check.finding {
            Finding::Holds => FindingKind::Holds,
            Finding::Partly => FindingKind::Partly,
            Finding::DoesNotHold => FindingKind::DoesNotHold,
            Finding::NotMeasured => FindingKind::NotMeasured,
        },
        evidence: check.evidence.clone(),
    }
}

fn names(view: &RunView<'_>, targets: &[usize]) -> Vec<String> {
    targets.iter().map(|&target| view.target_name(target).to_owned()).collect()
}
