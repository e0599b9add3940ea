//! `server_sync::run` in-process over a real socket: the hooks a supervisor relies on, and a graceful return.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoints::{AppConfig, UpstreamClient};
use server_kit::lifecycle::{Shutdown, WorkerHooks};
use server_sync::Config;

#[derive(Default)]
struct CountingHooks {
    served: AtomicU64,
    heartbeats: AtomicU64,
}

impl WorkerHooks for CountingHooks {
    fn request_served(&self) {
        self.served.fetch_add(1, Ordering::SeqCst);
    }
    fn heartbeat(&self) {
        self.heartbeats.fetch_add(1, Ordering::SeqCst);
    }
}

fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn counts_responses_heartbeats_while_idle_and_returns_on_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hooks = Arc::new(CountingHooks::default());
    // Nothing listens on port 1: the upstream is never called here.
    let mut config = Config::new(AppConfig::default(), UpstreamClient::new("http://127.0.0.1:1/", None).unwrap());
    config.hooks = hooks.clone();
    config.max_threads = 2;
    let shutdown = Shutdown::new();
    let server = {
        let shutdown = shutdown.clone();
        std::thread::spawn(move || server_sync::run(listener, config, shutdown))
    };

    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).unwrap();
    let text = String::from_utf8(received).unwrap();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    assert_eq!(text.matches("HTTP/1.1 404 Not Found").count(), 1, "{text}");
    assert_eq!(hooks.served.load(Ordering::SeqCst), 3, "one request_served per response written");

    // Threads blocked in accept with nothing to do still heartbeat.
    let before = hooks.heartbeats.load(Ordering::SeqCst);
    wait_until("idle heartbeats", || hooks.heartbeats.load(Ordering::SeqCst) >= before + 4);

    shutdown.cancel();
    let result = server.join().expect("the server thread does not panic");
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn shutdown_closes_idle_kept_alive_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::new(AppConfig::default(), UpstreamClient::new("http://127.0.0.1:1/", None).unwrap());
    let shutdown = Shutdown::new();
    let server = {
        let shutdown = shutdown.clone();
        std::thread::spawn(move || server_sync::run(listener, config, shutdown))
    };
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    shutdown.cancel();
    // The kept-alive connection is idle: the server closes it (EOF after the rest of the first response).
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).expect("closed by the server, not timed out");
    assert!(server.join().expect("no panic").is_ok());
}
