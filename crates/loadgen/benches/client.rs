//! Criterion benches of the hot path: whole `loadgen::run` round trips against an in-process minimal HTTP/1.1
//! server on loopback (the client, pacing, stop and recording together), and recording one latency sample.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use loadgen::histogram::Latencies;
use loadgen::{LoadPlan, Pacing, RunControl, Stop, Target, Task};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}";

/// A thread-per-connection server answering every request head with [`RESPONSE`]; it lives as long as the bench.
fn tiny_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the bench server");
    let addr = listener.local_addr().expect("bench server address");
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || serve(stream));
        }
    });
    addr
}

fn serve(mut stream: std::net::TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buffer = [0u8; 4096];
    let mut pending = 0usize;
    loop {
        let read = match stream.read(&mut buffer[pending..]) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        pending += read;
        let heads = buffer[..pending].windows(4).filter(|window| *window == b"\r\n\r\n").count();
        if heads > 0 {
            let last = buffer[..pending].windows(4).rposition(|window| window == b"\r\n\r\n").unwrap_or(0) + 4;
            buffer.copy_within(last..pending, 0);
            pending -= last;
            for _ in 0..heads {
                if stream.write_all(RESPONSE).is_err() {
                    return;
                }
            }
        }
    }
}

fn plan(addr: SocketAddr, requests: u64) -> LoadPlan {
    let target = Target { addr, host_header: addr.to_string(), tls: None };
    LoadPlan {
        target,
        tasks: vec![Task::new("/health", 1)],
        pacing: Pacing::Concurrency { connections: 4 },
        stop: Stop { duration: Some(Duration::from_secs(60)), requests: Some(requests) },
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(5),
        threads: 1,
        cpu_affinity: None,
        agent: Default::default(),
        request: Default::default(),
    }
}

fn round_trips(c: &mut Criterion) {
    const REQUESTS: u64 = 2_000;
    let addr = tiny_server();
    let plan = plan(addr, REQUESTS);
    let mut group = c.benchmark_group("run");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(20);
    group.bench_function("concurrency_4_connections_2000_requests", |b| {
        b.iter(|| loadgen::run(&plan, &RunControl::new()).expect("bench run"));
    });
    group.finish();
}

fn recording(c: &mut Criterion) {
    c.bench_function("latencies_record", |b| {
        b.iter_batched_ref(
            Latencies::default,
            |latencies| {
                for micros in (50_000..51_000).step_by(7) {
                    latencies.record(micros);
                }
            },
            BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, round_trips, recording);
criterion_main!(benches);
