//! `rustcorn serve sync` over real sockets: the endpoints' JSON, keep-alive, `Connection: close`, pipelining,
//! HEAD, `--no-keepalive`, the `--max-threads` queueing in the backlog, and a graceful SIGTERM.

mod support;

use std::io::Write;
use std::time::Duration;

use support::{
    http_client, read_one_response, read_until_closed, split_responses, Server, SlowUpstream, Upstream, UpstreamEvent,
};

/// Generous: two cores run the build, the tests and the servers at once.
const CLOSE_WITHIN: Duration = Duration::from_secs(20);

fn start_sync(extra: &[&str]) -> Server {
    let mut args = vec!["serve", "sync"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

#[test]
fn endpoints_answer_with_the_articles_json_and_the_worker_pid() {
    let upstream = Upstream::start(&["--delay", "10ms", "--body-bytes", "1000"]);
    let upstream_url = upstream.url();
    let server = start_sync(&["--upstream", &upstream_url]);
    let client = http_client();
    let expected = [
        ("/health", "ok"),
        ("/cpu-intensive", "CPU-intensive task completed"),
        ("/memory-intensive", "Memory-intensive task completed"),
        ("/sync-google", "Sync request to google.com completed"),
        ("/async-google", "Async request to google.com completed"),
    ];
    for (path, message) in expected {
        let response = client.get(server.url(path)).send().unwrap_or_else(|error| panic!("GET {path}: {error}"));
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], "application/json", "{path}");
        assert_eq!(headers["x-worker-pid"].to_str().unwrap(), server.process.pid().to_string(), "{path}");
        let body: serde_json::Value = response.json().unwrap_or_else(|error| panic!("{path} JSON: {error}"));
        assert_eq!(body["message"], message, "{path}");
        assert!(body["duration"].as_f64().is_some_and(|seconds| seconds >= 0.0), "{path}: {body}");
    }
    drop(server);
    assert_eq!(upstream.stop(), 2, "each google endpoint fetched the upstream once");
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let server = start_sync(&[]);
    let mut stream = server.connect();
    for path in ["/health", "/cpu-intensive?iterations=1000"] {
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes()).unwrap();
        let response = read_one_response(&mut stream);
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("connection"), None, "HTTP/1.1 keep-alive needs no connection header");
    }
}

#[test]
fn http10_keep_alive_is_granted_when_asked_and_closed_otherwise() {
    let server = start_sync(&[]);
    let mut stream = server.connect();
    stream.write_all(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
    let kept = read_one_response(&mut stream);
    assert_eq!(kept.header("connection"), Some("keep-alive"));
    stream.write_all(b"GET /health HTTP/1.0\r\n\r\n").unwrap();
    let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("HTTP/1.0 without keep-alive is closed");
    assert_eq!(split_responses(&raw, false)[0].status, 200);
}

#[test]
fn connection_close_is_honoured() {
    let server = start_sync(&[]);
    let mut stream = server.connect();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("the server closes after Connection: close");
    let responses = split_responses(&raw, false);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].header("connection"), Some("close"));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start_sync(&[]);
    let mut stream = server.connect();
    let pipelined = b"GET /cpu-intensive?iterations=100 HTTP/1.1\r\nHost: test\r\n\r\n\
        GET /health HTTP/1.1\r\nHost: test\r\n\r\n\
        GET /memory-intensive?n=3 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    stream.write_all(pipelined).unwrap();
    let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("closed after the last request");
    let messages: Vec<String> = split_responses(&raw, false)
        .iter()
        .map(|response| {
            assert_eq!(response.status, 200);
            response.json()["message"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(messages, ["CPU-intensive task completed", "ok", "Memory-intensive task completed"]);
}

#[test]
fn a_pipelined_burst_larger_than_the_read_buffer_is_answered_in_full() {
    // 1000 requests on one connection: past the default keep-alive bound (100), which the next test covers.
    let server = start_sync(&["--max-keepalive-requests", "0"]);
    let mut stream = server.connect();
    let count = 1000;
    let mut burst = Vec::new();
    for index in 0..count {
        let close = if index == count - 1 { "Connection: close\r\n" } else { "" };
        burst.extend_from_slice(
            format!("GET /cpu-intensive?iterations={index} HTTP/1.1\r\nHost: t\r\n{close}\r\n").as_bytes(),
        );
    }
    assert!(burst.len() > 32 * 1024, "the burst spans several read buffers");
    // Written from another thread: the answers flow back while the burst is still being sent.
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&burst));
    let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("closed after the last request");
    sender.join().unwrap().expect("the whole burst was sent");
    let responses = split_responses(&raw, false);
    assert_eq!(responses.len(), count);
    assert!(responses.iter().all(|response| response.status == 200));
}

#[test]
fn head_gets_the_headers_and_the_real_length_without_a_body() {
    let server = start_sync(&[]);
    let get_length = http_client().get(server.url("/health")).send().unwrap().bytes().unwrap().len();
    let mut stream = server.connect();
    stream.write_all(b"HEAD /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("closed after the HEAD response");
    assert!(raw.ends_with(b"\r\n\r\n"), "a HEAD response has no body: {:?}", String::from_utf8_lossy(&raw));
    let responses = split_responses(&raw, true);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].header("content-length"), Some(get_length.to_string().as_str()));
    assert!(responses[0].header("x-worker-pid").is_some());
}

#[test]
fn no_keepalive_closes_after_every_response() {
    let server = start_sync(&["--no-keepalive"]);
    let mut stream = server.connect();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("--no-keepalive closes after one response");
    let responses = split_responses(&raw, false);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].header("connection"), Some("close"));
}

#[test]
fn max_threads_two_serves_three_slow_requests_in_two_waves() {
    let upstream = SlowUpstream::start(Duration::from_secs(1));
    let upstream_url = upstream.url();
    let server = start_sync(&["--max-threads", "2", "--upstream", &upstream_url]);
    let url = server.url("/sync-google");
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || http_client().get(url).send().map(|response| response.status().as_u16()))
        })
        .collect();
    for client in clients {
        assert_eq!(client.join().unwrap().expect("GET /sync-google"), 200);
    }
    let events = upstream.events();
    let third_arrival = events.iter().position(|event| *event == UpstreamEvent::Arrived(2)).expect("third arrival");
    let first_answer = events.iter().position(|event| matches!(event, UpstreamEvent::Answering(_))).expect("an answer");
    assert!(
        first_answer < third_arrival,
        "with two threads the third request must wait until one of the first two is answered: {events:?}"
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_exits_zero() {
    let upstream = SlowUpstream::start(Duration::from_secs(1));
    let upstream_url = upstream.url();
    let mut server = start_sync(&["--upstream", &upstream_url]);
    let url = server.url("/sync-google");
    let in_flight = std::thread::spawn(move || {
        let response = http_client().get(url).send()?;
        Ok::<_, reqwest::Error>((response.status().as_u16(), response.json::<serde_json::Value>()?))
    });
    upstream.wait_for_arrivals(1, CLOSE_WITHIN);
    server.process.signal(libc::SIGTERM);
    let (status, body) = in_flight.join().unwrap().expect("the in-flight request completes");
    assert_eq!(status, 200);
    assert_eq!(body["message"], "Sync request to google.com completed");
    let exit = server.process.wait_exit(CLOSE_WITHIN).expect("the server exits after SIGTERM");
    assert_eq!(exit.code(), Some(0), "stderr:\n{}", server.process.stderr());
}

/// Apache's MaxKeepAliveRequests by default: of 101 pipelined requests, 100 are answered, the last one saying
/// `Connection: close`, and the connection is closed; `--max-keepalive-requests 0` answers them all.
#[test]
fn a_connection_is_closed_after_its_hundredth_response_unless_unbounded() {
    let batch = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n".repeat(101);
    let server = start_sync(&[]);
    let responses = split_responses(&server.raw_exchange(&batch), false);
    assert_eq!(responses.len(), 100);
    assert!(responses.iter().all(|response| response.status == 200));
    assert_eq!(responses[98].header("connection"), None);
    assert_eq!(responses[99].header("connection"), Some("close"));

    let unbounded = start_sync(&["--max-keepalive-requests", "0"]);
    let mut stream = unbounded.connect();
    stream.write_all(&batch).expect("write the batch");
    for _ in 0..101 {
        assert_eq!(read_one_response(&mut stream).header("connection"), None);
    }
}
