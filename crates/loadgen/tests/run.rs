//! `loadgen::run` through its public API against a minimal HTTP/1.1 server on loopback: request budgets across
//! threads, live counters, cancellation, core pinning, and exact merging of reports.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loadgen::{merge, LoadError, LoadPlan, Pacing, RunControl, Stop, Target, Task};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/// A thread-per-connection server that answers each request head after `delay`, counting responses.
fn server(delay: Duration) -> (SocketAddr, Arc<AtomicU64>) {
    serve(delay, |_| RESPONSE.to_vec())
}

/// Like [`server`], but connection number N answers as worker process 100 + N % 2 (`x-worker-pid`).
fn two_worker_server() -> SocketAddr {
    let response = |connection: u32| {
        let head =
            format!("HTTP/1.1 200 OK\r\nx-worker-pid: {}\r\nContent-Length: 5\r\n\r\nhello", 100 + connection % 2);
        head.into_bytes()
    };
    serve(Duration::ZERO, response).0
}

fn serve(delay: Duration, response: impl Fn(u32) -> Vec<u8> + Send + 'static) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let served = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&served);
    std::thread::spawn(move || {
        for (connection, stream) in (0..).zip(listener.incoming().map_while(Result::ok)) {
            let counter = Arc::clone(&counter);
            let response = response(connection);
            std::thread::spawn(move || answer(stream, delay, &counter, &response));
        }
    });
    (addr, served)
}

fn answer(mut stream: TcpStream, delay: Duration, served: &AtomicU64, response: &[u8]) {
    let mut buffer = [0u8; 4096];
    let mut pending = Vec::new();
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(read) => pending.extend_from_slice(&buffer[..read]),
        }
        while let Some(end) = pending.windows(4).position(|window| window == b"\r\n\r\n") {
            pending.drain(..end + 4);
            std::thread::sleep(delay);
            if stream.write_all(response).is_err() {
                return;
            }
            served.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn plan(addr: SocketAddr, pacing: Pacing, stop: Stop) -> LoadPlan {
    LoadPlan {
        target: Target { addr, host_header: addr.to_string() },
        tasks: vec![Task::new("/a", 1), Task::new("/b", 3)],
        pacing,
        stop,
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(5),
        threads: 2,
        cpu_affinity: None,
    }
}

#[test]
fn request_budget_is_exact_across_threads_and_live_counters_agree() {
    let (addr, served) = server(Duration::ZERO);
    let plan = plan(addr, Pacing::Concurrency { connections: 6 }, Stop { duration: None, requests: Some(1_001) });
    let control = RunControl::new();
    let report = loadgen::run(&plan, &control).expect("run");
    assert_eq!(report.aggregated.count, 1_001);
    assert_eq!(served.load(Ordering::SeqCst), 1_001);
    assert_eq!(control.live.requests(), 1_001);
    assert_eq!(control.live.failures(), 0);
    let per_task: u64 = report.endpoints.iter().map(|endpoint| endpoint.count).sum();
    assert_eq!(per_task, 1_001);
    assert!(report.endpoints[1].count > report.endpoints[0].count, "weight 3 beats weight 1");
    assert_eq!(report.aggregated.avg_content_size, 5.0);
    let timeline_total: u64 = report.timeline.iter().map(|second| second.requests).sum();
    assert_eq!(timeline_total, 1_001, "the time series counts every request once");
}

#[test]
fn cancelling_stops_early_and_returns_the_stats_so_far() {
    let (addr, _) = server(Duration::from_millis(5));
    let plan = plan(
        addr,
        Pacing::Concurrency { connections: 2 },
        Stop { duration: Some(Duration::from_secs(60)), requests: None },
    );
    let control = RunControl::new();
    let cancel = control.cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        cancel.cancel();
    });
    let started = Instant::now();
    let report = loadgen::run(&plan, &control).expect("run");
    canceller.join().expect("canceller");
    assert!(started.elapsed() < Duration::from_secs(30), "a 60 s run stopped when cancelled");
    assert!(report.cancelled);
    assert!(report.aggregated.count > 0, "the requests before the cancel are reported");
}

#[test]
fn pinning_to_a_core_runs_and_a_missing_core_is_refused() {
    let (addr, _) = server(Duration::ZERO);
    let mut pinned = plan(addr, Pacing::Concurrency { connections: 2 }, Stop { duration: None, requests: Some(50) });
    pinned.cpu_affinity = Some(vec![0]);
    assert_eq!(loadgen::run(&pinned, &RunControl::new()).expect("pinned run").aggregated.count, 50);
    pinned.cpu_affinity = Some(vec![100_000]);
    let error = loadgen::run(&pinned, &RunControl::new()).expect_err("no such core");
    assert!(matches!(error, LoadError::Affinity { .. }), "{error}");
    assert!(error.is_bad_input());
}

#[test]
fn merged_reports_add_counts_and_histograms_exactly() {
    let (addr, _) = server(Duration::from_millis(1));
    let stop = Stop { duration: None, requests: Some(200) };
    let first =
        loadgen::run(&plan(addr, Pacing::Concurrency { connections: 2 }, stop), &RunControl::new()).expect("run");
    let second =
        loadgen::run(&plan(addr, Pacing::Concurrency { connections: 4 }, stop), &RunControl::new()).expect("run");
    let merged = merge(&[first.clone(), second.clone()]).expect("merge");
    assert_eq!(merged.aggregated.count, 400);
    assert_eq!(merged.aggregated.latency.samples, 400);
    assert_eq!(merged.aggregated.latency.min_us, first.aggregated.latency.min_us.min(second.aggregated.latency.min_us));
    assert_eq!(merged.aggregated.latency.max_us, first.aggregated.latency.max_us.max(second.aggregated.latency.max_us));
    assert_eq!(merged.aggregated.latency.sum_us, first.aggregated.latency.sum_us + second.aggregated.latency.sum_us);
    let mut expected = loadgen::histogram::decode(&first.aggregated.latency.histogram).expect("decode");
    expected.add(loadgen::histogram::decode(&second.aggregated.latency.histogram).expect("decode")).expect("add");
    let merged_histogram = loadgen::histogram::decode(&merged.aggregated.latency.histogram).expect("decode");
    assert_eq!(merged_histogram, expected);
    assert!(matches!(merge(&[]), Err(LoadError::NothingToMerge)));
}

#[test]
fn responses_are_counted_per_worker_pid_across_threads_and_merges() {
    let addr = two_worker_server();
    let stop = Stop { duration: None, requests: Some(600) };
    let report =
        loadgen::run(&plan(addr, Pacing::Concurrency { connections: 6 }, stop), &RunControl::new()).expect("run");
    let counts = &report.responses_per_worker;
    assert_eq!(counts.workers.iter().map(|worker| worker.pid).collect::<Vec<_>>(), [100, 101]);
    assert_eq!(counts.workers.iter().map(|worker| worker.responses).sum::<u64>(), 600, "every response counted once");
    assert_eq!((counts.other_workers, counts.without_pid), (0, 0));
    let merged = merge(&[report.clone(), report.clone()]).expect("merge");
    assert_eq!(merged.responses_per_worker.workers[1].responses, 2 * counts.workers[1].responses);

    let (plain, _) = server(Duration::ZERO);
    let stop = Stop { duration: None, requests: Some(10) };
    let report =
        loadgen::run(&plan(plain, Pacing::Concurrency { connections: 1 }, stop), &RunControl::new()).expect("run");
    assert!(report.responses_per_worker.workers.is_empty());
    assert_eq!(report.responses_per_worker.without_pid, 10);
}

#[test]
fn nothing_listening_is_unreachable() {
    let addr = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let plan = plan(addr, Pacing::Concurrency { connections: 1 }, Stop { duration: None, requests: Some(1) });
    let error = loadgen::run(&plan, &RunControl::new()).expect_err("closed port");
    assert!(matches!(error, LoadError::Unreachable { .. }), "{error}");
}
