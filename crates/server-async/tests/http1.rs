//! The async model's HTTP/1.1 path in-process, over real loopback sockets: pipelined requests with mixed body
//! framings, a chunk declared over the body limit, a head that never completes, and the deadlines of a kept-alive
//! connection (idle between requests, and a later head that stalls).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use endpoints::{AppConfig, UpstreamClient};
use server_kit::lifecycle::Shutdown;
use server_kit::listener;

/// A running async server on loopback; stopped when dropped.
struct TestServer {
    addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<std::thread::JoinHandle<Result<(), server_async::ServeError>>>,
}

impl TestServer {
    fn start(header_timeout: Duration) -> Self {
        let listener = listener::bind("127.0.0.1:0".parse().unwrap(), 64, false).unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = UpstreamClient::new("http://127.0.0.1:9/", None).unwrap();
        let mut config = server_async::Config::new(AppConfig::default(), upstream);
        config.header_timeout = header_timeout;
        let shutdown = Shutdown::new();
        let thread = {
            let shutdown = shutdown.clone();
            std::thread::spawn(move || server_async::run(listener, config, shutdown))
        };
        Self { addr, shutdown, thread: Some(thread) }
    }

    /// Sends `request` on a fresh connection and returns everything read until the server closes it.
    fn exchange(&self, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.write_all(request).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read until the server closes");
        String::from_utf8_lossy(&raw).into_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The status codes of the responses in `raw`, in order.
fn statuses(raw: &str) -> Vec<u16> {
    raw.match_indices("HTTP/1.1 ").filter_map(|(at, _)| raw.get(at + 9..at + 12)?.parse().ok()).collect()
}

#[test]
fn pipelined_requests_keep_their_own_body_framing() {
    let server = TestServer::start(Duration::from_secs(10));
    // A chunked request followed by one with Content-Length: each framing belongs to its own request.
    let raw = server.exchange(
        b"POST /health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
          POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi\
          GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(statuses(&raw), [405, 405, 200], "{raw}");
}

#[test]
fn a_chunk_declared_over_the_limit_is_refused_before_its_data() {
    let server = TestServer::start(Duration::from_secs(10));
    let raw = server.exchange(b"POST /health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\nxx");
    assert_eq!(statuses(&raw), [413], "{raw}");
    assert!(raw.contains("\r\nconnection: close\r\n") && raw.contains("\"detail\""), "{raw}");
}

#[test]
fn a_head_that_never_completes_is_408_after_the_header_timeout() {
    let server = TestServer::start(Duration::from_millis(300));
    let raw = server.exchange(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Never: ");
    assert_eq!(statuses(&raw), [408], "{raw}");
    assert!(raw.contains("timed out reading the request head"), "{raw}");
    let silent = server.exchange(b"");
    assert_eq!(silent, "", "a connection that sent nothing is closed without a word");
}

/// A kept-alive client connection to `server`.
fn connect(server: &TestServer) -> TcpStream {
    let stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// Sends `GET /health` on `stream` and returns the status of its response.
fn get_health(stream: &mut TcpStream) -> u16 {
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    read_one_response(stream)
}

/// Reads one response whose body is JSON (ends with `}`) and returns its status.
fn read_one_response(stream: &mut TcpStream) -> u16 {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"}") {
        assert_eq!(stream.read(&mut byte).expect("read a response"), 1, "closed before a whole response");
        raw.push(byte[0]);
    }
    statuses(&String::from_utf8_lossy(&raw)).first().copied().expect("a status line")
}

/// What the server sends until it closes, and how long after the call that close came.
fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read until the server closes");
    (String::from_utf8_lossy(&raw).into_owned(), started.elapsed())
}

#[test]
fn a_kept_alive_connection_outlives_its_first_deadline_while_requests_come_and_closes_a_timeout_after_the_last() {
    let header_timeout = Duration::from_millis(1500);
    let server = TestServer::start(header_timeout);
    let mut stream = connect(&server);
    // Six requests a third of the timeout apart: the connection lives twice the timeout, past the deadline its
    // timer was first armed for (the accept's), so that timer fires while requests still come and must move on.
    let started = Instant::now();
    let mut last_response = started;
    for _ in 0..6 {
        assert_eq!(get_health(&mut stream), 200);
        last_response = Instant::now();
        std::thread::sleep(header_timeout / 3);
    }
    assert!(started.elapsed() > header_timeout, "the requests spanned more than the first deadline");
    let (rest, _) = read_until_closed(&mut stream);
    assert_eq!(rest, "", "an idle connection is closed without a word");
    // Timers never fire early: the close comes a timeout after the last response, counted here from its reading
    // (not from the end of the test's own sleep, which a busy machine stretches). The reading comes a little after
    // the server's write the timeout counts from: a tenth of slack for that, where a timer firing on its old
    // deadline would close a third of the timeout early.
    let idle = last_response.elapsed();
    assert!(idle >= header_timeout * 9 / 10, "closed {idle:?} after the last response");
}

#[test]
fn a_later_request_whose_head_stalls_gets_408_a_header_timeout_after_its_first_bytes() {
    let header_timeout = Duration::from_millis(1000);
    let server = TestServer::start(header_timeout);
    let mut stream = connect(&server);
    assert_eq!(get_health(&mut stream), 200);
    // Idle for most of the timeout, then half a head: its deadline counts from these bytes, not from the response.
    std::thread::sleep(header_timeout * 4 / 5);
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Never: ").unwrap();
    let (raw, waited) = read_until_closed(&mut stream);
    assert_eq!(statuses(&raw), [408], "{raw}");
    assert!(waited >= header_timeout, "408 came {waited:?} after the head's first bytes");
}
