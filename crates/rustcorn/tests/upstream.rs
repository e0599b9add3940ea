//! `rustcorn upstream`, the google.com stand-in: concurrency, body size, graceful stop and its served counter,
//! over real sockets against the real binary.

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use support::{body_of, header_of, read_to_close, status_of, wait_for_stderr, Upstream, STARTUP_TIMEOUT};

const IN_FLIGHT: &str = "x-in-flight";

fn get(addr: SocketAddr, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect to the upstream");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("set_read_timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write request");
    stream
}

#[test]
fn concurrent_slow_requests_are_all_in_flight_together() {
    const CLIENTS: usize = 50;
    let upstream = Upstream::start(&["--delay", "1s", "--body-bytes", "1234"]);
    let addr = upstream.addr;
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                read_to_close(&mut get(addr, &format!("/any/path/{i}")))
            })
        })
        .collect();
    let responses: Vec<Vec<u8>> = clients.into_iter().map(|client| client.join().expect("client thread")).collect();

    let mut most_in_flight = 0;
    for raw in &responses {
        assert_eq!(status_of(raw), Some(200), "response: {}", String::from_utf8_lossy(raw));
        assert_eq!(body_of(raw).len(), 1234);
        let in_flight: usize = header_of(raw, IN_FLIGHT).and_then(|value| value.parse().ok()).expect("x-in-flight");
        most_in_flight = most_in_flight.max(in_flight);
    }
    // The upstream held every request at once: a serial server would never report more than 1.
    assert_eq!(most_in_flight, CLIENTS);
    assert_eq!(upstream.stop(), CLIENTS as u64);
}

#[test]
fn default_body_is_15000_bytes_and_head_has_none() {
    let upstream = Upstream::start(&["--delay", "0ms"]);
    let raw = read_to_close(&mut get(upstream.addr, "/"));
    assert_eq!(status_of(&raw), Some(200));
    assert_eq!(body_of(&raw).len(), 15_000);

    let mut stream = TcpStream::connect(upstream.addr).expect("connect");
    stream.write_all(b"HEAD / HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n").expect("write");
    let raw = read_to_close(&mut stream);
    assert_eq!(status_of(&raw), Some(200));
    assert_eq!(header_of(&raw, "content-length").as_deref(), Some("15000"));
    assert!(body_of(&raw).is_empty());
    assert_eq!(upstream.stop(), 2);
}

#[test]
fn other_methods_are_405() {
    let upstream = Upstream::start(&["--delay", "0ms"]);
    let mut stream = TcpStream::connect(upstream.addr).expect("connect");
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: upstream\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .expect("write");
    assert_eq!(status_of(&read_to_close(&mut stream)), Some(405));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let upstream = Upstream::start(&["--delay", "1s", "--log-level", "debug"]);
    let mut stream = get(upstream.addr, "/in-flight");
    assert!(
        wait_for_stderr(&upstream.process, "upstream request received", STARTUP_TIMEOUT),
        "the upstream never logged the request; stderr:\n{}",
        upstream.process.stderr()
    );
    upstream.process.signal(libc::SIGTERM);
    let raw = read_to_close(&mut stream);
    assert_eq!(status_of(&raw), Some(200));
    assert_eq!(body_of(&raw).len(), 15_000);
    assert_eq!(upstream.wait_stopped(), 1);
}

#[test]
fn heavy_upstream_holds_a_thousand_sleeping_requests_on_one_thread() {
    const CLIENTS: usize = 1000;
    let upstream = Upstream::start(&["--delay", "2s", "--body-bytes", "1000", "--threads", "1"]);
    let streams: Vec<TcpStream> = (0..CLIENTS).map(|i| get(upstream.addr, &format!("/{i}"))).collect();
    let mut most_in_flight = 0;
    for mut stream in streams {
        let raw = read_to_close(&mut stream);
        assert_eq!(status_of(&raw), Some(200));
        assert_eq!(body_of(&raw).len(), 1000);
        let in_flight: usize = header_of(&raw, IN_FLIGHT).and_then(|value| value.parse().ok()).expect("x-in-flight");
        most_in_flight = most_in_flight.max(in_flight);
    }
    assert_eq!(most_in_flight, CLIENTS);
    assert_eq!(upstream.stop(), CLIENTS as u64);
}

/// The ground truth: asked for 50 ms, every GET is held at least 50 ms and released well within a millisecond of it
/// at the median, which tokio's timer (51.7 ms at the median) cannot do: it rounds each sleep up to its next
/// millisecond tick. The record holds exactly the requests served. On an idle core the holds are within 0.2 ms at
/// p50 and 0.5 ms at p99 (the README's figures, measured pinned); this test runs beside other work, so it bounds the
/// median lateness only, by 1 ms: 45 runs at load average 12-17 on this 2-core machine gave 80-391 µs.
#[test]
fn heavy_upstream_holds_the_delay_it_is_asked_and_records_each_hold() {
    const REQUESTS: u64 = 300;
    let upstream = Upstream::start(&["--delay", "50ms", "--jitter", "0ms", "--body-bytes", "100"]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(["load", &upstream.url(), "-c", "10", "-n", &REQUESTS.to_string(), "--json"])
        .output()
        .expect("run rustcorn load");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (served, holds) = upstream.stop_with_holds();
    assert_eq!(served, REQUESTS);
    assert_eq!((holds.hold.samples, holds.late.samples), (REQUESTS, REQUESTS), "one hold recorded per request");
    assert_eq!((holds.delay_us, holds.jitter_us), (50_000, 0));
    assert!(holds.hold.min_us >= 50_000, "held {} µs, less than asked", holds.hold.min_us);
    assert!(holds.late.median_us <= 1_000, "released {} µs late at the median", holds.late.median_us);
    assert_eq!(holds.hold.min_us - 50_000, holds.late.min_us, "lateness is the hold minus the delay");
}

#[test]
fn a_record_file_that_cannot_be_written_is_refused_before_serving() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(["upstream", "--bind", "127.0.0.1:0", "--record", "/nonexistent-dir/holds.json"])
        .output()
        .expect("run rustcorn upstream");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--record") && stderr.contains("/nonexistent-dir/holds.json"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Listening at:"), "it never served");
}
