//! Suites: the TOML file naming targets, load phases, upstream settings, repetitions and the CPU plan
//! (documented field by field in bench-suite/README.md). [`Suite::load`] reads and checks one; every error names
//! the file, line and field.

mod error;
mod raw;
mod target;

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

pub use error::{Location, SuiteError};
use raw::{CoreChoice, OneOrMany, RawCpu, RawPhase, RawSuite, RawTask, RawUpstream};
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

/// One load phase (one point of a sweep).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpec {
    /// Unique in the suite; a sweep's points get a suffix (`-c10`, `-u5`, `-r200`).
    pub name: String,
    pub load: LoadSpec,
    pub duration: Duration,
    pub warmup: Duration,
    pub timeout: Duration,
    pub tasks: Vec<TaskSpec>,
    /// Targets this phase runs against; None: every target.
    pub targets: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadSpec {
    Users { users: u32, think: (Duration, Duration) },
    Concurrency { connections: u32 },
    Rate { per_second: f64, connections: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Label in the stats (Locust's Name column); the path and query unless the suite names it.
    pub name: String,
    /// Origin-form request target with the query string built from the suite's `query` table.
    pub path_and_query: String,
    pub weight: u32,
}

impl PhaseSpec {
    /// Whether `target` takes part in this phase.
    pub fn includes(&self, target: &str) -> bool {
        self.targets.as_ref().is_none_or(|names| names.iter().any(|name| name == target))
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
        let phases = context.phases(&raw.phases, &targets)?;
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
        let pairs: usize =
            self.phases.iter().map(|phase| self.targets.iter().filter(|t| phase.includes(&t.name)).count()).sum();
        pairs * self.repetitions as usize
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

    fn repetitions(&self, raw: Option<&Spanned<u32>>) -> Result<u32, SuiteError> {
        match raw {
            None => Ok(1),
            Some(spanned) if *spanned.get_ref() == 0 => Err(self.error(spanned.span(), "repetitions", "must be >= 1")),
            Some(spanned) => Ok(*spanned.get_ref()),
        }
    }

    fn cpu_spec(&self, raw: &RawCpu) -> Result<CpuSpec, SuiteError> {
        let target_cores = match &raw.target_cores {
            None => TargetCores::Auto,
            Some(spanned) => match spanned.get_ref() {
                CoreChoice::Word(word) if word == "auto" => TargetCores::Auto,
                CoreChoice::Word(word) if word == "all" => TargetCores::All,
                CoreChoice::Word(word) => {
                    let message = format!("unknown value {word:?}: write \"auto\", \"all\" or a list like [0]");
                    return Err(self.error(spanned.span(), "target_cores", message));
                }
                CoreChoice::List(cores) => {
                    let location = Location::at(self.path, self.text, spanned.span().start);
                    TargetCores::List(Located { value: cores.clone(), location, field: "target_cores" })
                }
            },
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
        Ok(targets)
    }

    fn phases(
        &self,
        raw: &Spanned<Vec<Spanned<RawPhase>>>,
        targets: &[TargetSpec],
    ) -> Result<Vec<PhaseSpec>, SuiteError> {
        if raw.get_ref().is_empty() {
            return Err(self.error(raw.span(), "phases", "the suite has no phase"));
        }
        let mut phases: Vec<PhaseSpec> = Vec::new();
        for spanned in raw.get_ref() {
            let phase = spanned.get_ref();
            for expanded in self.phase(phase, targets)? {
                if phases.iter().any(|existing| existing.name == expanded.name) {
                    let message = format!("phase {:?} is defined twice", expanded.name);
                    return Err(self.error(phase.name.span(), "name", message));
                }
                phases.push(expanded);
            }
        }
        Ok(phases)
    }

    /// One `[[phases]]` table: one phase, or one per value of a swept field.
    fn phase(&self, raw: &RawPhase, targets: &[TargetSpec]) -> Result<Vec<PhaseSpec>, SuiteError> {
        let name = raw.name.get_ref().trim();
        if !valid_name(name) {
            return Err(self.error(raw.name.span(), "name", NAME_RULE));
        }
        let loads = self.loads(raw)?;
        let tasks = self.tasks(&raw.tasks)?;
        let duration = raw.duration.0;
        if duration.is_zero() {
            return Err(self.field_error(raw, "duration", "must be > 0"));
        }
        let selected = match &raw.targets {
            None => None,
            Some(names) => Some(self.selected_targets(names, targets)?),
        };
        let timeout = raw.timeout.map_or(DEFAULT_REQUEST_TIMEOUT, |d| d.0);
        if timeout.is_zero() {
            return Err(self.field_error(raw, "timeout", "must be > 0"));
        }
        Ok(loads
            .into_iter()
            .map(|(suffix, load)| PhaseSpec {
                name: format!("{name}{suffix}"),
                load,
                duration,
                warmup: raw.warmup.map_or(Duration::ZERO, |d| d.0),
                timeout,
                tasks: tasks.clone(),
                targets: selected.clone(),
            })
            .collect())
    }

    /// An error on a field that keeps no span: located at the phase's name.
    fn field_error(&self, raw: &RawPhase, field: &str, message: &str) -> SuiteError {
        self.error(raw.name.span(), field, format!("in phase {:?}: {message}", raw.name.get_ref()))
    }

    /// The load model, one per sweep point, with the suffix each point's name gets.
    fn loads(&self, raw: &RawPhase) -> Result<Vec<(String, LoadSpec)>, SuiteError> {
        let model = raw.load.get_ref().as_str();
        let fields: [(&str, Option<Range<usize>>); 4] = [
            ("users", raw.users.as_ref().map(Spanned::span)),
            ("think", raw.think.as_ref().map(Spanned::span)),
            ("connections", raw.connections.as_ref().map(Spanned::span)),
            ("rate", raw.rate.as_ref().map(Spanned::span)),
        ];
        let (required, allowed): (&[&str], &[&str]) = match model {
            "users" => (&["users", "think"], &["users", "think"]),
            "concurrency" => (&["connections"], &["connections"]),
            "rate" => (&["rate"], &["rate", "connections"]),
            other => {
                let message = format!("unknown load model {other:?}: write \"users\", \"concurrency\" or \"rate\"");
                return Err(self.error(raw.load.span(), "load", message));
            }
        };
        for (field, span) in &fields {
            if let Some(span) = span {
                if !allowed.contains(field) {
                    let message =
                        format!("does not apply to the {model:?} load model (it takes {})", allowed.join(", "));
                    return Err(self.error(span.clone(), field, message));
                }
            } else if required.contains(field) {
                let message = format!("the {model:?} load model needs `{field}`");
                return Err(self.error(raw.load.span(), field, message));
            }
        }
        let sweeps = [
            raw.users.as_ref().map(|s| (s.get_ref().is_sweep(), s.span())),
            raw.connections.as_ref().map(|s| (s.get_ref().is_sweep(), s.span())),
            raw.rate.as_ref().map(|s| (s.get_ref().is_sweep(), s.span())),
        ];
        let swept: Vec<Range<usize>> =
            sweeps.into_iter().flatten().filter(|(sweep, _)| *sweep).map(|(_, span)| span).collect();
        if swept.len() > 1 {
            return Err(self.error(
                swept[1].clone(),
                raw_field_name(raw, &swept[1]),
                "only one field of a phase can be a list (a sweep)",
            ));
        }
        match model {
            "users" => self.users_loads(raw),
            "concurrency" => {
                let connections = self.positive_counts(raw.connections.as_ref(), "connections")?;
                let sweep = connections.len() > 1 || raw.connections.as_ref().is_some_and(|s| s.get_ref().is_sweep());
                Ok(connections
                    .into_iter()
                    .map(|connections| (suffix(sweep, "c", connections), LoadSpec::Concurrency { connections }))
                    .collect())
            }
            _ => self.rate_loads(raw),
        }
    }

    fn users_loads(&self, raw: &RawPhase) -> Result<Vec<(String, LoadSpec)>, SuiteError> {
        let users = self.positive_counts(raw.users.as_ref(), "users")?;
        let think = raw.think.as_ref().map(|spanned| (spanned.get_ref(), spanned.span()));
        let (think, span) = think.ok_or_else(|| self.error(raw.load.span(), "think", "missing"))?;
        let think = (think[0].0, think[1].0);
        if think.0 > think.1 {
            return Err(self.error(span, "think", "the minimum (first) is above the maximum (second)"));
        }
        let sweep = raw.users.as_ref().is_some_and(|s| s.get_ref().is_sweep());
        Ok(users.into_iter().map(|users| (suffix(sweep, "u", users), LoadSpec::Users { users, think })).collect())
    }

    fn rate_loads(&self, raw: &RawPhase) -> Result<Vec<(String, LoadSpec)>, SuiteError> {
        let spanned = raw.rate.as_ref().ok_or_else(|| self.error(raw.load.span(), "rate", "missing"))?;
        let rates = spanned.get_ref().values();
        if rates.is_empty() || rates.iter().any(|rate| !(rate.is_finite() && *rate > 0.0)) {
            return Err(self.error(
                spanned.span(),
                "rate",
                "must be a positive number of requests per second (or a non-empty list of them)",
            ));
        }
        let connections = match &raw.connections {
            None => vec![64],
            Some(_) => self.positive_counts(raw.connections.as_ref(), "connections")?,
        };
        let rate_sweep = spanned.get_ref().is_sweep();
        let connection_sweep = raw.connections.as_ref().is_some_and(|s| s.get_ref().is_sweep());
        let mut loads = Vec::new();
        for per_second in &rates {
            for &connections in &connections {
                let mut name = suffix(rate_sweep, "r", *per_second);
                name.push_str(&suffix(connection_sweep, "c", connections));
                loads.push((name, LoadSpec::Rate { per_second: *per_second, connections }));
            }
        }
        Ok(loads)
    }

    fn positive_counts(&self, raw: Option<&Spanned<OneOrMany<u32>>>, field: &str) -> Result<Vec<u32>, SuiteError> {
        let Some(spanned) = raw else { return Ok(Vec::new()) };
        let values = spanned.get_ref().values();
        if values.is_empty() || values.contains(&0) {
            return Err(self.error(spanned.span(), field, "must be >= 1 (or a non-empty list of such numbers)"));
        }
        Ok(values)
    }

    fn tasks(&self, raw: &Spanned<Vec<Spanned<RawTask>>>) -> Result<Vec<TaskSpec>, SuiteError> {
        if raw.get_ref().is_empty() {
            return Err(self.error(raw.span(), "tasks", "the phase requests nothing: add { path = \"/health\" }"));
        }
        let mut tasks = Vec::new();
        for spanned in raw.get_ref() {
            tasks.push(self.task(spanned.get_ref())?);
        }
        if tasks.iter().map(|task| u64::from(task.weight)).sum::<u64>() == 0 {
            return Err(self.error(raw.span(), "weight", "the task weights sum to 0: no request could be picked"));
        }
        Ok(tasks)
    }

    fn task(&self, raw: &RawTask) -> Result<TaskSpec, SuiteError> {
        let path = raw.path.get_ref();
        if !path.starts_with('/') || path.contains(|c: char| c.is_whitespace() || c == '#') {
            let message =
                format!("{path:?} is not a path: it starts with / and has no spaces (put parameters in `query`)");
            return Err(self.error(raw.path.span(), "path", message));
        }
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &raw.query {
            let text = match value {
                toml::Value::String(text) => text.clone(),
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => value.to_string(),
                other => {
                    let message = format!(
                        "query parameter {key:?} must be a string, number or boolean, not {}",
                        other.type_str()
                    );
                    return Err(self.error(raw.path.span(), "query", message));
                }
            };
            query.append_pair(key, &text);
        }
        let query = query.finish();
        let separator = if path.contains('?') { '&' } else { '?' };
        let path_and_query = if query.is_empty() { path.clone() } else { format!("{path}{separator}{query}") };
        Ok(TaskSpec {
            name: raw.name.clone().unwrap_or_else(|| path_and_query.clone()),
            path_and_query,
            weight: raw.weight.unwrap_or(1),
        })
    }

    fn selected_targets(&self, names: &[Spanned<String>], targets: &[TargetSpec]) -> Result<Vec<String>, SuiteError> {
        let mut selected = Vec::new();
        for name in names {
            if !targets.iter().any(|target| &target.name == name.get_ref()) {
                let known: Vec<&str> = targets.iter().map(|target| target.name.as_str()).collect();
                let message = format!("no target is named {:?} (targets: {})", name.get_ref(), known.join(", "));
                return Err(self.error(name.span(), "targets", message));
            }
            selected.push(name.get_ref().clone());
        }
        Ok(selected)
    }
}

fn raw_field_name(raw: &RawPhase, span: &Range<usize>) -> &'static str {
    if raw.users.as_ref().is_some_and(|s| s.span() == *span) {
        "users"
    } else if raw.connections.as_ref().is_some_and(|s| s.span() == *span) {
        "connections"
    } else {
        "rate"
    }
}

fn suffix(sweep: bool, letter: &str, value: impl std::fmt::Display) -> String {
    if sweep {
        format!("-{letter}{value}")
    } else {
        String::new()
    }
}

/// Names become file names and CSV labels.
pub(crate) const NAME_RULE: &str = "names use letters, digits, '-', '_' and '.' only";

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests;
