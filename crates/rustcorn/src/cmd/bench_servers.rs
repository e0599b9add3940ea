//! `rustcorn bench servers CMD...`: your own servers compared the hyperfine way. Parses the commands and the load
//! flags into a [`bench::servers::ServersSpec`]; the bench crate turns it into a suite and runs it through the same
//! driver as `bench run`, so the results, table, report and exit status are the same.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bench::servers::{ServersLoad, ServersSpec};

use super::bench_run::{finish_run, RunFlags};
use super::load::{parse_task, parse_think};
use crate::ranges::{self, MAX_DURATION};
use crate::signals::cancel_on_signals;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Server commands, each with `{port}` where it takes its port (a free one is chosen at each start). Split
    /// into words like a shell would, without running one: write `sh -c '...'` for pipes or variables.
    #[arg(required_unless_present = "serve", value_name = "COMMAND")]
    commands: Vec<String>,
    /// A name for each command, in order (hyperfine's --command-name); default: the program, with the words
    /// that tell it from the other commands of the same program (`uvicorn-workers2`).
    #[arg(long = "name", value_name = "NAME")]
    names: Vec<String>,
    /// Also run a built-in model beside the commands, as `rustcorn serve` takes it (e.g. 'async --threads 1').
    #[arg(long, value_name = "MODEL FLAGS")]
    serve: Vec<String>,
    /// Sweep a parameter: every `{NAME}` in a command takes each comma-separated value, one target per value
    /// (hyperfine's --parameter-list).
    #[arg(long = "parameter-list", num_args = 2, value_names = ["NAME", "VALUES"])]
    parameter_list: Vec<String>,
    /// The path to load and to poll for readiness, PATH[:WEIGHT] (repeatable: requests pick one by weight).
    #[arg(long = "path", default_value = "/", value_parser = parse_task)]
    paths: Vec<loadgen::Task>,
    /// Concurrency model (wrk/oha): connections, each sending when its last answer arrived (1..=100000).
    #[arg(short = 'c', long, default_value_t = 50, allow_negative_numbers = true,
        value_parser = clap::value_parser!(u32).range(ranges::CONNECTIONS))]
    connections: u32,
    /// Rate model (wrk2): requests per second over the connections (-R as wrk2; -q is --quiet here;
    /// 0.001..=1e7).
    #[arg(long, short = 'R', conflicts_with = "users", allow_negative_numbers = true,
        value_parser = ranges::float(ranges::RATE))]
    rate: Option<f64>,
    /// Users model (Locust): N users, each running a request and then thinking for --think (1..=100000).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(ranges::CONNECTIONS))]
    users: Option<u32>,
    /// Users' think time, uniform between A and B (e.g. 1s..5s).
    #[arg(long, default_value = "1s..5s", value_parser = parse_think, requires = "users")]
    think: (Duration, Duration),
    /// Measured time of each run, after the warm-up (1ms..=24h).
    #[arg(short = 'z', long, default_value = "10s", value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    duration: Duration,
    /// Time at the start of each run whose requests are sent but not counted (0s..=24h).
    #[arg(long, default_value = "1s", value_parser = ranges::duration(Duration::ZERO, MAX_DURATION))]
    warmup: Duration,
    /// Per-request timeout (1ms..=24h; default 10s).
    #[arg(long, value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    timeout: Option<Duration>,
    /// Find each server's capacity: the highest open-loop rate at which this latency objective holds, e.g.
    /// "p99 <= 250ms" (failures <= 0.1 % and achieved >= 98 % of the offered rate are also required). Each step
    /// lasts as long as 2,000 requests take at its rate (1-10 s): -z does not apply.
    #[arg(long, value_name = "OBJECTIVE", conflicts_with_all = ["rate", "users"],
        value_parser = objective_text)]
    slo: Option<String>,
    /// With --slo: the search's first rate (requests/s; 0.001..=1e7).
    #[arg(long, default_value_t = 200.0, requires = "slo", value_parser = ranges::float(ranges::RATE))]
    start_rate: f64,
    /// With --slo: the highest rate offered; holding there makes the capacity "at least" it (0.001..=1e7).
    #[arg(long, default_value_t = 100_000.0, requires = "slo", value_parser = ranges::float(ranges::RATE))]
    max_rate: f64,
    /// With --slo: rounds, after every server's search, that run each found rate and the step above it again,
    /// alternated between servers; a lead needs 2 at least (0..=20).
    #[arg(long, default_value_t = 3, requires = "slo", value_parser = clap::value_parser!(u32).range(0..=20))]
    confirmations: u32,
    /// Runs of each server, alternated between servers round by round (hyperfine's --runs).
    #[arg(long, short = 'r', default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// How long each server gets to answer its path after it starts (default 30s).
    #[arg(long, value_parser = ranges::duration(Duration::from_millis(1), MAX_DURATION))]
    ready_timeout: Option<Duration>,
    /// The path polled with GET for readiness, which must answer 2xx (default: the first --path); e.g.
    /// /health when --path takes only POST (-m POST) and answers GET with 405.
    #[arg(long, value_name = "PATH", value_parser = parse_ready_path)]
    ready_path: Option<String>,
    #[command(flatten)]
    request: super::load_request::RequestArgs,
    #[command(flatten)]
    run: RunFlags,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let spec = match spec_from(&args) {
        Ok(spec) => spec,
        Err(message) => {
            eprintln!("rustcorn: error: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let cancel = cancel_on_signals("stopping the run; writing partial results")?;
    let options = args.run.options(PathBuf::from(bench::servers::SUITE_NAME))?;
    finish_run(bench::servers::run(&spec, &options, &cancel), &args.run)
}

fn spec_from(args: &Args) -> Result<ServersSpec, String> {
    let load = match (args.users, args.rate) {
        _ if args.slo.is_some() => ServersLoad::Capacity {
            objective: args.slo.clone().unwrap_or_default(),
            start_per_second: args.start_rate,
            max_per_second: args.max_rate,
            confirmations: args.confirmations,
        },
        (Some(users), _) => ServersLoad::Users { users, think: args.think },
        (None, Some(per_second)) => ServersLoad::Rate { per_second, connections: args.connections },
        (None, None) => ServersLoad::Concurrency { connections: args.connections },
    };
    let parameters = args
        .parameter_list
        .chunks(2)
        .map(|pair| match pair {
            [name, values] => Ok((name.clone(), values.split(',').map(str::to_owned).collect())),
            _ => Err("--parameter-list takes NAME and VALUES".to_owned()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if args.names.len() > args.commands.len() {
        return Err(format!("{} --name for {} commands", args.names.len(), args.commands.len()));
    }
    Ok(ServersSpec {
        commands: args.commands.clone(),
        names: args.names.clone(),
        models: args.serve.clone(),
        parameters,
        paths: args.paths.iter().map(|task| (task.path_and_query.clone(), task.weight)).collect(),
        load,
        duration: args.duration,
        warmup: args.warmup,
        timeout: args.timeout,
        runs: args.runs,
        ready_timeout: args.ready_timeout,
        ready_path: args.ready_path.clone(),
        request: args.request.for_suite()?,
    })
}

/// An objective as written ("p99 <= 250ms"), checked here so that a mistake names the flag; the suite reads it again.
fn objective_text(text: &str) -> Result<String, String> {
    super::load_capacity::parse_objective(text).map(|_| text.trim().to_owned())
}

/// An origin-form path: it goes after the server's address in the readiness URL.
fn parse_ready_path(text: &str) -> Result<String, String> {
    if text.starts_with('/') && !text.contains(char::is_whitespace) {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not a path: it starts with / and has no spaces"))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn spec(flags: &[&str]) -> Result<ServersSpec, String> {
        let cli = Cli::try_parse_from([&["servers", "server --port {port}"], flags].concat())
            .map_err(|error| error.to_string())?;
        spec_from(&cli.args)
    }

    #[test]
    fn the_request_flags_mean_what_they_mean_in_load() {
        use bench::servers::{BodySource, PhaseRequest};
        assert_eq!(spec(&[]).unwrap().request, PhaseRequest::default());
        let flags = ["-m", "POST", "-H", "X-Token: abc", "--header", "Accept: a/b", "-d", "hi", "--disable-keepalive"];
        let request = spec(&flags).unwrap().request;
        assert_eq!(request.method, "POST");
        assert_eq!(request.headers, [("X-Token".to_owned(), "abc".to_owned()), ("Accept".into(), "a/b".into())]);
        assert_eq!((request.body, request.keep_alive), (Some(BodySource::Text("hi".into())), false));
        // -q is still --quiet beside them, -R the rate.
        assert!(spec(&["-q", "-R", "10", "-m", "PUT"]).is_ok_and(|spec| spec.request.method == "PUT"));

        let file = std::env::temp_dir().join(format!("rustcorn-servers-flag-body-{}", std::process::id()));
        std::fs::write(&file, "x").unwrap();
        let body = spec(&["-D", file.to_str().unwrap()]).unwrap().request.body;
        assert_eq!(body, Some(BodySource::File(file.clone())));
        std::fs::remove_file(&file).unwrap();
        let gone = spec(&["-D", file.to_str().unwrap()]).unwrap_err();
        assert!(gone.starts_with("--body-file: cannot read"), "{gone}");
    }

    #[test]
    fn bad_request_flags_are_refused_as_load_refuses_them() {
        assert!(spec(&["-m", "GE T"]).unwrap_err().starts_with("--method: \"GE T\" is not an HTTP method"));
        assert!(spec(&["-m", ""]).unwrap_err().starts_with("--method:"));
        assert!(spec(&["-H", "Content-Length: 3"]).unwrap_err().starts_with("--header:"));
        assert!(spec(&["-H", "novalue"]).unwrap_err().contains("is not Name: value"));
        assert!(spec(&["-d", "a", "-D", "f"]).unwrap_err().contains("cannot be used with"));
        assert!(spec(&["--ready-path", "health"]).unwrap_err().contains("is not a path"));
        assert_eq!(spec(&["--ready-path", "/health"]).unwrap().ready_path.as_deref(), Some("/health"));
    }
}
