//! `rustcorn serve async` over real sockets: the endpoints with a real upstream child, HEAD, the multi-thread
//! runtime, --limit-concurrency, what --blocking inline costs the event loop, and graceful SIGTERM.

mod support;

use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{body_of, header_of, http_client, read_to_close, status_of, wait_for_stderr, Server, Upstream};

/// What the upstream logs at debug level when a request reaches it: the sign that a server's call is in flight.
const UPSTREAM_RECEIVED: &str = "upstream request received";
const WAIT: Duration = Duration::from_secs(60);

/// An upstream that logs each request it receives, and an async server calling it with `extra` flags.
fn upstream_and_server(delay: &str, extra: &[&str]) -> (Upstream, Server) {
    let upstream = Upstream::start(&["--delay", delay, "--log-level", "debug"]);
    let url = upstream.url();
    let mut args = vec!["serve", "async", "--upstream", &url];
    args.extend_from_slice(extra);
    let server = Server::start(&args);
    (upstream, server)
}

/// Sends `GET path` with `Connection: close` on a fresh connection and returns the stream to read it from.
fn send_get(server: &Server, path: &str) -> TcpStream {
    let mut stream = server.connect();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write request");
    stream
}

/// Waits until the upstream has received a request, i.e. the server's upstream call is in flight.
fn wait_until_upstream_received(upstream: &Upstream) {
    assert!(
        wait_for_stderr(&upstream.process, UPSTREAM_RECEIVED, WAIT),
        "the upstream never received the call; stderr:\n{}",
        upstream.process.stderr()
    );
}

/// True when response bytes have already arrived on `stream` (without consuming them).
fn has_data(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).expect("set_nonblocking");
    let arrived = match stream.peek(&mut [0u8; 1]) {
        Ok(n) => n > 0,
        Err(error) if error.kind() == ErrorKind::WouldBlock => false,
        Err(error) => panic!("peek failed: {error}"),
    };
    stream.set_nonblocking(false).expect("set_nonblocking");
    arrived
}

fn json_of(raw: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body_of(raw)).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(raw)))
}

fn assert_article_answer(server: &Server, path: &str, message: &str) {
    let response = http_client().get(server.url(path)).send().expect("request");
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "application/json", "{path}");
    assert_eq!(response.headers()["x-worker-pid"], server.process.pid().to_string().as_str(), "{path}");
    let body: serde_json::Value = response.json().expect("JSON body");
    assert_eq!(body["message"], message, "{path}");
    assert!(body["duration"].as_f64().is_some_and(|seconds| seconds >= 0.0), "{path}: {body}");
}

#[test]
fn four_endpoints_and_health_answer_the_articles_json() {
    let (upstream, server) = upstream_and_server("10ms", &[]);
    assert_article_answer(&server, "/cpu-intensive", "CPU-intensive task completed");
    assert_article_answer(&server, "/memory-intensive", "Memory-intensive task completed");
    assert_article_answer(&server, "/sync-google", "Sync request to google.com completed");
    assert_article_answer(&server, "/async-google", "Async request to google.com completed");
    assert_article_answer(&server, "/health", "ok");
    assert_eq!(upstream.stop(), 2, "one upstream call each for /sync-google and /async-google");
}

#[test]
fn errors_carry_the_worker_pid_and_json() {
    let server = Server::start(&["serve", "async"]);
    for (path, status) in [("/nope", 404), ("/cpu-intensive?iterations=abc", 400), ("/memory-intensive?n=-1", 400)] {
        let raw = read_to_close(&mut send_get(&server, path));
        assert_eq!(status_of(&raw), Some(status), "{path}");
        assert_eq!(header_of(&raw, "x-worker-pid"), Some(server.process.pid().to_string()), "{path}");
        assert_eq!(header_of(&raw, "content-type").as_deref(), Some("application/json"), "{path}");
        assert!(json_of(&raw)["detail"].is_string(), "{path}");
    }
}

#[test]
fn head_answers_headers_without_a_body() {
    let server = Server::start(&["serve", "async"]);
    let raw = server.raw_exchange(b"HEAD /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&raw), Some(200));
    assert_eq!(header_of(&raw, "x-worker-pid"), Some(server.process.pid().to_string()));
    assert!(header_of(&raw, "content-length").is_some_and(|length| length != "0"));
    assert!(body_of(&raw).is_empty());
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = Server::start(&["serve", "async"]);
    let mut stream = server.connect();
    let request = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n";
    let last = b"GET /memory-intensive HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    stream.write_all(&[&request[..], request, last].concat()).expect("write pipelined requests");
    let raw = String::from_utf8(read_to_close(&mut stream)).expect("utf-8");
    assert_eq!(raw.matches("HTTP/1.1 200 OK").count(), 3, "{raw}");
    assert!(raw.ends_with(r#"}"#) && raw.contains("Memory-intensive task completed"), "{raw}");
}

#[test]
fn multi_thread_runtime_serves_every_endpoint() {
    let (upstream, server) = upstream_and_server("10ms", &["--threads", "2"]);
    assert_article_answer(&server, "/cpu-intensive", "CPU-intensive task completed");
    assert_article_answer(&server, "/sync-google", "Sync request to google.com completed");
    assert_article_answer(&server, "/async-google", "Async request to google.com completed");
    assert_eq!(upstream.stop(), 2);
}

#[test]
fn limit_concurrency_refuses_a_second_request_while_one_is_in_flight() {
    let (upstream, server) = upstream_and_server("2s", &["--limit-concurrency", "1"]);
    let mut slow = send_get(&server, "/sync-google");
    wait_until_upstream_received(&upstream);

    let refused = read_to_close(&mut send_get(&server, "/health"));
    assert_eq!(status_of(&refused), Some(503), "{}", String::from_utf8_lossy(&refused));
    assert_eq!(header_of(&refused, "x-worker-pid"), Some(server.process.pid().to_string()));

    assert_eq!(status_of(&read_to_close(&mut slow)), Some(200));
    // The slot is free again once the slow request is answered.
    assert_eq!(status_of(&read_to_close(&mut send_get(&server, "/health"))), Some(200));
}

#[test]
fn inline_blocking_call_stalls_the_event_loop() {
    let (upstream, server) = upstream_and_server("2s", &["--threads", "1", "--blocking", "inline"]);
    let mut sync_google = send_get(&server, "/sync-google");
    wait_until_upstream_received(&upstream);

    let health = read_to_close(&mut send_get(&server, "/health"));
    assert_eq!(status_of(&health), Some(200));
    // The one event-loop thread was inside the blocking call, so /health could only be served after it: the
    // /sync-google response was already written when the /health response came.
    assert!(has_data(&sync_google), "/health was answered while /sync-google was still blocking the event loop");
    assert_eq!(status_of(&read_to_close(&mut sync_google)), Some(200));
}

#[test]
fn pooled_blocking_call_leaves_the_event_loop_free() {
    let (upstream, server) = upstream_and_server("2s", &["--threads", "1"]);
    let mut sync_google = send_get(&server, "/sync-google");
    wait_until_upstream_received(&upstream);

    let health = read_to_close(&mut send_get(&server, "/health"));
    assert_eq!(status_of(&health), Some(200));
    assert!(!has_data(&sync_google), "/sync-google was answered before /health although its upstream takes 2 s");
    assert_eq!(status_of(&read_to_close(&mut sync_google)), Some(200));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_0() {
    let (upstream, mut server) = upstream_and_server("1s", &[]);
    let mut in_flight = send_get(&server, "/async-google");
    wait_until_upstream_received(&upstream);

    server.process.signal(libc::SIGTERM);
    let raw = read_to_close(&mut in_flight);
    assert_eq!(status_of(&raw), Some(200), "{}", String::from_utf8_lossy(&raw));
    assert_eq!(json_of(&raw)["message"], "Async request to google.com completed");
    let status = server.process.wait_exit(WAIT).expect("the server did not exit after SIGTERM");
    assert!(status.success(), "exit status {status}; stderr:\n{}", server.process.stderr());
    assert!(TcpStream::connect(server.addr).is_err(), "the server still accepts after it exited");
}
