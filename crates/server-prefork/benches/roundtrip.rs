//! One HTTP/1.1 round trip over loopback to /health of a prefork master with two async workers (UvicornWorker's
//! model), on a keep-alive connection: the model's fixed overhead per request. The master needs a process with no
//! other thread, so the bench forks it (when the benchmark first runs, not when it is only listed) and talks to it
//! over loopback; SIGTERM stops it at the end.

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
        upstream_ca: None,
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

/// A forked master and a keep-alive connection to one of its workers.
struct Running {
    master: Pid,
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Running {
    fn start() -> Running {
        let (master, addr) = start_master();
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
        Running { master, stream, buffer: Vec::with_capacity(4096) }
    }

    fn round_trip(&mut self) -> usize {
        self.stream.write_all(REQUEST).expect("write request");
        read_response(&mut self.stream, &mut self.buffer)
    }

    fn stop(self) {
        drop(self.stream);
        kill(self.master, Signal::SIGTERM).expect("stop the master");
        waitpid(self.master, None).expect("reap the master");
    }
}

/// Forks the master; returns its pid and the address its workers serve.
fn start_master() -> (Pid, SocketAddr) {
    let (parent_end, child_end) = UnixStream::pair().expect("socket pair");
    // SAFETY: criterion runs benchmarks on this one thread and has started no other, so the child is a plain copy
    // of a single-threaded process (the master checks this again and refuses otherwise).
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
            (child, line.trim().parse().expect("the master reported an address (see its error above)"))
        }
    }
}

fn health_roundtrip(c: &mut Criterion) {
    let mut server: Option<Running> = None;
    c.bench_function("prefork -w 2 -k async GET /health keep-alive", |b| {
        let running = server.get_or_insert_with(Running::start);
        b.iter(|| running.round_trip())
    });
    if let Some(running) = server {
        running.stop();
    }
}

criterion_group!(benches, health_roundtrip);
criterion_main!(benches);
