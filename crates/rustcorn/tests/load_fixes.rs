//! `rustcorn load` and `rustcorn serve` mistakes a wrk/oha user met, each against the real binary: a mistyped
//! task weight, a negative count, an unwritable output file, colour codes in a log file, a debug dump at start.

mod support;

use std::process::{Command, Output, Stdio};

use support::Server;

fn rustcorn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rustcorn")).args(args).stdin(Stdio::null()).output().expect("run rustcorn")
}

fn first_stderr_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).lines().next().unwrap_or_default().to_owned()
}

/// Each refused before any request: exit 2, one line naming what is wrong, nothing on stdout.
#[test]
fn load_refuses_a_bad_weight_a_negative_count_and_an_unwritable_file_before_the_run() {
    let server = Server::start(&["serve", "async"]);
    let url = server.url("/health");
    let cases: [(&[&str], &str); 5] = [
        (&["--task", "/health:abc", "-n", "5"], "\"abc\" is not a weight"),
        (&["-c", "-1", "-n", "5"], "-1 is not in 1..=100000"),
        (&["-n", "-3"], "-3"),
        (&["-n", "5", "--csv", "/nonexistent-dir/stats.csv"], "--csv: cannot write /nonexistent-dir/stats.csv"),
        (&["-n", "5", "--hlog", "/nonexistent-dir/run.hlog"], "--hlog: cannot write /nonexistent-dir/run.hlog"),
    ];
    for (args, expected) in cases {
        let mut all = vec![url.as_str()];
        all.extend_from_slice(args);
        let output = rustcorn(&[&["load"], all.as_slice()].concat());
        let line = first_stderr_line(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {line}");
        assert!(line.contains(expected), "{args:?}: {line:?} lacks {expected:?}");
        assert!(!line.contains("'-- -1'"), "clap's tip to pass -1 as a positional is wrong here: {line}");
        assert!(output.stdout.is_empty(), "{args:?} ran: {}", String::from_utf8_lossy(&output.stdout));
    }
}

/// stderr that is a pipe gets plain text, and the server's start line is one short line, not a Config dump.
#[test]
fn serve_logs_without_colour_codes_or_a_config_dump_when_stderr_is_a_pipe() {
    let server = Server::start(&["serve", "async"]);
    assert!(support::wait_for_stderr(&server.process, "serving", support::STARTUP_TIMEOUT));
    let stderr = server.process.stderr();
    assert!(!stderr.contains('\u{1b}'), "ANSI escape codes in a pipe: {stderr:?}");
    assert!(!stderr.contains("Config {"), "a debug dump at start: {stderr}");
}
