//! `rustcorn bench servers`: your own servers compared the hyperfine way. The commands (with `{port}`, names and
//! swept parameters) and the load flags become a suite, written as TOML and checked by [`Suite::parse`] like any
//! suite file, then run by the same driver into the same results.json and report. The TOML is kept in the results
//! (`suite.text`, header values left out), so a comparison can be saved and run again with `rustcorn bench run`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

use crate::ports::PORT;
use crate::suite::{Suite, SuiteError};
use crate::{RunError, RunOptions};
use names::sanitize;

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct ServersSpec {
    /// Server commands, each with `{port}` for the port it must listen on.
    pub commands: Vec<String>,
    /// Names of the commands, in order (hyperfine's `--command-name`); the rest get distinct default names, the
    /// program and the words that tell it from the other commands of the same program (`uvicorn-workers2`).
    pub names: Vec<String>,
    /// Built-in models to run beside them, as `rustcorn serve` takes them (`async --threads 1`).
    pub models: Vec<String>,
    /// Swept parameters: every `{NAME}` in a command takes each value in turn, one target per combination.
    pub parameters: Vec<(String, Vec<String>)>,
    /// Weighted paths (`/cpu-intensive`, `/a:3`): the phase's tasks.
    pub paths: Vec<(String, u32)>,
    pub load: ServersLoad,
    pub duration: Duration,
    pub warmup: Duration,
    pub timeout: Option<Duration>,
    pub runs: u32,
    pub ready_timeout: Option<Duration>,
    /// The path polled with GET until it answers 2xx; None: the first of `paths`. A path that takes only POST
    /// answers GET with 405, so a server loaded with `-m POST` is polled on another path (`/health`).
    pub ready_path: Option<String>,
    /// What every request looks like beyond its path (`-m`, `-H`, `-d` / `-D`, `--disable-keepalive`).
    pub request: PhaseRequest,
}

/// A phase's request shape as the suite writes it (`method`, `headers`, `body` or `body_file`, `keep_alive`):
/// the body still a text or a file, which [`Suite::parse`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseRequest {
    pub method: String,
    /// `(name, value)` in order.
    pub headers: Vec<(String, String)>,
    pub body: Option<BodySource>,
    pub keep_alive: bool,
}

impl Default for PhaseRequest {
    /// A plain GET with keep-alive: nothing is written into the phase.
    fn default() -> Self {
        PhaseRequest { method: "GET".to_owned(), headers: Vec::new(), body: None, keep_alive: true }
    }
}

/// Where a request body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySource {
    Text(String),
    /// Read when the suite is checked; relative paths resolve against the suite file's folder.
    File(PathBuf),
}

/// The load model, as `rustcorn load` names it.
#[derive(Debug, Clone, PartialEq)]
pub enum ServersLoad {
    Concurrency {
        connections: u32,
    },
    Rate {
        per_second: f64,
        connections: u32,
    },
    Users {
        users: u32,
        think: (Duration, Duration),
    },
    /// A capacity search under `objective` ("p99 <= 250ms"): the search, then `confirmations` rounds.
    Capacity {
        objective: String,
        start_per_second: f64,
        max_per_second: f64,
        confirmations: u32,
    },
}

impl Default for ServersLoad {
    fn default() -> Self {
        ServersLoad::Concurrency { connections: 50 }
    }
}

/// The suite file name recorded in the results (nothing is written there).
pub const SUITE_NAME: &str = "servers";

/// The shortest step of a capacity search run by `--slo`.
const CAPACITY_STEP_FLOOR: Duration = Duration::from_secs(1);

/// The suite `spec` describes, as TOML text.
pub fn suite_text(spec: &ServersSpec) -> Result<String, String> {
    let mut suite = Table::new();
    suite.insert("name".into(), SUITE_NAME.into());
    suite.insert("description".into(), "rustcorn bench servers: commands compared under the same load".into());
    suite.insert("repetitions".into(), Value::Integer(i64::from(spec.runs.max(1))));
    let mut targets = Vec::new();
    for (command, base) in spec.commands.iter().zip(command_names(spec)) {
        for (name, filled) in expand(&base, command, &spec.parameters)? {
            targets.push(Value::Table(external_target(spec, name, filled)));
        }
    }
    for model in &spec.models {
        let mut target = Table::new();
        target.insert("name".into(), model_name(model).into());
        target.insert("serve".into(), model.clone().into());
        targets.push(Value::Table(target));
    }
    if targets.is_empty() {
        return Err("give at least one server command (or --serve MODEL)".into());
    }
    let mut names: Vec<&str> = targets.iter().filter_map(|t| t.get("name").and_then(Value::as_str)).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("two targets are named {:?}: give each command its own --name", pair[0]));
    }
    suite.insert("targets".into(), Value::Array(targets));
    suite.insert("phases".into(), Value::Array(vec![Value::Table(phase(spec)?)]));
    toml::to_string(&suite).map_err(|error| format!("cannot write the suite: {error}"))
}

/// Builds the suite and runs it through the driver, exactly as `rustcorn bench run` runs a file.
pub fn run(spec: &ServersSpec, options: &RunOptions, cancel: &loadgen::Shutdown) -> Result<crate::Outcome, RunError> {
    let text = suite_text(spec).map_err(|message| invalid(&options.suite, message))?;
    let mut options = options.clone();
    options.suite_text = Some(text);
    crate::run(&options, cancel)
}

fn invalid(path: &Path, message: String) -> RunError {
    RunError::Suite(SuiteError::Invalid { location: crate::suite::Location::at(path, "", 0), field: None, message })
}

/// Checks the suite without running it (for tests and `--dry-run`-style use).
pub fn check(spec: &ServersSpec) -> Result<Suite, String> {
    let text = suite_text(spec)?;
    Suite::parse(Path::new(SUITE_NAME), text).map_err(|error| error.to_string())
}

fn external_target(spec: &ServersSpec, name: String, command: String) -> Table {
    let mut target = Table::new();
    target.insert("name".into(), name.into());
    target.insert("command".into(), command.into());
    let first = spec.paths.first().map_or("/", |(path, _)| path.as_str());
    let path = spec.ready_path.as_deref().unwrap_or(first);
    target.insert("ready_url".into(), format!("http://127.0.0.1:{PORT}{path}").into());
    if let Some(timeout) = spec.ready_timeout {
        target.insert("ready_timeout".into(), millis(timeout).into());
    }
    target
}

fn phase(spec: &ServersSpec) -> Result<Table, String> {
    let mut phase = Table::new();
    phase.insert("name".into(), "load".into());
    match spec.load {
        ServersLoad::Concurrency { connections } => {
            phase.insert("load".into(), "concurrency".into());
            phase.insert("connections".into(), Value::Integer(i64::from(connections)));
        }
        ServersLoad::Rate { per_second, connections } => {
            phase.insert("load".into(), "rate".into());
            phase.insert("rate".into(), Value::Float(per_second));
            phase.insert("connections".into(), Value::Integer(i64::from(connections)));
        }
        ServersLoad::Users { users, think: (min, max) } => {
            phase.insert("load".into(), "users".into());
            phase.insert("users".into(), Value::Integer(i64::from(users)));
            phase.insert("think".into(), Value::Array(vec![millis(min).into(), millis(max).into()]));
        }
        ServersLoad::Capacity { ref objective, start_per_second, max_per_second, confirmations } => {
            phase.insert("load".into(), "capacity".into());
            phase.insert("objective".into(), objective.clone().into());
            phase.insert("start_rate".into(), Value::Float(start_per_second));
            phase.insert("max_rate".into(), Value::Float(max_per_second));
            phase.insert("confirmations".into(), Value::Integer(i64::from(confirmations)));
        }
    }
    // A capacity step lasts as long as its requests take at its rate: the phase's duration is only its floor.
    let duration = match spec.load {
        ServersLoad::Capacity { .. } => CAPACITY_STEP_FLOOR,
        _ => spec.duration,
    };
    phase.insert("duration".into(), millis(duration).into());
    phase.insert("warmup".into(), millis(spec.warmup).into());
    if let Some(timeout) = spec.timeout {
        phase.insert("timeout".into(), millis(timeout).into());
    }
    let paths = if spec.paths.is_empty() { vec![("/".to_owned(), 1)] } else { spec.paths.clone() };
    let tasks = paths
        .into_iter()
        .map(|(path, weight)| {
            let mut task = Table::new();
            task.insert("path".into(), path.into());
            task.insert("weight".into(), Value::Integer(i64::from(weight)));
            Value::Table(task)
        })
        .collect();
    phase.insert("tasks".into(), Value::Array(tasks));
    request_fields(&spec.request, &mut phase)?;
    Ok(phase)
}

/// The phase's `method`, `headers`, `body` or `body_file` and `keep_alive`, each only when it is not the default.
fn request_fields(request: &PhaseRequest, phase: &mut Table) -> Result<(), String> {
    if request.method != "GET" {
        phase.insert("method".into(), request.method.clone().into());
    }
    if !request.headers.is_empty() {
        let headers = request.headers.iter().map(|(name, value)| Value::String(format!("{name}: {value}"))).collect();
        phase.insert("headers".into(), Value::Array(headers));
    }
    match &request.body {
        None => {}
        Some(BodySource::Text(text)) => {
            phase.insert("body".into(), text.clone().into());
        }
        Some(BodySource::File(path)) => {
            let path = path.to_str().ok_or_else(|| format!("--body-file: {} is not UTF-8", path.display()))?;
            phase.insert("body_file".into(), path.into());
        }
    }
    if !request.keep_alive {
        phase.insert("keep_alive".into(), false.into());
    }
    Ok(())
}

fn millis(duration: Duration) -> String {
    format!("{}ms", duration.as_millis())
}

/// Every combination of the swept values that `command` uses, with a name per combination
/// (`gunicorn-workers2`); the command alone when it uses none.
fn expand(base: &str, command: &str, parameters: &[(String, Vec<String>)]) -> Result<Vec<(String, String)>, String> {
    let mut expanded = vec![(base.to_owned(), command.to_owned())];
    for (parameter, values) in parameters {
        let placeholder = format!("{{{parameter}}}");
        if !command.contains(&placeholder) {
            continue;
        }
        if values.is_empty() {
            return Err(format!("--parameter-list {parameter} has no value"));
        }
        expanded = expanded
            .into_iter()
            .flat_map(|(name, text)| {
                let placeholder = placeholder.clone();
                values.iter().map(move |value| {
                    (format!("{name}-{parameter}{}", sanitize(value)), text.replace(&placeholder, value))
                })
            })
            .collect();
    }
    Ok(expanded)
}

/// Each command's `--name`, else a default distinct from the other unnamed commands' ([`names::default_names`]).
fn command_names(spec: &ServersSpec) -> Vec<String> {
    let unnamed: Vec<&str> = spec.commands.iter().skip(spec.names.len()).map(String::as_str).collect();
    spec.names.iter().cloned().chain(names::default_names(&unnamed)).collect()
}

/// `async --threads 1` -> `async-threads1`: a built-in model's name from its flags.
fn model_name(model: &str) -> String {
    let words: Vec<String> = model.split_whitespace().map(|word| sanitize(word.trim_start_matches('-'))).collect();
    let mut name = String::new();
    for (index, word) in words.iter().enumerate() {
        let joins_value = index > 0 && model.split_whitespace().nth(index - 1).is_some_and(|w| w.starts_with('-'));
        if index > 0 && !joins_value {
            name.push('-');
        }
        name.push_str(word);
    }
    name
}

mod names;

#[cfg(test)]
mod tests;
