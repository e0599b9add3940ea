//! Phases: the `[[phases]]` tables checked into [`PhaseSpec`]s, one per point of a sweep, with their tasks.

use std::ops::Range;
use std::time::Duration;

use loadgen::RequestShape;
use toml::Spanned;

use super::capacity::CapacitySpec;
use super::raw::{HumanDuration, OneOrMany, RawPhase, RawTask};
use super::{valid_name, Context, SuiteError, TargetCores, TargetSpec, DEFAULT_REQUEST_TIMEOUT, NAME_RULE};

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
    /// How many times each target runs this phase: the phase's own `repetitions`, else the suite's.
    pub repetitions: u32,
    /// Targets this phase runs against; None: every target.
    pub targets: Option<Vec<String>>,
    /// Replaces `[cpu] target_cores` in this phase (a target's own `cores` still wins): e.g. every core for a
    /// single-threaded design, so that whether it can use a second core is measured rather than assumed.
    pub target_cores: Option<TargetCores>,
    /// SIGKILL one process of each target this long into the measured part (see `crate::kill`).
    pub kill_worker_at: Option<Duration>,
    /// What every request looks like beyond its path: method, extra headers, body, keep-alive (the suite's
    /// `method`, `headers`, `body` or `body_file`, `keep_alive`); a plain GET with keep-alive by default.
    pub request: RequestShape,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadSpec {
    Users {
        users: u32,
        think: (Duration, Duration),
    },
    Concurrency {
        connections: u32,
    },
    Rate {
        per_second: f64,
        connections: u32,
    },
    /// A search for the highest open-loop rate at which the objective holds (see [`CapacitySpec`]).
    Capacity(CapacitySpec),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Label in the stats (Locust's Name column); the path and query unless the suite names it.
    pub name: String,
    /// Origin-form request target with the query string built from the suite's `query` table.
    pub path_and_query: String,
    pub weight: u32,
    /// CPU time each request should cost: the driver finds each target's `?iterations=` for it before the run
    /// ([`crate::cpu_work`]) and appends it to `path_and_query`.
    pub cpu_work: Option<Duration>,
}

impl PhaseSpec {
    /// Whether `target` takes part in this phase.
    pub fn includes(&self, target: &str) -> bool {
        self.targets.as_ref().is_none_or(|names| names.iter().any(|name| name == target))
    }
}

impl Context<'_> {
    pub(super) fn phases(
        &self,
        raw: &Spanned<Vec<Spanned<RawPhase>>>,
        targets: &[TargetSpec],
        repetitions: u32,
    ) -> Result<Vec<PhaseSpec>, SuiteError> {
        if raw.get_ref().is_empty() {
            return Err(self.error(raw.span(), "phases", "the suite has no phase"));
        }
        let mut phases: Vec<PhaseSpec> = Vec::new();
        for spanned in raw.get_ref() {
            let phase = spanned.get_ref();
            for expanded in self.phase(phase, targets, repetitions)? {
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
    fn phase(&self, raw: &RawPhase, targets: &[TargetSpec], repetitions: u32) -> Result<Vec<PhaseSpec>, SuiteError> {
        let name = raw.name.get_ref().trim();
        if !valid_name(name) {
            return Err(self.error(raw.name.span(), "name", NAME_RULE));
        }
        let loads = self.loads(raw)?;
        let timeout = raw.timeout.map_or(DEFAULT_REQUEST_TIMEOUT, |d| d.0);
        if timeout.is_zero() {
            return Err(self.field_error(raw, "timeout", "must be > 0"));
        }
        let tasks = self.tasks(&raw.tasks, timeout)?;
        let duration = raw.duration.0;
        if duration.is_zero() {
            return Err(self.field_error(raw, "duration", "must be > 0"));
        }
        let selected = match &raw.targets {
            None => None,
            Some(names) => Some(self.selected_targets(names, targets)?),
        };
        let target_cores = raw.target_cores.as_ref().map(|spanned| self.target_cores(spanned)).transpose()?;
        let kill_worker_at = match &raw.kill_worker_at {
            Some(at) if at.get_ref().0 >= duration => {
                let message = format!(
                    "{:?} is not inside the measured part: it must be shorter than `duration` ({duration:?})",
                    at.get_ref().0
                );
                return Err(self.error(at.span(), "kill_worker_at", message));
            }
            other => other.as_ref().map(|at| at.get_ref().0),
        };
        let request = self.request(raw)?;
        let repetitions = match (&raw.repetitions, &loads[..]) {
            (Some(own), [(_, LoadSpec::Capacity(_))]) => {
                let message = "a capacity phase runs its search once and then `confirmations` rounds: set those";
                return Err(self.error(own.span(), "repetitions", message));
            }
            (_, [(_, LoadSpec::Capacity(spec))]) => 1 + spec.confirmations,
            (None, _) => repetitions,
            (Some(own), _) => self.repetitions(Some(own))?,
        };
        Ok(loads
            .into_iter()
            .map(|(suffix, load)| PhaseSpec {
                name: format!("{name}{suffix}"),
                load,
                duration,
                warmup: raw.warmup.map_or(Duration::ZERO, |d| d.0),
                timeout,
                tasks: tasks.clone(),
                repetitions,
                targets: selected.clone(),
                target_cores: target_cores.clone(),
                kill_worker_at,
                request: request.clone(),
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
        let fields: [(&str, Option<Range<usize>>); 10] = [
            ("users", raw.users.as_ref().map(Spanned::span)),
            ("think", raw.think.as_ref().map(Spanned::span)),
            ("connections", raw.connections.as_ref().map(Spanned::span)),
            ("rate", raw.rate.as_ref().map(Spanned::span)),
            ("objective", raw.objective.as_ref().map(Spanned::span)),
            ("start_rate", raw.start_rate.as_ref().map(Spanned::span)),
            ("max_rate", raw.max_rate.as_ref().map(Spanned::span)),
            ("max_connections", raw.max_connections.as_ref().map(Spanned::span)),
            ("confirmations", raw.confirmations.as_ref().map(Spanned::span)),
            ("step_requests", raw.step_requests.as_ref().map(Spanned::span)),
        ];
        let (required, allowed): (&[&str], &[&str]) = match model {
            "users" => (&["users", "think"], &["users", "think"]),
            "concurrency" => (&["connections"], &["connections"]),
            "rate" => (&["rate"], &["rate", "connections"]),
            "capacity" => (&["objective"], &super::capacity::FIELDS),
            other => {
                let message =
                    format!("unknown load model {other:?}: write \"users\", \"concurrency\", \"rate\" or \"capacity\"");
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
            "capacity" => Ok(vec![(String::new(), LoadSpec::Capacity(self.capacity(raw)?))]),
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

    fn tasks(&self, raw: &Spanned<Vec<Spanned<RawTask>>>, timeout: Duration) -> Result<Vec<TaskSpec>, SuiteError> {
        if raw.get_ref().is_empty() {
            return Err(self.error(raw.span(), "tasks", "the phase requests nothing: add { path = \"/health\" }"));
        }
        let mut tasks = Vec::new();
        for spanned in raw.get_ref() {
            tasks.push(self.task(spanned.get_ref(), timeout)?);
        }
        if tasks.iter().map(|task| u64::from(task.weight)).sum::<u64>() == 0 {
            return Err(self.error(raw.span(), "weight", "the task weights sum to 0: no request could be picked"));
        }
        Ok(tasks)
    }

    fn task(&self, raw: &RawTask, timeout: Duration) -> Result<TaskSpec, SuiteError> {
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
        let cpu_work = match &raw.cpu_work {
            None => None,
            Some(spanned) => Some(self.cpu_work(spanned, &path_and_query, timeout)?),
        };
        Ok(TaskSpec {
            name: raw.name.clone().unwrap_or_else(|| path_and_query.clone()),
            path_and_query,
            weight: raw.weight.unwrap_or(1),
            cpu_work,
        })
    }

    /// A task's `cpu_work`: a positive cost below the request timeout, on a path that leaves `iterations` to the
    /// driver.
    fn cpu_work(
        &self,
        spanned: &Spanned<HumanDuration>,
        path_and_query: &str,
        timeout: Duration,
    ) -> Result<Duration, SuiteError> {
        let cost = spanned.get_ref().0;
        let fail = |message: String| Err(self.error(spanned.span(), "cpu_work", message));
        if cost.is_zero() {
            return fail("must be > 0, e.g. \"2ms\"".to_owned());
        }
        if cost >= timeout {
            return fail(format!(
                "{cost:?} is not below the phase's request timeout ({timeout:?}): every request would time out"
            ));
        }
        let query = path_and_query.split_once('?').map_or("", |(_, query)| query);
        if url::form_urlencoded::parse(query.as_bytes()).any(|(key, _)| key == "iterations") {
            return fail("the driver finds `iterations` for cpu_work: remove it from the task's query".to_owned());
        }
        Ok(cost)
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
