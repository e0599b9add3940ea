//! `server_async::run` in-process: the supervisor hooks (responses counted, heartbeat ticking) and a graceful
//! return once the shutdown token is cancelled.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoints::{AppConfig, UpstreamClient};
use server_kit::lifecycle::{Shutdown, WorkerHooks};
use server_kit::listener;

#[derive(Default)]
struct CountingHooks {
    served: AtomicU64,
    beats: AtomicU64,
}

impl WorkerHooks for CountingHooks {
    fn request_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }
    fn heartbeat(&self) {
        self.beats.fetch_add(1, Ordering::Relaxed);
    }
}

fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
    stream.write_all(request).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read until close");
    raw
}

/// Polls `condition` until it holds or a generous deadline passes.
fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn hooks_count_responses_and_heartbeats_and_run_returns_on_shutdown() {
    let listener = listener::bind("127.0.0.1:0".parse().unwrap(), 64, false).unwrap();
    let addr = listener.local_addr().unwrap();
    let hooks = Arc::new(CountingHooks::default());
    let mut config =
        server_async::Config::new(AppConfig::default(), UpstreamClient::new("http://127.0.0.1:9/", None).unwrap());
    config.hooks = hooks.clone();
    let shutdown = Shutdown::new();
    let server = {
        let shutdown = shutdown.clone();
        std::thread::spawn(move || server_async::run(listener, config, shutdown))
    };

    let ok = exchange(addr, b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert!(ok.starts_with("HTTP/1.1 200 "), "{ok}");
    let missing = exchange(addr, b"GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
    assert_eq!(hooks.served.load(Ordering::Relaxed), 2);
    assert!(eventually(|| hooks.beats.load(Ordering::Relaxed) >= 2), "the heartbeat never ticked twice");

    shutdown.cancel();
    server.join().expect("server thread").expect("run returned an error");
    assert!(TcpStream::connect(addr).is_err(), "still accepting after run returned");
}
