//! Results in, findings out: which target leads on which workload and by how much (verdicts and level calls), the
//! article's claims with their evidence, the answer table and the figures each sentence quotes. Pure functions over
//! a [`results::RunResults`]; the report draws what is decided here and never judges again, and
//! [`findings_file::FindingsFile`] is the same answer as data (`findings.json`).

pub mod answer;
pub mod claims;
pub mod data;
pub mod endpoint;
pub mod findings_file;
pub mod format;
pub mod select;
pub mod starvation;
pub mod tables;
pub mod verdict;
pub mod worker_spread;

pub use data::{LatencyAt, RunView, Spread};
pub use findings_file::FindingsFile;

use answer::AnswerRow;
use claims::Claim;
use verdict::Verdict;

/// What a run found, decided once: the HTML page, summary.md and findings.json are drawn from the same value.
#[derive(Debug, Clone)]
pub struct Findings {
    /// Endpoints in the order CPU, memory, blocking I/O, async I/O, others; then mixed phases.
    pub verdicts: Vec<Verdict>,
    /// One row per kind of workload, the ones the run lacks included.
    pub answer: Vec<AnswerRow>,
    /// The article's claims checked for Python and for Rust; empty when no target has a role in them.
    pub claims: Vec<Claim>,
}

impl Findings {
    pub fn of(view: &RunView<'_>) -> Findings {
        let verdicts = verdict::verdicts(view);
        let answer = answer::rows(view, &verdicts);
        let claims = claims::check_claims(view);
        Findings { verdicts, answer, claims }
    }
}
