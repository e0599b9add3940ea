//! `rustcorn serve prefork` end to end: a real master forking real workers, real signals, real sockets, and /proc
//! to see the process tree. Load tests carry `heavy` in their names so that nextest runs them one at a time.

mod support;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::prefork::*;
use support::Process;

#[test]
fn requests_spread_over_workers_heavy() {
    let variants: [&[&str]; 4] =
        [&["-k", "async"], &["-k", "sync"], &["-k", "async", "--reuse-port"], &["-k", "async", "--accept", "shared"]];
    for variant in variants {
        let mut args = vec!["-w", "2"];
        args.extend_from_slice(variant);
        let mut prefork = Prefork::start(&args);
        assert_eq!(prefork.boot_pids.len(), 2, "one Booting line per worker ({variant:?})");
        let booted: HashSet<u32> = prefork.boot_pids.iter().copied().collect();
        assert_eq!(prefork.workers(), booted, "the booted workers are the master's children ({variant:?})");

        let load = Load::start(prefork.server.addr, "/cpu-intensive?iterations=200000", 4);
        wait_until("both workers have answered", || load.served() >= 40 && load.pids_seen().len() == 2);
        let records = load.finish();
        assert!(failures(&records).is_empty(), "no request fails ({variant:?}): {:?}", failures(&records));
        assert_all_ok(&records);
        let seen: HashSet<u32> = records.iter().filter_map(|record| record.outcome.pid()).collect();
        assert_eq!(seen, booted, "responses come from both workers and only from them ({variant:?})");
        assert_eq!(prefork.stop(libc::SIGTERM), 0);
    }
}

/// Keep-alive connections opened all at once, as the load generator opens its connections, before any request.
/// Each then sends `requests` requests one after another; returns the worker pid of every response, per connection.
fn burst_of_keep_alive_connections(addr: SocketAddr, connections: usize, requests: usize, path: &str) -> Vec<Vec<u32>> {
    let streams: Vec<TcpStream> = (0..connections)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect"))
        .collect();
    let clients: Vec<JoinHandle<Vec<u32>>> = streams
        .into_iter()
        .map(|mut stream| {
            let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
            std::thread::spawn(move || {
                stream.set_read_timeout(Some(WAIT)).expect("set_read_timeout");
                (0..requests)
                    .map(|_| {
                        stream.write_all(request.as_bytes()).expect("send a request on the kept-alive connection");
                        let response = support::read_one_response(&mut stream);
                        assert_eq!(response.status, 200, "every response is a 200");
                        response.header("x-worker-pid").and_then(|pid| pid.parse().ok()).expect("an x-worker-pid")
                    })
                    .collect()
            })
        })
        .collect();
    clients.into_iter().map(|client| client.join().expect("a burst client panicked")).collect()
}

/// The load generator's pattern: all its keep-alive connections opened at once, then kept busy. Every worker must
/// serve at least 0.8x the mean; with one socket that the first worker to wake drains, one served them all.
#[test]
fn a_burst_of_keep_alive_connections_is_shared_by_the_workers_heavy() {
    const CONNECTIONS: usize = 16;
    const REQUESTS: usize = 20;
    let variants: [&[&str]; 2] = [&["-k", "async"], &["-k", "sync", "--max-threads", "64"]];
    for variant in variants {
        let mut args = vec!["-w", "2"];
        args.extend_from_slice(variant);
        let mut prefork = Prefork::start(&args);
        let path = "/cpu-intensive?iterations=100000";
        let per_connection = burst_of_keep_alive_connections(prefork.server.addr, CONNECTIONS, REQUESTS, path);
        let mut per_worker: HashMap<u32, usize> = prefork.boot_pids.iter().map(|&pid| (pid, 0)).collect();
        for pids in &per_connection {
            assert!(pids.iter().all(|pid| *pid == pids[0]), "one worker serves a kept-alive connection: {pids:?}");
            let served = per_worker.get_mut(&pids[0]).expect("only the booted workers answer");
            *served += pids.len();
        }
        let mean = (CONNECTIONS * REQUESTS) as f64 / per_worker.len() as f64;
        for served in per_worker.values() {
            assert!(*served as f64 >= 0.8 * mean, "every worker serves >= 0.8x the mean ({variant:?}): {per_worker:?}");
        }
        assert_eq!(prefork.stop(libc::SIGTERM), 0);
    }
}

#[test]
fn a_killed_worker_is_replaced_while_the_stream_continues_heavy() {
    const CLIENTS: usize = 4;
    let prefork = Prefork::start(&["-w", "2", "-k", "async"]);
    let load = Load::start(prefork.server.addr, "/cpu-intensive?iterations=50000", CLIENTS);
    wait_until("the stream is flowing", || load.served() >= 20);

    let victim = prefork.boot_pids[0];
    let survivor = prefork.boot_pids[1];
    let killed_at = Instant::now();
    kill(victim, libc::SIGKILL);
    let replacement = prefork.next_boot();
    eprintln!("respawn: {:?} from kill -9 to the replacement's Booting line", killed_at.elapsed());
    assert!(![victim, survivor].contains(&replacement));

    let served_at_kill = load.served();
    wait_until("the replacement serves and the stream goes on", || {
        load.pids_seen().contains(&replacement) && load.served() >= served_at_kill + 40
    });
    let records = load.finish();
    assert_all_ok(&records);
    let failed = failures(&records);
    assert!(!failed.contains(&&Outcome::Refused), "the shared listener never refuses: {failed:?}");
    // Each client has one request in flight at most, so at most CLIENTS requests can have been on the victim.
    assert!(failed.len() <= CLIENTS, "only requests in flight on the killed worker may fail: {failed:?}");
    assert!(
        records
            .iter()
            .filter(|record| record.started_at > killed_at)
            .all(|record| record.outcome.pid() != Some(victim)),
        "no request sent after the kill is served by the killed worker"
    );
    assert_eq!(prefork.workers(), HashSet::from([survivor, replacement]));
}

#[test]
fn sigterm_finishes_every_started_request_and_leaves_no_child_heavy() {
    for (worker_class, path) in [("async", "/async-google"), ("sync", "/sync-google")] {
        let upstream = SlowUpstream::start(Duration::from_millis(1500));
        let url = upstream.url();
        let mut prefork = Prefork::start(&["-w", "2", "-k", worker_class, "--upstream", &url]);
        let load = Load::start(prefork.server.addr, path, 6);
        wait_until("two requests are in flight in the workers", || upstream.held.load(Ordering::SeqCst) >= 2);

        let held_at_signal = upstream.held.load(Ordering::SeqCst);
        let signalled_at = Instant::now();
        assert_eq!(prefork.stop(libc::SIGTERM), 0, "graceful stop exits 0 ({worker_class})");
        let records = load.finish();

        assert_all_ok(&records);
        let served = records.iter().filter(|record| record.outcome.pid().is_some()).count();
        let received = upstream.received.load(Ordering::SeqCst);
        assert_eq!(served, received, "every request a worker had started got its response ({worker_class})");
        let finished_after_signal =
            records.iter().filter(|record| record.outcome.pid().is_some() && record.finished_at > signalled_at).count();
        assert!(
            finished_after_signal >= held_at_signal,
            "the {held_at_signal} requests in flight at the signal completed after it ({worker_class})"
        );
        let mut workers: HashSet<u32> = records.iter().filter_map(|record| record.outcome.pid()).collect();
        workers.extend(&prefork.boot_pids);
        for pid in workers {
            assert!(!Path::new(&format!("/proc/{pid}")).exists(), "worker {pid} was reaped ({worker_class})");
        }
    }
}

#[test]
fn sighup_replaces_every_worker_without_refusing_a_connection_heavy() {
    for worker_class in ["sync", "async"] {
        let prefork = Prefork::start(&["-w", "2", "-k", worker_class]);
        let old: HashSet<u32> = prefork.boot_pids.iter().copied().collect();
        let load = Load::start(prefork.server.addr, "/cpu-intensive?iterations=20000", 4);
        wait_until("the stream is flowing", || load.served() >= 20);

        prefork.server.process.signal(libc::SIGHUP);
        let new: HashSet<u32> = [prefork.next_boot(), prefork.next_boot()].into();
        assert!(new.is_disjoint(&old));
        wait_until("the old workers are gone", || old.iter().all(|pid| !is_running(*pid)));
        let served_after_reload = load.served();
        wait_until("the new workers serve", || load.served() >= served_after_reload + 20);
        let records = load.finish();

        assert_all_ok(&records);
        let failed = failures(&records);
        assert!(!failed.contains(&&Outcome::Refused), "no connection is refused ({worker_class}): {failed:?}");
        assert_nothing_lost(worker_class, &failed);
        assert_eq!(prefork.workers(), new, "every worker was replaced ({worker_class})");
        wait_until("the old workers are reaped", || children(prefork.master_pid(), true).len() == 2);
    }
}

/// Neither model loses a request when a worker stops gracefully: a connection accepted just before the stop
/// still gets its response.
fn assert_nothing_lost(worker_class: &str, failed: &[&Outcome]) {
    assert!(failed.is_empty(), "no request fails while workers are replaced ({worker_class}): {failed:?}");
}

#[test]
fn ttin_and_ttou_add_and_remove_a_worker() {
    let mut prefork = Prefork::start(&["-w", "2", "-k", "sync"]);
    let master = prefork.master_pid();
    let count_is = |expected: usize| move || children_of(master).len() == expected;

    prefork.server.process.signal(libc::SIGTTIN);
    let added = prefork.next_boot();
    wait_until("a third worker runs", count_is(3));
    assert!(children_of(master).contains(&added));

    prefork.server.process.signal(libc::SIGTTOU);
    wait_until("two workers are left", count_is(2));
    prefork.server.process.signal(libc::SIGTTOU);
    wait_until("one worker is left", count_is(1));
    // The last worker is never removed: this TTOU is ignored (and says so), and a TTIN then makes it two.
    prefork.server.process.signal(libc::SIGTTOU);
    wait_until("the master ignores the last TTOU", || prefork.server.process.stderr().contains("SIGTTOU ignored"));
    prefork.server.process.signal(libc::SIGTTIN);
    wait_until("two workers run again", count_is(2));
    wait_until("no zombie is left", || children(master, true).len() == 2);
    assert!(matches!(get(prefork.server.addr, "/health"), Outcome::Served { status: 200, .. }));
    assert_eq!(prefork.stop(libc::SIGTERM), 0);
}

#[test]
fn a_hung_worker_is_killed_after_the_timeout_and_replaced() {
    let mut prefork = Prefork::start(&["-w", "1", "-k", "async", "--timeout", "2", "--test-hang-after-requests", "1"]);
    let hung = prefork.boot_pids[0];
    assert_eq!(get(prefork.server.addr, "/health"), Outcome::Served { status: 200, pid: hung });
    let hung_at = Instant::now();

    let replacement = prefork.next_boot();
    // Its last heartbeat came at most one heartbeat interval (0.5 s) before the hang, so not before 1.5 s.
    assert!(hung_at.elapsed() >= Duration::from_secs(1), "killed only after --timeout: {:?}", hung_at.elapsed());
    wait_until("the master logs the timeout", || prefork.server.process.stderr().contains("WORKER TIMEOUT"));
    wait_until("the hung worker is gone", || !is_running(hung));
    assert_eq!(get(prefork.server.addr, "/health"), Outcome::Served { status: 200, pid: replacement });
    // The replacement hangs too (after its one request); the master kills it once --graceful-timeout passes.
    assert_eq!(prefork.stop(libc::SIGTERM), 0);
}

#[test]
fn max_requests_recycles_workers_and_stats_count_every_request() {
    for worker_class in ["sync", "async"] {
        recycle_with_max_requests(worker_class);
    }
}

fn recycle_with_max_requests(worker_class: &str) {
    const REQUESTS: usize = 25;
    let stats_file =
        std::env::temp_dir().join(format!("rustcorn-prefork-stats-{}-{worker_class}.json", std::process::id()));
    let stats_arg = stats_file.to_str().expect("utf-8 temp path");
    let mut prefork = Prefork::start(&[
        "-w",
        "1",
        "-k",
        worker_class,
        "--max-requests",
        "4",
        "--max-requests-jitter",
        "2",
        "--stats",
        stats_arg,
    ]);
    let mut per_pid: HashMap<u32, u64> = HashMap::new();
    let mut order = Vec::new();
    let mut failed = Vec::new();
    for _ in 0..REQUESTS {
        match get(prefork.server.addr, "/health") {
            Outcome::Served { status: 200, pid } => {
                if !per_pid.contains_key(&pid) {
                    order.push(pid);
                }
                *per_pid.entry(pid).or_default() += 1;
            }
            other => failed.push(other),
        }
    }
    assert_nothing_lost(worker_class, &failed.iter().collect::<Vec<_>>());
    let served: u64 = per_pid.values().sum();
    assert!(per_pid.len() >= REQUESTS / 7, "workers were recycled ({worker_class}): {per_pid:?}");
    for pid in &order[..order.len() - 1] {
        // A worker stops accepting once its budget (4..=6) is spent; a connection it accepted just before still
        // gets served, hence the +1.
        assert!((4..=7).contains(&per_pid[pid]), "worker {pid} served {} requests ({worker_class})", per_pid[pid]);
    }
    assert_eq!(prefork.stop(libc::SIGTERM), 0);

    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stats_file).expect("stats file written")).expect("stats file is JSON");
    std::fs::remove_file(&stats_file).ok();
    assert_eq!(stats["total_requests"], served, "({worker_class})");
    assert_eq!(stats["workers"][0]["requests"], served, "one worker index over every recycle ({worker_class})");
    let processes = stats["processes"].as_array().expect("processes");
    assert_eq!(processes.len(), per_pid.len(), "({worker_class})");
    for process in processes {
        let pid = process["pid"].as_u64().expect("pid") as u32;
        assert_eq!(process["requests"].as_u64(), Some(per_pid[&pid]), "requests of worker {pid} ({worker_class})");
    }
}

#[test]
fn workers_that_cannot_boot_make_the_master_exit_with_the_reason() {
    let mut process = Process::spawn(&[
        "serve",
        "prefork",
        "-w",
        "2",
        "-k",
        "sync",
        "--upstream",
        "ftp://127.0.0.1/",
        "--bind",
        "127.0.0.1:0",
    ]);
    let status = process.wait_exit(WAIT).expect("the master gives up instead of fork-looping");
    assert!(!status.success());
    wait_until("the master gives the reason", || {
        let stderr = process.stderr();
        stderr.contains("failed to boot") && stderr.contains("only http:// and https:// are supported")
    });
    let mut boots = 0;
    while let Some(line) = process.next_line(Duration::from_millis(100)) {
        assert!(!line.starts_with("Listening at:"), "a master whose workers never boot does not announce");
        boots += usize::from(line.starts_with("Booting worker"));
    }
    assert!((1..=10).contains(&boots), "a bounded number of boot attempts: {boots}");
}

#[test]
fn sigint_and_sigquit_stop_at_once_without_waiting_for_requests() {
    for signal in [libc::SIGINT, libc::SIGQUIT] {
        let upstream = SlowUpstream::start(Duration::from_secs(120));
        let url = upstream.url();
        let mut prefork = Prefork::start(&["-w", "1", "-k", "async", "--graceful-timeout", "120", "--upstream", &url]);
        let addr = prefork.server.addr;
        let client = std::thread::spawn(move || get(addr, "/async-google"));
        wait_until("a request is in flight", || upstream.held.load(Ordering::SeqCst) == 1);

        let signalled_at = Instant::now();
        assert_eq!(prefork.stop(signal), 0);
        // A graceful stop would wait for the 120 s upstream; a quick one does not wait for it at all.
        assert!(signalled_at.elapsed() < Duration::from_secs(60), "quick stop took {:?}", signalled_at.elapsed());
        let cut = client.join().expect("client");
        assert!(matches!(cut, Outcome::Dropped | Outcome::Broken(_)), "the in-flight request was cut: {cut:?}");
        assert!(!Path::new(&format!("/proc/{}", prefork.boot_pids[0])).exists(), "the worker was reaped");
    }
}

#[test]
fn workers_exit_when_the_master_dies() {
    let mut prefork = Prefork::start(&["-w", "2", "-k", "sync"]);
    kill(prefork.master_pid(), libc::SIGKILL);
    prefork.server.process.wait_exit(WAIT).expect("the master is gone");
    for pid in prefork.boot_pids.clone() {
        wait_until("the orphaned worker exits", || !is_running(pid));
    }
}

#[test]
fn flags_of_the_other_worker_model_are_refused() {
    let mut process =
        Process::spawn(&["serve", "prefork", "-k", "async", "--max-threads", "2", "--bind", "127.0.0.1:0"]);
    let status = process.wait_exit(WAIT).expect("exits at once");
    assert!(!status.success());
    // The process is gone, but the thread copying its stderr may not have read it all yet.
    wait_until("the error names the flag", || process.stderr().contains("--max-threads does not apply to -k async"));
}

#[test]
fn sync_workers_close_a_connection_after_max_keepalive_requests() {
    let mut prefork = Prefork::start(&["-w", "1", "-k", "sync", "--max-threads", "2", "--max-keepalive-requests", "2"]);
    let batch = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n".repeat(4);
    let responses = support::split_responses(&prefork.server.raw_exchange(&batch), false);
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert_eq!(responses[1].header("connection"), Some("close"));
    assert_eq!(prefork.stop(libc::SIGTERM), 0);

    let mut process = Process::spawn(&["serve", "prefork", "-k", "async", "--max-keepalive-requests", "2"]);
    assert!(!process.wait_exit(WAIT).expect("exits at once").success());
    wait_until("the error names the flag", || {
        process.stderr().contains("--max-keepalive-requests does not apply to -k async")
    });
}
