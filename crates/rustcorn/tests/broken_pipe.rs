//! A server whose stdout and stderr are closed pipes (`rustcorn serve ... 2>&1 | head -1` after head exits) still
//! serves and still stops on SIGTERM: stopping never depends on a log line being written.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{read_to_close, status_of, wait_exit, STARTUP_TIMEOUT};

/// Generous: the stop itself takes milliseconds, but two cores run the build and the tests at once.
const STOP_WITHIN: Duration = Duration::from_secs(20);

/// Starts `rustcorn ARGS... --bind 127.0.0.1:0`, reads its `Listening at:` line, then closes both of its output
/// pipes so that every later write to stdout or stderr fails with EPIPE.
fn start_then_break_pipes(args: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(args)
        .args(["--bind", "127.0.0.1:0", "--log-level", "debug"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rustcorn");
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|read| read > 0) {
            if let Some(addr) = line.strip_prefix("Listening at: http://") {
                let _ = sender.send(addr.trim().to_owned());
                // Returning drops the reader: stdout is now a pipe without a reader.
                return;
            }
            line.clear();
        }
    });
    drop(child.stderr.take());
    let addr = lines.recv_timeout(STARTUP_TIMEOUT).expect("a Listening line").parse().expect("an address");
    (child, addr)
}

fn get_health(addr: SocketAddr) -> Option<u16> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").ok()?;
    status_of(&read_to_close(&mut stream))
}

fn assert_stops_on_term_with_broken_pipes(args: &[&str], expect_health: bool) {
    let (mut child, addr) = start_then_break_pipes(args);
    if expect_health {
        // Each request may log at debug level: with stderr gone, it must still be answered.
        assert_eq!(get_health(addr), Some(200), "{args:?} serves with its pipes closed");
    }
    // SAFETY: kill(2) on our own child's pid has no memory effects.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = wait_exit(&mut child, STOP_WITHIN);
    let _ = child.kill();
    let status = status.unwrap_or_else(|| panic!("{args:?} ignored SIGTERM with its stderr a broken pipe"));
    assert!(status.success(), "{args:?} exited with {status}");
}

#[test]
fn sync_server_stops_on_term_with_broken_pipes() {
    assert_stops_on_term_with_broken_pipes(&["serve", "sync"], true);
}

#[test]
fn async_server_stops_on_term_with_broken_pipes() {
    assert_stops_on_term_with_broken_pipes(&["serve", "async"], true);
}

#[test]
fn prefork_master_stops_on_term_with_broken_pipes() {
    assert_stops_on_term_with_broken_pipes(&["serve", "prefork", "-w", "2", "-k", "async"], true);
}

#[test]
fn upstream_stops_on_term_with_broken_pipes() {
    assert_stops_on_term_with_broken_pipes(&["upstream", "--delay", "0ms"], false);
}
