//! Checking one `[[targets]]` table: a built-in model (`serve = "prefork -w 2 -k async"`) or an external command
//! with a readiness URL, plus what the CPU plan needs to know about it (workers, threads).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::raw::{RawTarget, StringOrList};
use super::{valid_name, Context, Located, SuiteError, DEFAULT_READY_TIMEOUT, DEFAULT_STOP_GRACE, NAME_RULE};
use crate::results::{Family, Role, ServerModel, TargetKind};

/// Flags the driver sets itself on built-in targets.
const DRIVER_FLAGS: [&str; 5] = ["--bind", "-b", "--upstream", "--upstream-ca", "--stats"];

/// A checked target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSpec {
    pub name: String,
    pub family: Family,
    pub kind: TargetKind,
    pub launch: Launch,
    /// Cores set for this target in the suite (overrides the `[cpu]` plan).
    pub cores: Option<Located<Vec<u32>>>,
    /// Worker processes that serve requests, when known.
    pub workers: Option<u32>,
    /// Threads per worker that run handlers or the event loop, when known.
    pub threads: Option<u32>,
    pub ready_timeout: Duration,
    pub stop_grace: Duration,
    /// The target this one improves on (the same server, its code changed), checked to exist.
    pub variant_of: Option<String>,
    /// The target's role in the article's claims, when the suite declares it (`role = "uvicorn"`).
    pub role: Option<Role>,
    /// Where the suite set `serve` (built-in targets), for errors found when the flags are checked.
    pub serve_at: Option<super::Location>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Launch {
    /// `rustcorn serve MODEL FLAGS... --bind 127.0.0.1:0 --upstream URL`, ready at its `Listening at:` line.
    BuiltIn { model: String, flags: Vec<String> },
    /// Any command; ready when `ready_url` answers 2xx. `{upstream}` in the command or env is the upstream URL.
    External { command: Vec<String>, ready_url: String, cwd: Option<PathBuf>, env: BTreeMap<String, String> },
}

impl TargetSpec {
    /// Whether the model uses one thread of one process for its work by design (Uvicorn's event loop, gunicorn's
    /// single sync worker); None when the suite does not say.
    pub fn single_threaded(&self) -> Option<bool> {
        Some(self.workers? == 1 && self.threads? == 1)
    }
}

pub(super) fn check(context: &Context<'_>, spanned: &Spanned<RawTarget>) -> Result<TargetSpec, SuiteError> {
    let raw = spanned.get_ref();
    let name = raw.name.get_ref().trim().to_owned();
    if !valid_name(&name) {
        return Err(context.error(raw.name.span(), "name", NAME_RULE));
    }
    let common = |kind, family, launch, workers, threads| TargetSpec {
        name: name.clone(),
        family,
        kind,
        launch,
        cores: raw.cores.as_ref().map(|cores| context.located(cores, "cores")),
        workers,
        threads,
        ready_timeout: raw.ready_timeout.map_or(DEFAULT_READY_TIMEOUT, |d| d.0),
        stop_grace: raw.stop_grace.map_or(DEFAULT_STOP_GRACE, |d| d.0),
        variant_of: raw.variant_of.as_ref().map(|original| original.get_ref().trim().to_owned()),
        role: raw.role,
        serve_at: raw.serve.as_ref().map(|serve| super::Location::at(context.path, context.text, serve.span().start)),
    };
    if let Some(cores) = &raw.cores {
        if cores.get_ref().is_empty() {
            return Err(context.error(cores.span(), "cores", "empty core list"));
        }
    }
    match (&raw.serve, &raw.command) {
        (Some(serve), None) => {
            if let Some(field) = external_only_field(raw) {
                let message = format!("`{field}` applies to external targets (with `command`), not to `serve`");
                return Err(context.error(serve.span(), field, message));
            }
            let (kind, model, flags) = built_in(context, serve)?;
            let (workers, threads) = parallelism(kind, &flags);
            let family = raw.family.unwrap_or(Family::Rust);
            Ok(common(kind, family, Launch::BuiltIn { model, flags }, raw.workers.or(workers), raw.threads.or(threads)))
        }
        (None, Some(command)) => {
            let launch = external(context, raw, command)?;
            let family = raw.family.unwrap_or_else(|| external_family(raw.role, &launch));
            Ok(common(TargetKind::External, family, launch, raw.workers, raw.threads))
        }
        (Some(serve), Some(_)) => Err(context.error(
            serve.span(),
            "serve",
            "set `serve` (a built-in model) or `command` (external), not both",
        )),
        (None, None) => Err(context.error(
            raw.name.span(),
            "command",
            format!("target {name:?} has neither `serve` (a built-in model) nor `command` (an external server)"),
        )),
    }
}

/// A command target is a Python peer when its role is declared or its command line is uvicorn's, gunicorn's,
/// granian's or hypercorn's (a threaded gunicorn too, which has no role); any other command is "external": your own server, compared on every figure and judged on no article claim.
fn external_family(role: Option<Role>, launch: &Launch) -> Family {
    let Launch::External { command, .. } = launch else { return Family::Rust };
    if role.is_some() || ServerModel::recognise(&command.join(" ")).is_some() {
        Family::Python
    } else {
        Family::External
    }
}

fn external_only_field(raw: &RawTarget) -> Option<&'static str> {
    if raw.ready_url.is_some() {
        Some("ready_url")
    } else if raw.cwd.is_some() {
        Some("cwd")
    } else if !raw.env.is_empty() {
        Some("env")
    } else {
        None
    }
}

fn built_in(context: &Context<'_>, serve: &Spanned<String>) -> Result<(TargetKind, String, Vec<String>), SuiteError> {
    let mut words = serve.get_ref().split_whitespace().map(str::to_owned);
    let model = words.next().unwrap_or_default();
    let kind = match model.as_str() {
        "sync" => TargetKind::Sync,
        "async" => TargetKind::Async,
        "prefork" => TargetKind::Prefork,
        other => {
            let message =
                format!("unknown target model {other:?}: write \"sync\", \"async\" or \"prefork\" and its flags");
            return Err(context.error(serve.span(), "serve", message));
        }
    };
    let flags: Vec<String> = words.collect();
    if let Some(flag) = flags.iter().find(|flag| DRIVER_FLAGS.iter().any(|own| flag_is(flag, own))) {
        let message = format!("{flag} is set by the driver (port 0, its own upstream and its CA, --stats for prefork)");
        return Err(context.error(serve.span(), "serve", message));
    }
    Ok((kind, model, flags))
}

/// `--flag value` or `--flag=value`.
fn flag_is(word: &str, flag: &str) -> bool {
    word == flag || word.strip_prefix(flag).is_some_and(|rest| rest.starts_with('='))
}

/// Workers and threads per worker a built-in model runs with these flags (the servers' defaults otherwise).
fn parallelism(kind: TargetKind, flags: &[String]) -> (Option<u32>, Option<u32>) {
    let number = |names: &[&str]| flag_value(flags, names).and_then(|value| value.parse::<u32>().ok());
    match kind {
        TargetKind::Sync => (Some(1), number(&["--max-threads"]).or(Some(64))),
        TargetKind::Async => (Some(1), number(&["--threads"]).or(Some(1))),
        TargetKind::Prefork => {
            let workers = number(&["-w", "--workers"]).or(Some(1));
            let class = flag_value(flags, &["-k", "--worker-class"]).unwrap_or_else(|| "sync".to_owned());
            let threads = if class == "async" { number(&["--threads"]) } else { number(&["--max-threads"]) };
            (workers, threads.or(Some(1)))
        }
        TargetKind::External => (None, None),
    }
}

fn flag_value(flags: &[String], names: &[&str]) -> Option<String> {
    let mut found = None;
    for (index, word) in flags.iter().enumerate() {
        for name in names {
            if word == name {
                found = flags.get(index + 1).cloned();
            } else if let Some(value) = word.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')) {
                found = Some(value.to_owned());
            }
        }
    }
    found
}

fn external(context: &Context<'_>, raw: &RawTarget, command: &Spanned<StringOrList>) -> Result<Launch, SuiteError> {
    let argv: Vec<String> = match command.get_ref() {
        StringOrList::String(line) => shell_words::split(line)
            .map_err(|error| context.error(command.span(), "command", format!("cannot split into words: {error}")))?,
        StringOrList::List(words) => words.clone(),
    };
    if argv.first().is_none_or(|program| program.trim().is_empty()) {
        return Err(context.error(command.span(), "command", "empty command"));
    }
    let Some(ready_url) = &raw.ready_url else {
        let message = "an external target needs `ready_url` (polled until it answers 2xx)";
        return Err(context.error(command.span(), "ready_url", message));
    };
    // `{port}` is filled in when the target starts; any port checks the rest of the URL.
    let parsed = url::Url::parse(&crate::ports::fill(ready_url.get_ref(), Some(1)))
        .map_err(|error| context.error(ready_url.span(), "ready_url", format!("not a URL: {error}")))?;
    if parsed.scheme() != "http" || parsed.host_str().is_none() {
        return Err(context.error(ready_url.span(), "ready_url", "must be an http://host:port/path URL"));
    }
    let cwd = raw.cwd.as_ref().map(|cwd| context.path.parent().unwrap_or(std::path::Path::new("")).join(cwd));
    Ok(Launch::External { command: argv, ready_url: ready_url.get_ref().clone(), cwd, env: raw.env.clone() })
}
