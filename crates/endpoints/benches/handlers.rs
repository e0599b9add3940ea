//! Criterion micro-benchmarks of the handlers' own work, without any server around them.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use endpoints::{cpu_intensive, memory_intensive, route, AppConfig, DEFAULT_CPU_ITERATIONS, DEFAULT_MEMORY_N};
use server_kit::lifecycle::Shutdown;

fn handlers(c: &mut Criterion) {
    let config = AppConfig::default();
    c.bench_function("route /cpu-intensive?iterations=1000", |b| {
        b.iter(|| route("GET", black_box("/cpu-intensive?iterations=1000"), &config))
    });
    let running = Shutdown::new();
    c.bench_function("cpu-intensive default", |b| {
        b.iter(|| cpu_intensive(black_box(DEFAULT_CPU_ITERATIONS), &running))
    });
    c.bench_function("memory-intensive default", |b| b.iter(|| memory_intensive(black_box(DEFAULT_MEMORY_N))));
}

criterion_group!(benches, handlers);
criterion_main!(benches);
