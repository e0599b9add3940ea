//! `loadgen::run` through its public API against a minimal HTTP/1.1 server on loopback: request budgets across
//! threads, live counters, cancellation, core pinning, agents starting at one instant, and exact merging of reports.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use loadgen::{merge, AgentSpec, LoadError, LoadPlan, Pacing, RunControl, Stop, Target, Task};

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
        target: Target { addr, host_header: addr.to_string(), tls: None },
        tasks: vec![Task::new("/a", 1), Task::new("/b", 3)],
        pacing,
        stop,
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(5),
        threads: 2,
        cpu_affinity: None,
        agent: Default::default(),
        request: Default::default(),
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

/// Runs `plans` at the same time, each on its own thread (as separate agents would), and returns their reports.
fn run_together(plans: Vec<LoadPlan>) -> Vec<loadgen::LoadReport> {
    let handles: Vec<_> =
        plans.into_iter().map(|plan| std::thread::spawn(move || loadgen::run(&plan, &RunControl::new()))).collect();
    handles.into_iter().map(|handle| handle.join().expect("agent thread").expect("agent run")).collect()
}

#[test]
fn agents_given_one_start_instant_start_together_and_merge_exactly() {
    let (addr, served) = server(Duration::from_millis(1));
    let start_at = SystemTime::now() + Duration::from_millis(400);
    let plans = [("a", 2), ("b", 4)].map(|(id, connections)| {
        let mut plan = plan(addr, Pacing::Concurrency { connections }, Stop { duration: None, requests: Some(200) });
        plan.agent = AgentSpec { id: Some(id.into()), start_at: Some(start_at) };
        plan
    });
    let reports = run_together(plans.to_vec());
    let (first, second) = (&reports[0], &reports[1]);
    let start_at_us = start_at.duration_since(UNIX_EPOCH).expect("after 1970").as_micros() as u64;
    for (report, id) in reports.iter().zip(["a", "b"]) {
        let agent = &report.agents[0];
        assert_eq!(agent.id, id);
        assert_eq!(agent.start_at_unix_us, Some(start_at_us));
        assert!(agent.window_start_unix_us.abs_diff(start_at_us) <= 1, "the window opens at the instant: {agent:?}");
        let first_request = agent.first_request_unix_us.expect("requests were sent");
        assert!(first_request >= start_at_us, "no request before the start instant: {agent:?}");
        assert_eq!(agent.requests, 200);
    }

    let merged = merge(&reports).expect("merge");
    assert_eq!(merged.aggregated.count, 400);
    assert_eq!(served.load(Ordering::SeqCst), 400);
    assert_eq!(merged.agents.len(), 2);
    assert_eq!(merged.timeline.iter().map(|second| second.requests).sum::<u64>(), 400, "timelines merge too");
    assert_eq!(merged.aggregated.latency.samples, 400);
    assert_eq!(merged.aggregated.latency.min_us, first.aggregated.latency.min_us.min(second.aggregated.latency.min_us));
    assert_eq!(merged.aggregated.latency.max_us, first.aggregated.latency.max_us.max(second.aggregated.latency.max_us));
    assert_eq!(merged.aggregated.latency.sum_us, first.aggregated.latency.sum_us + second.aggregated.latency.sum_us);
    let mut expected = loadgen::histogram::decode(&first.aggregated.latency.histogram).expect("decode");
    expected.add(loadgen::histogram::decode(&second.aggregated.latency.histogram).expect("decode")).expect("add");
    let merged_histogram = loadgen::histogram::decode(&merged.aggregated.latency.histogram).expect("decode");
    assert_eq!(merged_histogram, expected);
    assert!(matches!(merge(&[]), Err(LoadError::NothingToMerge)));
    assert!(matches!(merge(&[first.clone(), first.clone()]), Err(LoadError::DuplicateAgent { .. })));
}

#[test]
fn runs_one_after_another_do_not_merge() {
    let (addr, _) = server(Duration::ZERO);
    let plan = plan(addr, Pacing::Concurrency { connections: 1 }, Stop { duration: None, requests: Some(20) });
    let first = loadgen::run(&plan, &RunControl::new()).expect("run");
    let second = loadgen::run(&plan, &RunControl::new()).expect("run");
    let error = merge(&[first, second]).expect_err("disjoint windows");
    assert!(matches!(error, LoadError::WindowsDoNotOverlap { .. }), "{error}");
}

#[test]
fn a_start_instant_already_past_is_refused() {
    let (addr, served) = server(Duration::ZERO);
    let mut plan = plan(addr, Pacing::Concurrency { connections: 1 }, Stop { duration: None, requests: Some(5) });
    plan.agent.start_at = Some(SystemTime::now() - Duration::from_secs(2));
    let error = loadgen::run(&plan, &RunControl::new()).expect_err("past start");
    assert!(error.is_bad_input());
    assert!(error.to_string().starts_with("--start-at:") && error.to_string().contains("ago"), "{error}");
    assert_eq!(served.load(Ordering::SeqCst), 0, "nothing was sent");
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
    let merged = merge(&[report.clone(), as_another_agent(&report)]).expect("merge");
    assert_eq!(merged.responses_per_worker.workers[1].responses, 2 * counts.workers[1].responses);

    let (plain, _) = server(Duration::ZERO);
    let stop = Stop { duration: None, requests: Some(10) };
    let report =
        loadgen::run(&plan(plain, Pacing::Concurrency { connections: 1 }, stop), &RunControl::new()).expect("run");
    assert!(report.responses_per_worker.workers.is_empty());
    assert_eq!(report.responses_per_worker.without_pid, 10);
}

/// A server that answers only its first `answered` connections (the preflight's included) and holds the others
/// open without a word, as a thread-per-connection server with every thread taken leaves them in its backlog.
fn starving_server(answered: u32) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (connection, stream) in (0..).zip(listener.incoming().map_while(Result::ok)) {
            if connection < answered {
                std::thread::spawn(move || answer(stream, Duration::ZERO, &AtomicU64::new(0), RESPONSE));
            } else {
                held.push(stream);
            }
        }
    });
    addr
}

#[test]
fn answers_per_connection_show_the_connections_a_server_starves() {
    // The preflight's connection and two of the five load connections are answered; three wait forever.
    let addr = starving_server(3);
    let stop = Stop { duration: Some(Duration::from_millis(300)), requests: None };
    let report =
        loadgen::run(&plan(addr, Pacing::Concurrency { connections: 5 }, stop), &RunControl::new()).expect("run");
    let spread = report.answers_per_connection.expect("a concurrency run reports its spread");
    assert_eq!((spread.connections, spread.none, spread.fewest), (5, 3, 0), "{spread:?}");
    assert!(spread.most > 0 && spread.most <= report.aggregated.count, "{spread:?}");
    let merged = merge(&[report.clone(), as_another_agent(&report)]).expect("merge");
    assert_eq!(merged.answers_per_connection.map(|spread| (spread.connections, spread.none)), Some((10, 6)));

    let stop = Stop { duration: Some(Duration::from_millis(100)), requests: None };
    let rate = Pacing::Rate { per_second: 50.0, connections: 2 };
    let report = loadgen::run(&plan(starving_server(u32::MAX), rate, stop), &RunControl::new()).expect("run");
    assert_eq!(report.answers_per_connection, None, "the rate model's schedule sets its own spread");
}

/// What a server bounding its keep-alive requests (Apache's MaxKeepAliveRequests) does at the bound: it says
/// `Connection: close`. Every response here says it: each request reconnects, and none is a failure.
#[test]
fn connection_close_costs_a_reconnect_not_a_failure() {
    let connections = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&connections);
    let (addr, served) = serve(Duration::ZERO, move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello".to_vec()
    });
    let stop = Stop { duration: None, requests: Some(200) };
    let report =
        loadgen::run(&plan(addr, Pacing::Concurrency { connections: 4 }, stop), &RunControl::new()).expect("run");
    assert_eq!(report.aggregated.count, 200);
    assert_eq!(report.aggregated.failures.total(), 0, "{:?}", report.aggregated.failures);
    assert_eq!(served.load(Ordering::SeqCst), 200);
    // The preflight's connection, then one per request.
    assert_eq!(connections.load(Ordering::SeqCst), 201);
}

#[test]
fn nothing_listening_is_unreachable() {
    let addr = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let plan = plan(addr, Pacing::Concurrency { connections: 1 }, Stop { duration: None, requests: Some(1) });
    let error = loadgen::run(&plan, &RunControl::new()).expect_err("closed port");
    assert!(matches!(error, LoadError::Unreachable { .. }), "{error}");
}

/// wrk's count: 4 connections on a 400 ms server for a 1 s window each get answers at 0.4 and 0.8 s; the requests
/// sent at 0.8 s are still on the wire at the close (1.0 s), aged 200 ms. They are reported in flight, not waited
/// for: the rate divides 8 answers by the 1 s window, not 12 by 1.2 s. The 200 ms either side of every boundary is
/// half the server's delay, so scheduling noise cannot move a request across one. It can delay the second answers
/// (at load 14 they came ~100 ms late), so the ages are bounded by causality: sent after two full holds, at 0.8 s
/// or later, so at most 200 ms old at the close, and sent before it.
#[test]
fn heavy_window_counts_answers_inside_it_and_reports_the_rest_in_flight() {
    let (addr, _) = server(Duration::from_millis(400));
    let plan = plan(
        addr,
        Pacing::Concurrency { connections: 4 },
        Stop { duration: Some(Duration::from_secs(1)), requests: None },
    );
    let report = loadgen::run(&plan, &RunControl::new()).expect("run");
    assert_eq!(report.duration_secs, 1.0, "the window closes at the deadline, with no drain");
    let total = &report.aggregated;
    assert_eq!(total.count, 8, "{total:?}");
    assert_eq!(total.requests_per_second, 8.0);
    assert_eq!(total.in_flight.requests, 4, "one request per connection on the wire at the close");
    let endpoints_in_flight: u64 = report.endpoints.iter().map(|endpoint| endpoint.in_flight.requests).sum();
    assert_eq!(endpoints_in_flight, 4, "the endpoints' in-flight requests add up to the total");
    for age in [total.in_flight.median_age_us, total.in_flight.max_age_us] {
        assert!((1..=200_000).contains(&age), "sent at 0.8 s or later, before the close at 1.0 s: age {age} µs");
    }
    let timeline_total: u64 = report.timeline.iter().map(|second| second.requests).sum();
    assert_eq!(timeline_total, 8, "the timeline holds the same responses");
    assert_eq!(total.latency.samples, 8, "so does the histogram");
}

/// Rate mode against a target that cannot keep up: 40/s over 2 connections (a slot every 50 ms each) on a 200 ms
/// server, with a warm-up. Every slot due before the close is accounted for exactly once: answered before the
/// window, answered in it, on the wire at the close, or due but not yet sent.
#[test]
fn rate_mode_accounts_for_every_due_request() {
    let (addr, _) = server(Duration::from_millis(200));
    let mut plan = plan(
        addr,
        Pacing::Rate { per_second: 40.0, connections: 2 },
        Stop { duration: Some(Duration::from_secs(1)), requests: None },
    );
    plan.warmup = Duration::from_millis(500);
    let report = loadgen::run(&plan, &RunControl::new()).expect("run");
    let rate = report.rate.as_ref().expect("rate stats");
    assert_eq!((rate.warmup_scheduled, rate.scheduled), (20, 40), "40/s for 0.5 s and 1 s: {rate:?}");
    let total = &report.aggregated;
    assert_eq!(
        rate.warmup_scheduled + rate.scheduled,
        report.warmup_requests + total.count + total.in_flight.requests,
        "every due request accounted for: {rate:?}, warm-up {}, count {}, in flight {:?}",
        report.warmup_requests,
        total.count,
        total.in_flight
    );
    assert!(rate.not_sent.requests > 0 && !rate.kept_up, "a 200 ms server at 40/s over 2 connections falls behind");
    let sent_in_flight: u64 = report.endpoints.iter().map(|endpoint| endpoint.in_flight.requests).sum();
    assert_eq!(sent_in_flight, 2, "each connection, behind, has a request on the wire at the close");
    assert_eq!(total.in_flight.requests, sent_in_flight + rate.not_sent.requests);
    assert!(rate.not_sent.max_age_us <= 1_500_000, "no slot is older than the run: {:?}", rate.not_sent);
    let merged = merge(&[report.clone(), as_another_agent(&report)]).expect("merge");
    assert_eq!(merged.aggregated.in_flight.requests, 2 * total.in_flight.requests, "in-flight requests merge exactly");
    assert_eq!(merged.rate.expect("merged rate").not_sent.requests, 2 * rate.not_sent.requests);
}

/// The same report as a second agent's: a merge refuses one agent twice.
fn as_another_agent(report: &loadgen::LoadReport) -> loadgen::LoadReport {
    let mut copy = report.clone();
    for agent in &mut copy.agents {
        agent.id.push_str("-2");
    }
    copy
}

/// Checks the rate run's ledger: every slot due before the close is answered before the window, answered in it,
/// on the wire at the close, or due but not yet sent - each exactly once.
fn assert_every_due_slot_accounted(report: &loadgen::LoadReport) {
    let rate = report.rate.as_ref().expect("rate stats");
    let total = &report.aggregated;
    assert_eq!(
        rate.warmup_scheduled + rate.scheduled,
        report.warmup_requests + total.count + total.in_flight.requests,
        "every due request accounted for: {rate:?}, warm-up {}, count {}, in flight {:?}",
        report.warmup_requests,
        total.count,
        total.in_flight
    );
}

/// The open rate on a slow target opens the connections its latency needs instead of holding the rate down:
/// 40/s on a 200 ms server keeps 40 x 0.2 = 8 requests on the wire, so 8 connections at least (a few more while an
/// answer and the next slot cross), and every slot goes out on time.
#[test]
fn open_rate_opens_the_connections_the_latency_needs_and_keeps_the_schedule() {
    let (addr, _) = server(Duration::from_millis(200));
    let pacing = Pacing::OpenRate { per_second: 40.0, max_connections: 100 };
    let mut plan = plan(addr, pacing, Stop { duration: Some(Duration::from_secs(1)), requests: None });
    plan.warmup = Duration::from_millis(500);
    let report = loadgen::run(&plan, &RunControl::new()).expect("run");
    assert_every_due_slot_accounted(&report);
    let rate = report.rate.as_ref().expect("rate stats");
    // 40/s ramped over 0.25 s (5 slots), held for 0.25 s (10), then the 1 s window (40).
    assert_eq!((rate.warmup_scheduled, rate.scheduled), (15, 40), "{rate:?}");
    assert_eq!(rate.not_sent.requests, 0, "no slot waits when connections can be opened: {rate:?}");
    assert!(rate.kept_up, "{rate:?}");
    let open = rate.open.as_ref().expect("open-loop stats");
    assert!((8..=20).contains(&open.most_open), "40/s x 200 ms needs about 8 connections: {open:?}");
    assert_eq!(open.bound_waits, 0, "{open:?}");
    assert_eq!(open.max_connections, 100);
    assert_eq!(report.model, loadgen::Model::Rate);
    assert!(report.aggregated.service_time.is_some(), "the service time is kept beside the corrected latency");
}

/// With the bound below what the latency needs, slots wait for a connection: the run says the generator fell
/// behind (its figures are its own limit), and the ledger still holds.
#[test]
fn open_rate_at_its_connection_bound_reports_the_generator_behind() {
    let (addr, _) = server(Duration::from_millis(200));
    let pacing = Pacing::OpenRate { per_second: 40.0, max_connections: 2 };
    let plan = plan(addr, pacing, Stop { duration: Some(Duration::from_secs(1)), requests: None });
    let report = loadgen::run(&plan, &RunControl::new()).expect("run");
    assert_every_due_slot_accounted(&report);
    let rate = report.rate.as_ref().expect("rate stats");
    let open = rate.open.as_ref().expect("open-loop stats");
    assert_eq!(open.most_open, 2, "never more than the bound: {open:?}");
    assert!(open.bound_waits > 0 && open.generator_behind, "{open:?}");
    assert!(rate.not_sent.requests > 0, "2 connections x 5/s cannot carry 40/s: {rate:?}");
}

/// A request budget ends an open-rate run on its last answer: every request counted, none left in flight.
#[test]
fn open_rate_with_a_budget_counts_every_request() {
    let (addr, served) = server(Duration::from_millis(50));
    let pacing = Pacing::OpenRate { per_second: 100.0, max_connections: 50 };
    let plan = plan(addr, pacing, Stop { duration: None, requests: Some(30) });
    let report = loadgen::run(&plan, &RunControl::new()).expect("run");
    assert_eq!(report.aggregated.count, 30);
    assert_eq!(report.aggregated.in_flight.requests, 0, "the run waited for the last answers");
    assert_eq!(served.load(Ordering::SeqCst), 30);
}
