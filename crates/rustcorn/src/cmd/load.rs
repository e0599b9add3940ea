//! `rustcorn load URL`: flags a wrk/oha user recognises, turned into a [`loadgen::LoadPlan`]; runs it with a
//! progress bar on a TTY and prints the summary (or JSON), writing `--csv` and `--hlog` files when asked, and for
//! agents started together (`--start-at`) their report and .hlog as log frames or into a shared directory.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use loadgen::output::{frames, Exporter, Hlog, Json, LocustCsv, Terminal};
use loadgen::{agent, AgentSpec, LoadPlan, Pacing, RunControl, Stop, Target, Task};

use crate::ranges::{self, MAX_DURATION};
use crate::signals::shutdown_on_signals;

/// Exit code for bad input: the same as clap's usage errors.
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target URL (http:// or https://host:port/path); its path is the only task unless --task is given.
    url: String,
    /// Concurrency model (wrk/oha): connections each sending as soon as the last answer arrived. With --rate: the
    /// connections the rate is spread over (1..=100000).
    #[arg(short = 'c', long, default_value_t = 50, conflicts_with = "users", allow_negative_numbers = true,
        value_parser = clap::value_parser!(u32).range(ranges::CONNECTIONS))]
    connections: u32,
    /// Rate model (wrk2): open loop at R requests/s; latency counts from the intended send time (0.001..=1e7).
    /// -R as wrk2 writes it, -q as oha does.
    #[arg(long, short = 'R', visible_short_alias = 'q', conflicts_with = "users", allow_negative_numbers = true, value_parser = ranges::float(ranges::RATE))]
    rate: Option<f64>,
    /// With --rate: open loop that never caps itself - each due request goes out on an idle kept-alive connection,
    /// or on a new one when none is idle, up to --max-connections (instead of -c fixed connections).
    #[arg(long, requires = "rate")]
    open: bool,
    /// The most connections --open (or --find-capacity) may hold at once, split over the load threads (1..=100000);
    /// the open-file limit is raised to fit.
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true,
        value_parser = clap::value_parser!(u32).range(ranges::CONNECTIONS))]
    max_connections: u32,
    #[command(flatten)]
    capacity: super::load_capacity::CapacityArgs,
    /// Users model (Locust): N users, each running a task and then thinking for --think (1..=100000).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(ranges::CONNECTIONS))]
    users: Option<u32>,
    /// Users' think time, uniform between A and B (e.g. 1s..5s; each at most 24h).
    #[arg(long, default_value = "1s..5s", value_parser = parse_think, requires = "users")]
    think: (Duration, Duration),
    /// Users started per second (default: all at once; 0.001..=1e7).
    #[arg(long, requires = "users", value_parser = ranges::float(ranges::RATE))]
    spawn_rate: Option<f64>,
    /// A weighted path, PATH:WEIGHT (repeatable); requests pick one by weight.
    #[arg(long = "task", value_parser = parse_task)]
    tasks: Vec<Task>,
    /// Measured run time (after warm-up); 10s when neither -z nor -n is given (1ms..=24h).
    #[arg(short = 'z', long, value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    duration: Option<Duration>,
    /// Measured requests to send (1..=1e12).
    #[arg(short = 'n', long, allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(ranges::REQUESTS))]
    requests: Option<u64>,
    /// Time at the start whose requests are sent but not counted (0s..=24h).
    #[arg(long, default_value = "0s", value_parser = ranges::duration(Duration::ZERO, MAX_DURATION))]
    warmup: Duration,
    /// Per-request timeout: connect, write and the complete response (1ms..=24h).
    #[arg(long, default_value = "5s", value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    timeout: Duration,
    /// Load threads, one current_thread runtime each (default: the cores in --cpus, or every core; 1..=1024).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(ranges::RUNTIME_THREADS))]
    threads: Option<u32>,
    /// Cores to pin the load threads to, e.g. 1 or 0,2 or 2-3 (core numbers below 1024).
    // The full path keeps clap's derive from reading `Vec` as "one usize per occurrence": parse_cpus returns the
    // whole list, and with a bare `Vec<usize>` every `--cpus` panicked at parse time (a type mismatch).
    #[arg(long, value_parser = parse_cpus)]
    cpus: Option<std::vec::Vec<usize>>,
    /// Print the report as JSON on stdout instead of the human summary.
    #[arg(long)]
    json: bool,
    /// Write the summary (or the JSON) to FILE instead of stdout (oha's -o).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// No progress bar and no summary on stdout: the exit status (and -o, --csv, --hlog files) tell.
    #[arg(long)]
    quiet: bool,
    /// Share of failed requests (connect, timeout, read errors and statuses >= 400) beyond which the run exits 1,
    /// e.g. 5% or 0.05; 100% never fails the run.
    #[arg(long, default_value = "5%", value_name = "SHARE", value_parser = bench::failures::parse_max_failures)]
    max_failures: f64,
    #[command(flatten)]
    request: super::load_request::RequestArgs,
    #[command(flatten)]
    tls: super::load_request::TlsArgs,
    /// Also write Locust's _stats.csv layout to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also write an HdrHistogram interval log (one histogram per second) to FILE.
    #[arg(long, value_name = "FILE")]
    hlog: Option<PathBuf>,
    /// Allow a target outside loopback (127.0.0.0/8, ::1).
    #[arg(long)]
    allow_remote: bool,
    /// Start the warm-up (then the measured window) at this wall-clock instant, RFC 3339 or Unix milliseconds:
    /// agents given the same instant start together. Refused when it has passed.
    #[arg(long, env = "RUSTCORN_START_AT", value_name = "TIME", value_parser = agent::parse_start_at)]
    start_at: Option<SystemTime>,
    /// This agent's name in reports and merges (default: the host name).
    #[arg(long, env = "RUSTCORN_AGENT_ID", value_name = "ID", value_parser = parse_agent_id)]
    agent_id: Option<String>,
    /// Also write the JSON report and the .hlog to stdout, framed so `rustcorn bench collect` can pull them out
    /// of a log (e.g. `kubectl logs`).
    #[arg(long)]
    frames: bool,
    /// Also write the JSON report and the .hlog to DIR/AGENT.json and DIR/AGENT.hlog (a volume shared by agents).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// Names of the files an agent writes (into --out-dir, or as frames): the agent id plus these.
pub const REPORT_SUFFIX: &str = ".json";
pub const HLOG_SUFFIX: &str = ".hlog";

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let plan = match plan_from(&args) {
        Ok(plan) => plan,
        Err(error) => return Ok(bad_input(&error)),
    };
    // An output file that cannot be written is found now, not after the whole run.
    for (flag, path) in [("--csv", &args.csv), ("--hlog", &args.hlog), ("--output", &args.output)] {
        if let Some(Err(error)) = path.as_deref().map(check_writable) {
            return Ok(bad_input(&format!("{flag}: {error}")));
        }
    }
    if !plan.target.is_loopback() {
        if !args.allow_remote {
            let reason = format!("{} is not a loopback address; pass --allow-remote to load it", plan.target.addr);
            return Ok(bad_input(&reason));
        }
        eprintln!("rustcorn load: WARNING: --allow-remote: sending load to {} OUTSIDE this machine", plan.target.addr);
    }
    if let Some((at, wait)) = plan.agent.start_at.and_then(|at| Some((at, at.duration_since(SystemTime::now()).ok()?)))
    {
        let at = agent::format_unix_us(agent::unix_us(at));
        eprintln!("rustcorn load: waiting {:.3} s for --start-at {at}", wait.as_secs_f64());
    }
    let control = RunControl { cancel: shutdown_on_signals()?, live: Default::default() };
    if args.capacity.find_capacity {
        return super::load_capacity::run(&args.capacity, &plan, args.json, &control);
    }
    let progress = Progress::start(&plan, &control, args.quiet);
    let result = loadgen::run(&plan, &control);
    progress.finish();
    let report = match result {
        Ok(report) => report,
        Err(error) if error.is_bad_input() => return Ok(bad_input(&error)),
        Err(error) => return Err(error).context("the load run failed"),
    };
    write_outputs(&args, &report)?;
    super::load_capacity::print_verdict(&args.capacity, &plan, &report);
    Ok(failure_exit(&report, args.max_failures))
}

/// 1 when the failed share is beyond `--max-failures` (said on stderr), else 0.
fn failure_exit(report: &loadgen::LoadReport, max_failures: f64) -> ExitCode {
    let ratio = report.failure_ratio();
    if ratio <= max_failures {
        return ExitCode::SUCCESS;
    }
    let total = &report.aggregated;
    eprintln!(
        "rustcorn load: {} of {} requests failed ({:.1} %), beyond --max-failures {}%",
        total.failures.total(),
        total.count,
        ratio * 100.0,
        max_failures * 100.0
    );
    ExitCode::FAILURE
}

fn bad_input(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("rustcorn load: error: {error}");
    ExitCode::from(EXIT_BAD_INPUT)
}

pub(crate) fn plan_from(args: &Args) -> Result<LoadPlan, String> {
    let (mut target, url_path) = Target::from_url(&args.url).map_err(|error| error.to_string())?;
    args.tls.apply(&mut target)?;
    let request = args.request.shape()?;
    let tasks = if args.tasks.is_empty() { vec![Task::new(url_path, 1)] } else { args.tasks.clone() };
    let max_connections = args.max_connections as usize;
    let pacing = match (args.users, args.rate) {
        (Some(users), _) => Pacing::Users { users: users as usize, think: args.think, spawn_rate: args.spawn_rate },
        (None, Some(per_second)) if args.open => Pacing::OpenRate { per_second, max_connections },
        (None, Some(per_second)) => Pacing::Rate { per_second, connections: args.connections as usize },
        // A capacity search offers open rates; its own steps replace this one's rate and stop.
        (None, None) if args.capacity.find_capacity => {
            Pacing::OpenRate { per_second: args.capacity.start_rate, max_connections }
        }
        (None, None) => Pacing::Concurrency { connections: args.connections as usize },
    };
    let duration = match (args.duration, args.requests) {
        (None, None) => Some(Duration::from_secs(10)),
        (duration, _) => duration,
    };
    let cores = args.cpus.as_ref().map_or_else(available_cores, Vec::len);
    let threads = args.threads.map_or(cores, |threads| threads as usize).min(pacing.connections()).max(1);
    Ok(LoadPlan {
        target,
        tasks,
        pacing,
        stop: Stop { duration, requests: args.requests },
        warmup: args.warmup,
        timeout: args.timeout,
        threads,
        cpu_affinity: args.cpus.clone(),
        agent: AgentSpec { id: args.agent_id.clone(), start_at: args.start_at },
        request,
    })
}

fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn write_outputs(args: &Args, report: &loadgen::LoadReport) -> anyhow::Result<()> {
    let summary = if args.json { Json.export(report)? } else { Terminal.export(report)? };
    let mut stdout = std::io::stdout().lock();
    match &args.output {
        Some(path) => write_file(path, &summary)?,
        None if args.quiet => {}
        None => {
            stdout.write_all(&summary).context("cannot write to stdout")?;
            stdout.flush().context("cannot write to stdout")?;
        }
    }
    if let Some(path) = &args.csv {
        write_file(path, &LocustCsv.export(report)?)?;
    }
    let hlog = Hlog.export(report)?;
    if let Some(path) = &args.hlog {
        write_file(path, &hlog)?;
    }
    if args.frames || args.out_dir.is_some() {
        let json = if args.json { summary } else { Json.export(report)? };
        write_agent_files(args, report, &json, &hlog, &mut stdout)?;
    }
    Ok(())
}

/// The report and the .hlog named after the agent, as frames on stdout (`--frames`) and/or files (`--out-dir`).
fn write_agent_files(
    args: &Args,
    report: &loadgen::LoadReport,
    json: &[u8],
    hlog: &[u8],
    stdout: &mut impl Write,
) -> anyhow::Result<()> {
    let id = report.agents.first().map_or("agent", |agent| agent.id.as_str());
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    for (name, bytes) in [(format!("{id}{REPORT_SUFFIX}"), json), (format!("{id}{HLOG_SUFFIX}"), hlog)] {
        if args.frames {
            stdout.write_all(frames::write(id, &name, bytes).as_bytes()).context("cannot write to stdout")?;
        }
        if let Some(dir) = &args.out_dir {
            write_file(&dir.join(&name), bytes)?;
        }
    }
    stdout.flush().context("cannot write to stdout")
}

/// Opens `path` for writing without truncating it, and removes it again if it did not exist: the run's output
/// will go there, and a bad folder or permission is reported before the run rather than after it.
pub(crate) fn check_writable(path: &Path) -> Result<(), String> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn parse_agent_id(text: &str) -> Result<String, String> {
    agent::validate_id(text).map(|()| text.to_owned())
}

/// `A..B` with humantime durations on both sides (a bare number means seconds).
pub(crate) fn parse_think(text: &str) -> Result<(Duration, Duration), String> {
    let (min, max) = text.split_once("..").ok_or_else(|| format!("{text:?} is not A..B (e.g. 1s..5s)"))?;
    let parse = |side: &str| -> Result<Duration, String> {
        let side = side.trim();
        match side.parse::<f64>() {
            Ok(seconds) if (0.0..=MAX_DURATION.as_secs_f64()).contains(&seconds) => {
                Ok(Duration::from_secs_f64(seconds))
            }
            Ok(_) => Err(format!("{side:?} is not a duration of at most 24h")),
            Err(_) => humantime::parse_duration(side)
                .map_err(|error| error.to_string())
                .and_then(|duration| ranges::within(duration, Duration::ZERO, MAX_DURATION))
                .map_err(|error| format!("{side:?}: {error}")),
        }
    };
    let (min, max) = (parse(min)?, parse(max)?);
    if min > max {
        return Err(format!("{text:?}: the minimum is above the maximum"));
    }
    Ok((min, max))
}

/// `PATH:WEIGHT`, or `PATH` for weight 1. The weight is after the last colon; a path that holds a colon is
/// written with its weight (`/a:b:1`), so a mistyped weight (`/health:abc`) is an error, not a path that 404s.
pub(crate) fn parse_task(text: &str) -> Result<Task, String> {
    match text.rsplit_once(':') {
        Some((path, weight)) if !weight.is_empty() && weight.chars().all(|c| c.is_ascii_digit()) => {
            let weight = weight.parse().map_err(|_| format!("{text:?}: weight {weight:?} is too large"))?;
            Ok(Task::new(path, weight))
        }
        Some((_, weight)) => Err(format!(
            "{text:?}: {weight:?} is not a weight (PATH:WEIGHT with a whole number; a path with a colon needs its \
             weight, e.g. {text}:1)"
        )),
        None => Ok(Task::new(text, 1)),
    }
}

/// Highest core number accepted: the size of the kernel's default CPU set (CPU_SETSIZE).
const MAX_CORE: usize = 1023;

/// `1`, `0,2`, `2-3`, or a mix: the cores to pin to.
fn parse_cpus(text: &str) -> Result<Vec<usize>, String> {
    let mut cores = Vec::new();
    for part in text.split(',') {
        let number = |value: &str| match value.trim().parse::<usize>() {
            Ok(core) if core <= MAX_CORE => Ok(core),
            _ => Err(format!("{text:?}: {value:?} is not a core (0..={MAX_CORE})")),
        };
        match part.split_once('-') {
            Some((first, last)) => cores.extend(number(first)?..=number(last)?),
            None => cores.push(number(part)?),
        }
    }
    if cores.is_empty() {
        return Err(format!("{text:?} names no core"));
    }
    Ok(cores)
}

/// The indicatif bar, drawn from the live counters on a side thread; absent when stderr is not a terminal.
struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(plan: &LoadPlan, control: &RunControl, quiet: bool) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { done, thread: None };
        }
        let (bar, length_is_time) = match (plan.stop.duration, plan.stop.requests) {
            (Some(duration), _) => (ProgressBar::new((plan.warmup + duration).as_secs().max(1)), true),
            (None, Some(requests)) => (ProgressBar::new(requests), false),
            (None, None) => (ProgressBar::new_spinner(), false),
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let live = Arc::clone(&control.live);
        let flag = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let requests = live.requests();
                let elapsed = started.elapsed().as_secs_f64().max(0.001);
                bar.set_position(if length_is_time { started.elapsed().as_secs() } else { requests });
                bar.set_message(format!(
                    "{requests} requests, {} failed, {:.0} req/s",
                    live.failures(),
                    requests as f64 / elapsed
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Progress { done, thread: Some(thread) }
    }

    fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_think_ranges() {
        assert_eq!(parse_think("1s..5s"), Ok((Duration::from_secs(1), Duration::from_secs(5))));
        assert_eq!(parse_think("1..2"), Ok((Duration::from_secs(1), Duration::from_secs(2))));
        assert_eq!(parse_think("500ms..1.5").unwrap().1, Duration::from_millis(1500));
        assert!(parse_think("5s..1s").is_err());
        assert!(parse_think("1s").is_err());
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn the_cpus_flag_parses_into_a_core_list() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["load", "http://127.0.0.1:1/", "--cpus", "0,2-3"]).expect("parses");
        assert_eq!(cli.args.cpus, Some(vec![0, 2, 3]));
        assert!(Cli::try_parse_from(["load", "http://127.0.0.1:1/", "--cpus", "x"]).is_err());
    }

    #[test]
    fn parses_tasks_and_cpus() {
        assert_eq!(parse_task("/cpu-intensive:3"), Ok(Task::new("/cpu-intensive", 3)));
        assert_eq!(parse_task("/health"), Ok(Task::new("/health", 1)));
        assert_eq!(parse_task("/a?t=10:20:2"), Ok(Task::new("/a?t=10:20", 2)));
        let typo = parse_task("/health:abc").unwrap_err();
        assert!(typo.contains("\"abc\" is not a weight") && typo.contains("/health:abc:1"), "{typo}");
        assert!(parse_task("/health:").is_err());
        assert_eq!(parse_cpus("1"), Ok(vec![1]));
        assert_eq!(parse_cpus("0,2-4"), Ok(vec![0, 2, 3, 4]));
        assert!(parse_cpus("x").is_err());
        assert!(parse_cpus("0-99999999999").is_err());
        assert!(parse_think("1e30..1e31").is_err());
    }
}
