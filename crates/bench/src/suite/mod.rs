//! Suites: the TOML file naming targets, load phases, upstream settings, repetitions and the CPU plan
//! (documented field by field in bench-suite/README.md). [`Suite::load`] reads and checks one; every error names
//! the file, line and field.

mod capacity;
mod error;
mod phase;
mod raw;

mod request;
mod target;

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

pub use crate::results::redact::redact_header_values;
pub use capacity::{CapacitySpec, PRECISION};
pub use error::{Location, SuiteError};
pub use phase::{LoadSpec, PhaseSpec, TaskSpec};
use raw::{CoreChoice, RawCpu, RawSuite, RawUpstream};
pub use target::{Launch, TargetSpec};

/// Default time a target gets to become ready.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time between SIGTERM and SIGKILL when a target is stopped.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);
/// Default per-request timeout of the load generator.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A checked suite, ready to plan and run.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub description: Option<String>,
    pub path: PathBuf,
    /// The file's text, kept for the results and for locating late errors.
    pub text: String,
    /// The suite's `repetitions`: what a phase without its own runs.
    pub repetitions: u32,
    pub upstream: UpstreamSpec,
    pub cpu: CpuSpec,
    pub targets: Vec<TargetSpec>,
    /// Phases in run order, sweeps already expanded.
    pub phases: Vec<PhaseSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamSpec {
    pub delay: Duration,
    pub jitter: Duration,
    pub body_bytes: u64,
    /// HTTPS with a CA made for the run, which every target is given to trust.
    pub tls: bool,
}

/// The suite's CPU plan before it meets the machine's cores (see [`crate::pinning`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuSpec {
    pub target_cores: TargetCores,
    pub load_cores: Option<Located<Vec<u32>>>,
    pub upstream_cores: Option<Located<Vec<u32>>>,
    /// Load generator threads; default one per load core.
    pub load_threads: Option<usize>,
}

/// How targets are pinned unless a target says otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TargetCores {
    /// One core for targets that are single-threaded by design, every core for the others.
    #[default]
    Auto,
    /// Every online core.
    All,
    List(Located<Vec<u32>>),
}

/// A value with the place in the suite it came from, for errors found after parsing (e.g. a core not online).
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub location: Location,
    pub field: &'static str,
}

impl<T> Located<T> {
    pub fn error(&self, message: impl Into<String>) -> SuiteError {
        SuiteError::Invalid {
            location: self.location.clone(),
            field: Some(self.field.to_owned()),
            message: message.into(),
        }
    }
}

/// Reads the suite file at `path` and turns it into a checked [`Suite`]; the error names file, line and field.
impl Suite {
    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| SuiteError::Read { path: path.to_owned(), source })?;
        Suite::parse(path, text)
    }

    /// Checks `text` as the contents of `path` (relative `cwd`s resolve against `path`'s folder).
    pub fn parse(path: &Path, text: String) -> Result<Suite, SuiteError> {
        let raw: RawSuite = toml::from_str(&text).map_err(|error| SuiteError::from_toml(path, &text, &error))?;
        let context = Context { path, text: &text };
        let name = raw.name.clone().unwrap_or_else(|| file_stem(path));
        let repetitions = context.repetitions(raw.repetitions.as_ref())?;
        let upstream = upstream_spec(&raw.upstream);
        let cpu = context.cpu_spec(&raw.cpu)?;
        let targets = context.targets(&raw.targets)?;
        let phases = context.phases(&raw.phases, &targets, repetitions)?;
        Ok(Suite {
            name,
            description: raw.description,
            path: path.to_owned(),
            repetitions,
            upstream,
            cpu,
            targets,
            phases,
            text,
        })
    }

    /// The suite file's folder, against which relative paths in it resolve.
    pub fn dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_owned).unwrap_or_default()
    }

    /// Target x phase x repetition runs in this suite.
    pub fn run_count(&self) -> usize {
        self.phases
            .iter()
            .map(|phase| self.targets.iter().filter(|t| phase.includes(&t.name)).count() * phase.repetitions as usize)
            .sum()
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_else(|| "suite".to_owned())
}

fn upstream_spec(raw: &RawUpstream) -> UpstreamSpec {
    UpstreamSpec {
        delay: raw.delay.map_or(Duration::from_millis(100), |d| d.0),
        jitter: raw.jitter.map_or(Duration::ZERO, |d| d.0),
        body_bytes: raw.body_bytes.unwrap_or(15_000),
        tls: raw.tls.unwrap_or(false),
    }
}

/// The file being checked: builds located errors.
struct Context<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Context<'_> {
    fn error(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> SuiteError {
        SuiteError::at(self.path, self.text, span, Some(field), message)
    }

    fn located<T: Clone>(&self, spanned: &Spanned<T>, field: &'static str) -> Located<T> {
        Located {
            value: spanned.get_ref().clone(),
            location: Location::at(self.path, self.text, spanned.span().start),
            field,
        }
    }

    pub(super) fn repetitions(&self, raw: Option<&Spanned<u32>>) -> Result<u32, SuiteError> {
        match raw {
            None => Ok(1),
            Some(spanned) if *spanned.get_ref() == 0 => Err(self.error(spanned.span(), "repetitions", "must be >= 1")),
            Some(spanned) => Ok(*spanned.get_ref()),
        }
    }

    /// `target_cores` (of `[cpu]` or of a phase): "auto", "all" or a list of cores.
    fn target_cores(&self, spanned: &Spanned<CoreChoice>) -> Result<TargetCores, SuiteError> {
        match spanned.get_ref() {
            CoreChoice::Word(word) if word == "auto" => Ok(TargetCores::Auto),
            CoreChoice::Word(word) if word == "all" => Ok(TargetCores::All),
            CoreChoice::Word(word) => {
                let message = format!("unknown value {word:?}: write \"auto\", \"all\" or a list like [0]");
                Err(self.error(spanned.span(), "target_cores", message))
            }
            CoreChoice::List(cores) if cores.is_empty() => {
                Err(self.error(spanned.span(), "target_cores", "empty core list"))
            }
            CoreChoice::List(cores) => {
                let location = Location::at(self.path, self.text, spanned.span().start);
                Ok(TargetCores::List(Located { value: cores.clone(), location, field: "target_cores" }))
            }
        }
    }

    fn cpu_spec(&self, raw: &RawCpu) -> Result<CpuSpec, SuiteError> {
        let target_cores = match &raw.target_cores {
            None => TargetCores::Auto,
            Some(spanned) => self.target_cores(spanned)?,
        };
        for (spanned, field) in [(&raw.load_cores, "load_cores"), (&raw.upstream_cores, "upstream_cores")] {
            if let Some(spanned) = spanned {
                if spanned.get_ref().is_empty() {
                    return Err(self.error(spanned.span(), field, "empty core list"));
                }
            }
        }
        if let Some(threads) = &raw.load_threads {
            if *threads.get_ref() == 0 {
                return Err(self.error(threads.span(), "load_threads", "must be >= 1"));
            }
        }
        Ok(CpuSpec {
            target_cores,
            load_cores: raw.load_cores.as_ref().map(|spanned| self.located(spanned, "load_cores")),
            upstream_cores: raw.upstream_cores.as_ref().map(|spanned| self.located(spanned, "upstream_cores")),
            load_threads: raw.load_threads.as_ref().map(|spanned| *spanned.get_ref()),
        })
    }

    fn targets(&self, raw: &Spanned<Vec<Spanned<raw::RawTarget>>>) -> Result<Vec<TargetSpec>, SuiteError> {
        if raw.get_ref().is_empty() {
            return Err(self.error(raw.span(), "targets", "the suite has no target"));
        }
        let mut names = BTreeSet::new();
        let mut targets = Vec::new();
        for spanned in raw.get_ref() {
            let target = target::check(self, spanned)?;
            if !names.insert(target.name.clone()) {
                let span = spanned.get_ref().name.span();
                return Err(self.error(span, "name", format!("target {:?} is defined twice", target.name)));
            }
            targets.push(target);
        }
        for (spanned, target) in raw.get_ref().iter().zip(&targets) {
            let (Some(original), Some(span)) = (&target.variant_of, spanned.get_ref().variant_of.as_ref()) else {
                continue;
            };
            if *original == target.name || !names.contains(original) {
                let known: Vec<&str> =
                    targets.iter().map(|t| t.name.as_str()).filter(|name| *name != target.name).collect();
                let message = format!("no other target is named {original:?} (targets: {})", known.join(", "));
                return Err(self.error(span.span(), "variant_of", message));
            }
        }
        Ok(targets)
    }
}

/// Names become file names and CSV labels.
pub(crate) const NAME_RULE: &str = "names use letters, digits, '-', '_' and '.' only";

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests;
