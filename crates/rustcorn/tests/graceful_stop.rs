//! A graceful stop (SIGTERM) on every server model: a request being processed is finished and answered, while idle
//! keep-alive connections and half-received requests are closed at once instead of holding the stop for the whole
//! header timeout (set to a minute here, so a stop that waited for them could not pass).

mod support;

use std::io::Write;
use std::time::Duration;

use support::{read_one_response, read_until_closed, Server, SlowUpstream};

/// Far above what the stop may take: a model that waited out this header timeout fails the test.
const HEADER_TIMEOUT: &str = "60s";
/// Generous for two busy cores, and still a quarter of the header timeout.
const STOP_WITHIN: Duration = Duration::from_secs(15);

fn stop_finishes_work_and_drops_idle_connections(model: &[&str]) {
    let upstream = SlowUpstream::start(Duration::from_secs(2));
    let upstream_url = upstream.url();
    let mut args = model.to_vec();
    args.extend(["--header-timeout", HEADER_TIMEOUT, "--upstream", &upstream_url]);
    let mut server = Server::start(&args);

    let mut idle = server.connect();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n").expect("send");
    assert_eq!(read_one_response(&mut idle).status, 200);
    let mut half = server.connect();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Half: ").expect("send half a head");
    let mut working = server.connect();
    working.write_all(b"GET /sync-google HTTP/1.1\r\nHost: t\r\n\r\n").expect("send");
    upstream.wait_for_arrivals(1, STOP_WITHIN);

    server.process.signal(libc::SIGTERM);
    let status = server.process.wait_exit(STOP_WITHIN);
    assert!(status.is_some_and(|status| status.success()), "{model:?} did not stop cleanly: {status:?}");
    assert_eq!(read_one_response(&mut working).status, 200, "{model:?}: the request in progress was answered");
    for (name, stream) in [("idle", &mut idle), ("half-received", &mut half)] {
        let rest = read_until_closed(stream, Duration::from_secs(1)).expect("closed by the stop");
        assert!(rest.is_empty(), "{model:?}: the {name} connection got {rest:?}");
    }
}

#[test]
fn sync_stop_finishes_work_and_drops_idle_connections() {
    stop_finishes_work_and_drops_idle_connections(&["serve", "sync"]);
}

#[test]
fn async_stop_finishes_work_and_drops_idle_connections() {
    stop_finishes_work_and_drops_idle_connections(&["serve", "async"]);
}

#[test]
fn prefork_async_stop_finishes_work_and_drops_idle_connections() {
    stop_finishes_work_and_drops_idle_connections(&["serve", "prefork", "-w", "1", "-k", "async"]);
}

#[test]
fn prefork_sync_stop_finishes_work_and_drops_idle_connections() {
    stop_finishes_work_and_drops_idle_connections(&["serve", "prefork", "-w", "1", "-k", "sync", "--max-threads", "4"]);
}

/// The CPU loop gives up once the graceful timeout has run out, so even the longest request a flag allows cannot
/// hold a stopping server: the stop takes the graceful timeout, not the work's length.
fn cpu_work_is_abandoned_after_the_graceful_timeout(model: &[&str]) {
    let mut args = model.to_vec();
    // A billion iterations per request, the most the flag allows, on every request of a tight loop below.
    args.extend(["--cpu-iterations", "1000000000", "--graceful-timeout", "0s"]);
    let mut server = Server::start(&args);
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut stream = server.connect();
        stream.write_all(b"GET /cpu-intensive HTTP/1.1\r\nHost: t\r\n\r\n").expect("send");
        clients.push(stream);
    }
    std::thread::sleep(Duration::from_millis(200));
    server.process.signal(libc::SIGTERM);
    let status = server.process.wait_exit(STOP_WITHIN);
    assert!(status.is_some(), "{model:?} kept running its CPU work after SIGTERM");
}

#[test]
fn sync_cpu_work_is_abandoned_after_the_graceful_timeout() {
    cpu_work_is_abandoned_after_the_graceful_timeout(&["serve", "sync"]);
}

#[test]
fn async_cpu_work_is_abandoned_after_the_graceful_timeout() {
    cpu_work_is_abandoned_after_the_graceful_timeout(&["serve", "async"]);
}
