//! Criterion micro-benchmarks of both server models' hot path: parsing request heads out of the read buffer.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use server_kit::http1::request::{parse_head, Parsed};

/// What a load generator typically sends.
const SMALL: &[u8] = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
/// A browser-like head with the usual dozen fields.
const BROWSER: &[u8] = b"GET /cpu-intensive?iterations=1000 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\nSec-Fetch-User: ?1\r\n\
Priority: u=0, i\r\nCache-Control: max-age=0\r\n\r\n";

fn parse_all(buf: &[u8]) -> usize {
    let mut offset = 0;
    let mut count = 0;
    while let Ok(Parsed::Complete(head)) = parse_head(&buf[offset..]) {
        offset += head.head_len;
        count += 1;
    }
    count
}

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_head");
    for (name, head) in [("small", SMALL), ("browser", BROWSER)] {
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_function(name, |b| b.iter(|| parse_head(black_box(head))));
    }
    let pipelined: Vec<u8> = SMALL.repeat(16);
    group.throughput(Throughput::Elements(16));
    group.bench_function("pipelined x16", |b| b.iter(|| parse_all(black_box(&pipelined))));
    let partial = &BROWSER[..BROWSER.len() / 2];
    group.throughput(Throughput::Bytes(partial.len() as u64));
    group.bench_function("partial browser head", |b| b.iter(|| parse_head(black_box(partial))));
    group.finish();
}

criterion_group!(benches, parsing);
criterion_main!(benches);
