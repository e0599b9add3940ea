//! One HTTP/1.1 round trip over loopback to /health of a prefork master with two async workers (UvicornWorker's
//! model), on a keep-alive connection: the model's fixed overhead per request. The master needs a process with no
//! other thread, so the bench forks it first thing and talks to it over loopback; SIGTERM stops it at the end.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use endpoints::{AppConfig, DEFAULT_UPSTREAM_URL};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};
use server_async::{BlockingMode, DEFAULT_BLOCKING_THREADS};
use server_prefork::models::{AsyncSettings, Model, Worker};

const REQUEST: &[u8] = b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n";
const WORKERS: usize = 2;

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

/// The child: runs the master until SIGTERM, reporting its address on `report` once every worker is ready.
fn run_master(mut report: UnixStream) -> ! {
    let config = server_prefork::Config::new("127.0.0.1:0".parse().expect("address"), WORKERS);
    let worker = Worker {
        app: AppConfig::default(),
        upstream_url: DEFAULT_UPSTREAM_URL.to_owned(),
        header_timeout: Duration::from_secs(10),
        model: Model::Async(AsyncSettings {
            threads: 1,
            blocking_threads: DEFAULT_BLOCKING_THREADS,
            blocking: BlockingMode::Pool,
            limit_concurrency: None,
            graceful_timeout: Duration::from_secs(5),
        }),
    };
    let outcome = server_prefork::run(&config, &worker, |listener| {
        let addr = listener.local_addr().expect("local address");
        let _ = writeln!(report, "{addr}");
    });
    std::process::exit(if outcome.is_ok() { 0 } else { 1 })
}

/// Forks the master; returns its pid and the address its workers serve.
fn start_master() -> (Pid, SocketAddr) {
    let (parent_end, child_end) = UnixStream::pair().expect("socket pair");
    // SAFETY: called before this process starts any thread, so the child is a plain copy of one thread.
    match unsafe { fork() }.expect("fork the prefork master") {
        ForkResult::Child => {
            drop(parent_end);
            run_master(child_end)
        }
        ForkResult::Parent { child } => {
            drop(child_end);
            parent_end.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
            let mut line = String::new();
            BufReader::new(parent_end).read_line(&mut line).expect("the master reports its address");
            (child, line.trim().parse().expect("an address"))
        }
    }
}

fn health_roundtrip(c: &mut Criterion) {
    let (master, addr) = start_master();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    let mut buffer = Vec::with_capacity(4096);
    c.bench_function("prefork -w 2 -k async GET /health keep-alive", |b| {
        b.iter(|| {
            stream.write_all(REQUEST).expect("write request");
            read_response(&mut stream, &mut buffer)
        })
    });
    drop(stream);
    kill(master, Signal::SIGTERM).expect("stop the master");
    waitpid(master, None).expect("reap the master");
}

criterion_group!(benches, health_roundtrip);
criterion_main!(benches);
