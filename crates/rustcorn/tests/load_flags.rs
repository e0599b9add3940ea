//! `rustcorn load`'s wrk/oha flags, each checked against a real server that records what it received
//! (support::echo): the request shape (-m, -H, -d, -D, --disable-keepalive), the status-code table, -o, --quiet,
//! the -q/-R rate aliases and the failure threshold's exit status.

mod support;

use support::echo::{header, EchoServer};
use support::load;

/// Connections that carried a request (the load generator's reachability probe carries none).
fn connections_used(received: &[support::echo::Echoed]) -> usize {
    let mut ids: Vec<usize> = received.iter().map(|request| request.connection).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn method_headers_and_body_reach_the_server_on_every_request() {
    let echo = EchoServer::start();
    let url = echo.url("/echo");
    let args = ["-c", "1", "-n", "5", "-m", "POST", "-H", "X-Token: abc", "-H", "User-Agent: mine", "-d", "hello"];
    let output = load(&[&[url.as_str()], &args[..]].concat());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let received = echo.received();
    assert_eq!(received.len(), 5, "{received:?}");
    for request in &received {
        assert!(request.head.starts_with("POST /echo HTTP/1.1\r\n"), "{}", request.head);
        assert_eq!(header(&request.head, "x-token"), Some("abc"));
        assert_eq!(header(&request.head, "user-agent"), Some("mine"), "-H replaces the default");
        assert_eq!(header(&request.head, "content-length"), Some("5"));
        assert_eq!(request.body, b"hello");
    }
    assert_eq!(connections_used(&received), 1, "keep-alive by default");

    let file = std::env::temp_dir().join(format!("rustcorn-load-body-{}.bin", std::process::id()));
    std::fs::write(&file, [0u8, 1, 2, 255]).expect("write the body file");
    let file_echo = EchoServer::start();
    let output = load(&[&file_echo.url("/"), "-c", "1", "-n", "2", "-m", "PUT", "-D", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(file_echo.received().iter().all(|r| r.head.starts_with("PUT / ") && r.body == [0, 1, 2, 255]));
    let _ = std::fs::remove_file(&file);
}

#[test]
fn disable_keepalive_opens_a_connection_per_request() {
    let echo = EchoServer::start();
    let output = load(&[&echo.url("/"), "-c", "1", "-n", "6", "--disable-keepalive"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let received = echo.received();
    assert_eq!(received.len(), 6);
    assert!(received.iter().all(|r| header(&r.head, "connection") == Some("close")), "{received:?}");
    assert_eq!(connections_used(&received), 6, "one connection per request");
}

#[test]
fn status_table_output_file_quiet_rate_aliases_and_failure_threshold() {
    let echo = EchoServer::start();
    let out = std::env::temp_dir().join(format!("rustcorn-load-out-{}.txt", std::process::id()));
    let failing = load(&[&echo.url("/status/404"), "-c", "1", "-n", "10", "-o", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(failing.status.code(), Some(1), "every request failed: {}", text(&failing.stderr));
    assert!(text(&failing.stderr).contains("10 of 10 requests failed (100.0 %), beyond --max-failures 5%"));
    assert!(failing.stdout.is_empty(), "--quiet: {}", text(&failing.stdout));
    let summary = std::fs::read_to_string(&out).expect("-o wrote the summary");
    assert!(summary.contains("Status code distribution:\n  [404] 10 responses\n"), "{summary}");

    let allowed = load(&[&echo.url("/status/404"), "-c", "1", "-n", "4", "--max-failures", "100%"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stderr));
    assert!(text(&allowed.stdout).contains("[404] 4 responses"));

    for alias in ["-q", "-R", "--rate"] {
        let output = load(&[&echo.url("/"), alias, "200", "-c", "2", "-n", "6", "--json"]);
        assert!(output.status.success(), "{alias}: {}", text(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(report["model"], "rate", "{alias}");
        assert_eq!(report["statuses"][0]["status"], 200, "{alias}");
    }
    let _ = std::fs::remove_file(&out);
}
