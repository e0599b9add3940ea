//! One in-process HTTP/1.1 round trip over loopback to the async server's /health on a keep-alive connection:
//! the model's fixed overhead per request, without any endpoint work.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use endpoints::{AppConfig, UpstreamClient};
use server_kit::lifecycle::Shutdown;
use server_kit::listener;

const REQUEST: &[u8] = b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n";

/// Reads one response with a Content-Length body from `stream` into `buffer`; returns its total length.
fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> usize {
    buffer.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("read response");
        assert!(n > 0, "server closed the connection");
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(total) = complete_length(buffer) {
            if buffer.len() >= total {
                return total;
            }
        }
    }
}

fn complete_length(raw: &[u8]) -> Option<usize> {
    let head_end = raw.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    let body: usize = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    })?;
    Some(head_end + body)
}

fn health_roundtrip(c: &mut Criterion) {
    let listener = listener::bind("127.0.0.1:0".parse().expect("address"), 128, false).expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let upstream = UpstreamClient::new("http://127.0.0.1:9/", None).expect("upstream client");
    let config = server_async::Config::new(AppConfig::default(), upstream);
    let shutdown = Shutdown::new();
    let server = {
        let shutdown = shutdown.clone();
        std::thread::spawn(move || server_async::run(listener, config, shutdown))
    };

    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    let mut buffer = Vec::with_capacity(4096);
    c.bench_function("async current_thread GET /health keep-alive", |b| {
        b.iter(|| {
            stream.write_all(REQUEST).expect("write request");
            read_response(&mut stream, &mut buffer)
        })
    });

    drop(stream);
    shutdown.cancel();
    server.join().expect("server thread").expect("server run");
}

criterion_group!(benches, health_roundtrip);
criterion_main!(benches);
