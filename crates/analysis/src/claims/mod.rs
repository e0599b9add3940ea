//! The article's eight claims ("Gunicorn & Uvicorn", 2024-05-30), each checked against the run's data for the
//! Python peers and for the Rust models that answer them, with the figures behind every finding. A claim reads
//! "not measured" only when the suite lacks the phase it needs, and then says which suite measures it. The verdict
//! sections of report.html and summary.md list them after the per-endpoint verdicts.

mod balance;
mod capacity;
mod cores;
mod crash;
mod memory;
pub(crate) mod roles;
#[cfg(test)]
mod tests;

use results::Family;

use crate::data::{RunView, Spread};
use crate::format;
use crate::select;

/// The article's title and date, cited once on the page.
pub const ARTICLE: &str = "“Gunicorn & Uvicorn” (2024-05-30)";

/// A CPU-bound process uses "more than one core" above this (the sampler's 100 ms ticks and the runtime's own
/// threads add a few percent to a process held to one core by a lock).
const ONE_CORE: f64 = 1.25;

/// Below this a process was not held back by its CPU: the load, not the cores, set its pace.
const CPU_BOUND: f64 = 0.75;

/// What the data says about one claim for one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    Holds,
    /// The mechanism the claim names is at work, but a figure it implies is not there (said in the evidence).
    Partly,
    DoesNotHold,
    NotMeasured,
}

/// One claim checked for one family.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub family: Family,
    pub finding: Finding,
    /// The figures behind the finding, or why it could not be checked and which suite checks it.
    pub evidence: String,
}

/// One of the article's claims with its checks for Python and for Rust.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Its place in the article's order, 1 to 8.
    pub number: u8,
    pub statement: &'static str,
    /// A few words for the first screen's claims table.
    pub short: &'static str,
    pub checks: Vec<Check>,
}

type CheckFn = fn(&RunView<'_>, Family) -> Check;

/// A claim as the article states it, its few-word title, and how it is checked.
type ClaimSpec = (&'static str, &'static str, CheckFn);

/// The eight claims in the article's order, and how each is checked.
const CLAIMS: [ClaimSpec; 8] = [
    (
        "With w sync workers, w requests run at once and the rest wait in a queue: capacity ≈ w / service time, and \
         latency grows with the place in the queue",
        "Sync workers queue: capacity ≈ workers / service time",
        capacity::sync_workers_queue,
    ),
    (
        "A crashed gunicorn worker leaves the other workers serving; but gunicorn uses more memory, the more \
         workers the more",
        "A crashed worker leaves the others serving; more workers, more memory",
        crash::crash_and_memory,
    ),
    (
        "One uvicorn process uses less memory than gunicorn with its workers",
        "One uvicorn process uses less memory than gunicorn",
        memory::one_process_uses_less,
    ),
    (
        "Plain `def` endpoints still overlap blocking I/O under uvicorn, up to its thread pool (40)",
        "Plain def endpoints overlap blocking I/O up to the thread pool",
        capacity::thread_pool_overlaps,
    ),
    (
        "uvicorn alone cannot use a second core for CPU-bound work",
        "uvicorn alone uses one core for CPU-bound work",
        cores::single_loop_one_core,
    ),
    (
        "gunicorn -k UvicornWorker uses the cores and serves more than uvicorn alone",
        "gunicorn + UvicornWorker uses the cores, serves more",
        cores::prefork_scales,
    ),
    (
        "gunicorn spreads requests evenly over its workers",
        "gunicorn spreads requests evenly over workers",
        balance::evenly,
    ),
    (
        "-w should follow the core count: throughput stops rising past the cores",
        "-w should follow the core count",
        cores::workers_follow_cores,
    ),
];

/// Whether the article's claims concern this run: some target has a role in them (declared in the suite, or a
/// built-in model or Python server recognised as uvicorn, gunicorn + UvicornWorker or gunicorn's sync workers).
/// A comparison of other servers prints no claim rather than eight "not measured".
pub fn apply(report: &RunView<'_>) -> bool {
    report.targets.iter().any(|target| roles::role(target.result).is_some())
}

/// Every claim, checked for Python and for Rust; none when no target has a role in them ([`apply`]).
pub fn check_claims(report: &RunView<'_>) -> Vec<Claim> {
    if !apply(report) {
        return Vec::new();
    }
    CLAIMS
        .iter()
        .enumerate()
        .map(|(index, (statement, short, check))| Claim {
            number: index as u8 + 1,
            statement,
            short,
            checks: [Family::Python, Family::Rust].into_iter().map(|family| check(report, family)).collect(),
        })
        .collect()
}

impl Finding {
    pub fn label(self) -> &'static str {
        match self {
            Finding::Holds => "holds",
            Finding::Partly => "holds in part",
            Finding::DoesNotHold => "does not hold",
            Finding::NotMeasured => "not measured in this run",
        }
    }

    /// The word of the first screen's claims table.
    pub fn short_label(self) -> &'static str {
        match self {
            Finding::Holds => "holds",
            Finding::Partly => "in part",
            Finding::DoesNotHold => "does not hold",
            Finding::NotMeasured => "not measured",
        }
    }

    /// Two halves of one claim: both hold, neither holds, or in part; a half not measured leaves the other's word.
    fn and(self, other: Finding) -> Finding {
        match (self, other) {
            (Finding::NotMeasured, only) | (only, Finding::NotMeasured) => only.at_most_partly(),
            (Finding::Holds, Finding::Holds) => Finding::Holds,
            (Finding::DoesNotHold, Finding::DoesNotHold) => Finding::DoesNotHold,
            _ => Finding::Partly,
        }
    }

    /// Half a claim checked cannot make all of it hold.
    fn at_most_partly(self) -> Finding {
        if self == Finding::Holds {
            Finding::Partly
        } else {
            self
        }
    }

    /// Holds when both parts of a claim's figure are there, in part with one, not with none.
    fn of(first: bool, second: bool) -> Finding {
        match (first, second) {
            (true, true) => Finding::Holds,
            (false, false) => Finding::DoesNotHold,
            _ => Finding::Partly,
        }
    }
}

impl Check {
    /// "Python: holds - py-uvicorn used 1.01 cores ..."
    pub fn sentence(&self) -> String {
        format!("{}: {} - {}", family_name(self.family), self.finding.label(), self.evidence)
    }

    fn new(family: Family, finding: Finding, evidence: impl Into<String>) -> Check {
        Check { family, finding, evidence: evidence.into() }
    }
}

fn family_name(family: Family) -> &'static str {
    family.label()
}

/// A claim this run cannot check: what it lacks, and the shipped suite that has it.
fn not_measured(family: Family, what: impl std::fmt::Display) -> Check {
    let suites = match family {
        // Claims are checked for the Python peers and the Rust models only; an external server has no role.
        Family::Python | Family::External => "`make bench-python` (bench-suite/python-peers.toml) measures it",
        Family::Rust => {
            "`make bench` (bench-suite/default.toml) and `make bench-python` (bench-suite/python-peers.toml) \
             measure it"
        }
    };
    Check::new(family, Finding::NotMeasured, format!("{what}; {suites}"))
}

/// The phase the shared selector picks on `path` among closed-loop phases where `find` finds a target, with it.
fn closed_phase_with(
    report: &RunView<'_>,
    path: &str,
    find: impl Fn(usize) -> Option<usize>,
) -> Option<(usize, usize)> {
    let phase = select::best_phase(report, path, |phase| select::closed_loop(report, phase) && find(phase).is_some())?;
    Some((phase, find(phase)?))
}

fn req_per_s(report: &RunView<'_>, target: usize, phase: usize) -> f64 {
    report.throughput(target, phase).map_or(0.0, |spread| spread.median)
}

/// How far the ratio of `over`'s throughput to `under`'s in `phase` rests on repetitions: the range it took (from
/// the lowest of one over the highest of the other to the reverse), or that each ran once and a ratio near a
/// claim's threshold could fall the other way on the next run.
fn ratio_range(report: &RunView<'_>, over: usize, under: usize, phase: usize) -> String {
    let (Some(over), Some(under)) = (report.throughput(over, phase), report.throughput(under, phase)) else {
        return "no runs to range it over".to_owned();
    };
    spread_of_ratio(&over, &under)
}

fn spread_of_ratio(over: &Spread, under: &Spread) -> String {
    let runs = over.n.min(under.n);
    if runs < 2 {
        return "one run each, no spread to judge it by".to_owned();
    }
    let low = over.min / under.max.max(f64::MIN_POSITIVE);
    let high = over.max / under.min.max(f64::MIN_POSITIVE);
    format!("{}-{} over {runs} runs", format::ratio(low), format::ratio(high))
}

fn cores_used(report: &RunView<'_>, target: usize, phase: usize) -> f64 {
    report.cpu_cores(target, phase).map_or(0.0, |spread| spread.median)
}

/// The upstream's delay in seconds: the service time of the I/O endpoints.
fn upstream_delay_s(report: &RunView<'_>) -> f64 {
    report.results.upstream.delay_ms / 1000.0
}
