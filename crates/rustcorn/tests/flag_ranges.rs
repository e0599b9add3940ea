//! Every numeric flag has a range checked at parse time: a value outside it is a one-line error naming the flag and
//! exit status 2, before anything starts. The values the issue found abort, spin or eat memory are among the cases;
//! the largest accepted values start and stop cleanly.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{http_client, Server};

fn rustcorn(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rustcorn")).args(args).output().expect("run rustcorn")
}

#[test]
fn out_of_range_flags_are_one_line_errors_with_exit_2() {
    let load = "http://127.0.0.1:1/";
    let cases: &[(&[&str], &str)] = &[
        (&["serve", "sync", "--memory-n", "99999999999"], "--memory-n"),
        (&["serve", "sync", "--cpu-iterations", "99999999999999"], "--cpu-iterations"),
        (&["serve", "sync", "--max-threads", "0"], "--max-threads"),
        (&["serve", "sync", "--header-timeout", "99999999999999s"], "--header-timeout"),
        (&["serve", "sync", "--keep-alive-timeout", "0s"], "--keep-alive-timeout"),
        (&["serve", "sync", "--backlog", "0"], "--backlog"),
        (&["serve", "async", "--threads", "100000"], "--threads"),
        (&["serve", "async", "--blocking-threads", "100000"], "--blocking-threads"),
        (&["serve", "async", "--limit-concurrency", "0"], "--limit-concurrency"),
        (&["serve", "async", "--graceful-timeout", "1000d"], "--graceful-timeout"),
        (&["serve", "prefork", "-w", "1000"], "--workers"),
        (&["serve", "prefork", "--timeout", "99999999999999999999"], "--timeout"),
        (&["serve", "prefork", "--max-requests", "18446744073709551615"], "--max-requests"),
        (&["serve", "sync", "--max-keepalive-requests", "18446744073709551615"], "--max-keepalive-requests"),
        (&["serve", "prefork", "--max-keepalive-requests", "1000000000001"], "--max-keepalive-requests"),
        (&["upstream", "--body-bytes", "99999999999999"], "--body-bytes"),
        (&["upstream", "--delay", "30d"], "--delay"),
        (&["upstream", "--threads", "0"], "--threads"),
        (&["load", load, "-c", "4294967296"], "--connections"),
        (&["load", load, "-c", "99999999999"], "--connections"),
        (&["load", load, "--rate", "1e300"], "--rate"),
        (&["load", load, "-z", "0s"], "--duration"),
        (&["load", load, "-n", "0"], "--requests"),
        (&["load", load, "--threads", "0"], "--threads"),
        (&["load", load, "--cpus", "0-99999999999"], "--cpus"),
        (&["load", load, "--users", "5", "--think", "1e30..1e31"], "--think"),
    ];
    for (args, flag) in cases {
        let output = rustcorn(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: one line, got {stderr:?}");
        assert!(stderr.contains(flag), "{args:?}: {stderr:?} does not name {flag}");
        assert!(output.stdout.is_empty(), "{args:?} printed {:?}", String::from_utf8_lossy(&output.stdout));
    }
}

#[test]
fn help_documents_the_ranges() {
    let output = rustcorn(&["serve", "sync", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    for range in ["0..=1e9", "0..=1e7", "1..=4096", "1..=65535", "1ms..=24h"] {
        assert!(help.contains(range), "serve sync --help does not show {range}:\n{help}");
    }
}

/// The largest values the flags allow start, serve and stop on SIGTERM with exit 0.
#[test]
fn the_largest_accepted_values_serve_and_stop_cleanly() {
    let largest: &[&[&str]] = &[
        &["serve", "async", "--threads", "1024", "--blocking-threads", "4096", "--memory-n", "10000000"],
        &["serve", "sync", "--max-threads", "4096", "--memory-n", "10000000", "--backlog", "65535"],
    ];
    for args in largest {
        let mut server = Server::start(args);
        let response = http_client().get(server.url("/memory-intensive")).send().expect("request");
        assert_eq!(response.status().as_u16(), 200, "{args:?}");
        server.process.signal(libc::SIGTERM);
        let status = server.process.wait_exit(Duration::from_secs(30)).expect("stopped on SIGTERM");
        assert!(status.success(), "{args:?} exited with {status}; stderr:\n{}", server.process.stderr());
    }
}
