//! Criterion micro-benchmarks of the handlers not covered by handlers.rs: /health, and /sync-google and
//! /async-google against the real upstream stand-in running in-process with no delay, so that what is measured is
//! the handlers' own HTTP client work over loopback.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use endpoints::{health, UpstreamClient};
use server_kit::listener;

fn start_upstream() -> (String, upstream::Shutdown, std::thread::JoinHandle<()>) {
    let listener = listener::bind("127.0.0.1:0".parse().expect("address"), 1024, false).expect("bind loopback");
    let url = format!("http://{}/", listener.local_addr().expect("local address"));
    let config = upstream::Config { delay: Duration::ZERO, ..upstream::Config::default() };
    let shutdown = upstream::Shutdown::new();
    let stop = shutdown.clone();
    let server = std::thread::spawn(move || {
        upstream::run(listener, config, stop).expect("upstream run");
    });
    (url, shutdown, server)
}

fn handlers(c: &mut Criterion) {
    c.bench_function("health", |b| b.iter(health));

    let (url, shutdown, server) = start_upstream();
    let client = UpstreamClient::new(&url, None).expect("upstream client");
    assert_eq!(client.sync_google().status, 200, "the in-process upstream answers");
    c.bench_function("sync-google (blocking client, upstream delay 0)", |b| b.iter(|| client.sync_google()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    c.bench_function("async-google (async client, upstream delay 0)", |b| {
        b.iter(|| runtime.block_on(client.async_google()))
    });
    shutdown.cancel();
    server.join().expect("upstream thread");
}

criterion_group!(benches, handlers);
criterion_main!(benches);
