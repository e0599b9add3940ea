//! `rustcorn load --rate R --open` and `--find-capacity` against the real `rustcorn serve async`, whose
//! /async-google calls the real `rustcorn upstream` (100 ms), over real sockets: the open rate opens the
//! connections the latency needs and keeps the rate; at a connection bound too low for it, the run says its
//! generator fell behind; a capacity search reports its steps and its answer.

mod support;

use std::process::{Command, Output, Stdio};

use loadgen::capacity::{CapacityReport, SearchEnd, StepVerdict};
use loadgen::LoadReport;
use support::{Server, Upstream};

/// The upstream's delay: every /async-google request is held this long.
const DELAY_S: f64 = 0.1;

fn load(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rustcorn"));
    command.arg("load").args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.output().expect("run rustcorn load")
}

/// The `--json` output on stdout; panics with stderr when it is not JSON.
fn stdout_json(output: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("bad JSON ({error}); stderr: {stderr}"))
}

/// The async model (one event loop) in front of a 100 ms upstream.
fn async_server_on_slow_upstream() -> (Upstream, Server) {
    let upstream = Upstream::start(&["--delay", "100ms", "--jitter", "0ms", "--body-bytes", "100"]);
    let url = upstream.url();
    let server = Server::start(&["serve", "async", "--threads", "1", "--upstream", &url]);
    (upstream, server)
}

/// 500 req/s on a 100 ms target keeps 500 x 0.1 = 50 requests on the wire (Little's law), so the open rate must
/// hold 50 connections at least; 200 leaves 4x for bursts while the machine is busy. The rate is kept within 2 %.
#[test]
fn heavy_open_rate_opens_the_connections_the_latency_needs_and_keeps_the_rate() {
    let (upstream, server) = async_server_on_slow_upstream();
    let args = ["--rate", "500", "--open", "-z", "2s", "--warmup", "500ms", "--threads", "1", "--json"];
    let output = load(&[&[server.url("/async-google").as_str()][..], &args[..]].concat());
    let report: LoadReport = serde_json::from_value(stdout_json(&output)).expect("a load report");
    upstream.stop();
    let rate = report.rate.as_ref().expect("rate stats");
    let open = rate.open.as_ref().expect("open-loop stats");
    let needed = (500.0 * DELAY_S) as u64;
    assert!((needed..=4 * needed).contains(&open.most_open), "500/s x 100 ms needs ~50 connections: {open:?}");
    assert_eq!(open.bound_waits, 0, "{open:?}");
    let total = &report.aggregated;
    assert_eq!(total.failures.total(), 0, "{:?}", total.failures);
    let answered = total.latency.samples as f64 / report.duration_secs;
    for achieved in [rate.achieved_per_second, answered] {
        assert!((achieved - 500.0).abs() <= 10.0, "achieved {achieved}/s of 500/s: {rate:?}");
    }
    assert!(total.latency.min_us >= 100_000, "no answer before the upstream's 100 ms: {}", total.latency.min_us);
}

/// A bound of 10 connections carries at most 10 / 0.1 s = 100 req/s: at 500 req/s slots wait for a connection,
/// and the run reports that its generator, not the target, fell behind.
#[test]
fn heavy_open_rate_at_a_low_connection_bound_reports_the_generator_behind() {
    let (upstream, server) = async_server_on_slow_upstream();
    let url = server.url("/async-google");
    let output = load(&[&url, "--rate", "500", "--open", "--max-connections", "10", "-z", "2s", "--json"]);
    let report: LoadReport = serde_json::from_value(stdout_json(&output)).expect("a load report");
    upstream.stop();
    let open = report.rate.as_ref().and_then(|rate| rate.open.clone()).expect("open-loop stats");
    assert_eq!(open.most_open, 10, "{open:?}");
    assert!(open.bound_waits > 0 && open.generator_behind, "{open:?}");
    let answered = report.aggregated.latency.samples as f64 / report.duration_secs;
    assert!(answered <= 10.0 / DELAY_S * 1.1, "10 connections x 10/s each: {answered}/s");
}

/// A one-step search (start = max rate) at 1000 req/s on the async model: the step holds a generous objective
/// (the event loop carries thousands of 100 ms requests a second), so the search ends at the maximum rate with
/// "at least" it - unless this debug build's generator fell behind on a busy machine, which it must then say.
#[test]
fn heavy_find_capacity_reports_each_step_and_its_answer() {
    let (upstream, server) = async_server_on_slow_upstream();
    let url = server.url("/async-google");
    let args = ["--find-capacity", "--slo", "p99 <= 1s", "--start-rate", "1000", "--max-rate", "1000", "--json"];
    let output = load(&[&[url.as_str()][..], &args[..]].concat());
    let report: CapacityReport = serde_json::from_value(stdout_json(&output)).expect("a capacity report");
    upstream.stop();
    assert_eq!(report.steps.len(), 1, "{report:?}");
    let step = &report.steps[0];
    assert_eq!(step.offered_per_second, 1000.0);
    assert!(step.p99_us >= 100_000 && step.connections_open >= 100, "{step:?}");
    match report.ended {
        Some(SearchEnd::MaxRateHeld) => {
            assert_eq!(step.verdict, StepVerdict::Holds);
            assert_eq!((report.capacity_per_second, report.at_least), (Some(1000.0), true));
            assert!(output.status.success());
        }
        Some(SearchEnd::GeneratorBehind { per_second }) => {
            assert_eq!((per_second, step.generator_behind), (1000.0, true), "{step:?}");
            assert_eq!(report.capacity_per_second, None, "nothing held before the generator fell behind");
        }
        other => panic!("the search ended with {other:?}: {report:?}"),
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("offered/s") && stderr.contains("1000.0"), "the step table goes to stderr: {stderr}");
}

#[test]
fn capacity_flags_need_each_other_and_a_readable_objective() {
    let url = "http://127.0.0.1:9/";
    for args in [
        vec![url, "--find-capacity"],
        vec![url, "--find-capacity", "--slo", "p99 < 1s"],
        vec![url, "--find-capacity", "--slo", "p99 <= 1s", "--rate", "10"],
        vec![url, "--open"],
    ] {
        let output = load(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?} was accepted: {}", String::from_utf8_lossy(&output.stderr));
    }
}
