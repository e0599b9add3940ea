//! The async model's HTTP/1.1 path in-process, over real loopback sockets: pipelined requests with mixed body
//! framings, a chunk declared over the body limit, and a head that never completes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

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
