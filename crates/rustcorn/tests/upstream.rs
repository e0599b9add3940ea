//! `rustcorn upstream`, the google.com stand-in: concurrency, body size, graceful stop and its served counter,
//! over real sockets against the real binary.

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use support::{body_of, header_of, read_to_close, status_of, wait_for_stderr, Upstream, STARTUP_TIMEOUT};

const IN_FLIGHT: &str = "x-in-flight";

fn get(addr: SocketAddr, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect to the upstream");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("set_read_timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write request");
    stream
}

#[test]
fn concurrent_slow_requests_are_all_in_flight_together() {
    const CLIENTS: usize = 50;
    let upstream = Upstream::start(&["--delay", "1s", "--body-bytes", "1234"]);
    let addr = upstream.addr;
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                read_to_close(&mut get(addr, &format!("/any/path/{i}")))
            })
        })
        .collect();
    let responses: Vec<Vec<u8>> = clients.into_iter().map(|client| client.join().expect("client thread")).collect();

    let mut most_in_flight = 0;
    for raw in &responses {
        assert_eq!(status_of(raw), Some(200), "response: {}", String::from_utf8_lossy(raw));
        assert_eq!(body_of(raw).len(), 1234);
        let in_flight: usize = header_of(raw, IN_FLIGHT).and_then(|value| value.parse().ok()).expect("x-in-flight");
        most_in_flight = most_in_flight.max(in_flight);
    }
    // The upstream held every request at once: a serial server would never report more than 1.
    assert_eq!(most_in_flight, CLIENTS);
    assert_eq!(upstream.stop(), CLIENTS as u64);
}

#[test]
fn default_body_is_15000_bytes_and_head_has_none() {
    let upstream = Upstream::start(&["--delay", "0ms"]);
    let raw = read_to_close(&mut get(upstream.addr, "/"));
    assert_eq!(status_of(&raw), Some(200));
    assert_eq!(body_of(&raw).len(), 15_000);

    let mut stream = TcpStream::connect(upstream.addr).expect("connect");
    stream.write_all(b"HEAD / HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n").expect("write");
    let raw = read_to_close(&mut stream);
    assert_eq!(status_of(&raw), Some(200));
    assert_eq!(header_of(&raw, "content-length").as_deref(), Some("15000"));
    assert!(body_of(&raw).is_empty());
    assert_eq!(upstream.stop(), 2);
}

#[test]
fn other_methods_are_405() {
    let upstream = Upstream::start(&["--delay", "0ms"]);
    let mut stream = TcpStream::connect(upstream.addr).expect("connect");
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: upstream\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .expect("write");
    assert_eq!(status_of(&read_to_close(&mut stream)), Some(405));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let upstream = Upstream::start(&["--delay", "1s", "--log-level", "debug"]);
    let mut stream = get(upstream.addr, "/in-flight");
    assert!(
        wait_for_stderr(&upstream.process, "upstream request received", STARTUP_TIMEOUT),
        "the upstream never logged the request; stderr:\n{}",
        upstream.process.stderr()
    );
    upstream.process.signal(libc::SIGTERM);
    let raw = read_to_close(&mut stream);
    assert_eq!(status_of(&raw), Some(200));
    assert_eq!(body_of(&raw).len(), 15_000);
    assert_eq!(upstream.wait_stopped(), 1);
}

#[test]
fn heavy_upstream_holds_a_thousand_sleeping_requests_on_one_thread() {
    const CLIENTS: usize = 1000;
    let upstream = Upstream::start(&["--delay", "2s", "--body-bytes", "1000", "--threads", "1"]);
    let streams: Vec<TcpStream> = (0..CLIENTS).map(|i| get(upstream.addr, &format!("/{i}"))).collect();
    let mut most_in_flight = 0;
    for mut stream in streams {
        let raw = read_to_close(&mut stream);
        assert_eq!(status_of(&raw), Some(200));
        assert_eq!(body_of(&raw).len(), 1000);
        let in_flight: usize = header_of(&raw, IN_FLIGHT).and_then(|value| value.parse().ok()).expect("x-in-flight");
        most_in_flight = most_in_flight.max(in_flight);
    }
    assert_eq!(most_in_flight, CLIENTS);
    assert_eq!(upstream.stop(), CLIENTS as u64);
}

/// The ground truth: asked for 50 ms, every GET is held at least 50 ms and released well within a millisecond of it
/// at the median, which tokio's timer (51.7 ms at the median) cannot do: it rounds each sleep up to its next
/// millisecond tick. The record holds exactly the requests served. On an idle core the holds are within 0.2 ms at
/// p50 and 0.5 ms at p99 (the README's figures, measured pinned); this test runs beside other work, so it bounds the
/// median lateness only, by 1 ms: 45 runs at load average 12-17 on this 2-core machine gave 80-391 µs.
#[test]
fn heavy_upstream_holds_the_delay_it_is_asked_and_records_each_hold() {
    const REQUESTS: u64 = 300;
    let upstream = Upstream::start(&["--delay", "50ms", "--jitter", "0ms", "--body-bytes", "100"]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(["load", &upstream.url(), "-c", "10", "-n", &REQUESTS.to_string(), "--json"])
        .output()
        .expect("run rustcorn load");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (served, holds) = upstream.stop_with_holds();
    assert_eq!(served, REQUESTS);
    assert_eq!((holds.hold.samples, holds.late.samples), (REQUESTS, REQUESTS), "one hold recorded per request");
    assert_eq!((holds.delay_us, holds.jitter_us), (50_000, 0));
    assert!(holds.hold.min_us >= 50_000, "held {} µs, less than asked", holds.hold.min_us);
    assert!(holds.late.median_us <= 1_000, "released {} µs late at the median", holds.late.median_us);
    assert_eq!(holds.hold.min_us - 50_000, holds.late.min_us, "lateness is the hold minus the delay");
    // The busy-polling before deadlines is paid from a budget of 5 % of the run plus a 20 ms burst; a spin step is
    // charged after it ran, so one step (a yield to the runtime, long only if the thread was preempted) can exceed
    // it before the debt is repaid: 200 ms covers that step on a loaded machine.
    assert!(holds.ran_us > 0, "the record says how long the upstream ran");
    assert!(
        holds.spun_us <= holds.ran_us / 20 + 200_000,
        "busy-polled {} µs over a run of {} µs: beyond its budget",
        holds.spun_us,
        holds.ran_us
    );
}

#[test]
fn a_record_file_that_cannot_be_written_is_refused_before_serving() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .args(["upstream", "--bind", "127.0.0.1:0", "--record", "/nonexistent-dir/holds.json"])
        .output()
        .expect("run rustcorn upstream");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--record") && stderr.contains("/nonexistent-dir/holds.json"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Listening at:"), "it never served");
}

/// The root certificates of a PEM file, for a test client.
fn trusting(ca: &std::path::Path) -> reqwest::blocking::Client {
    let pem = std::fs::read(ca).expect("the upstream wrote its CA");
    let mut builder = reqwest::blocking::Client::builder().timeout(STARTUP_TIMEOUT).tls_built_in_root_certs(false);
    for certificate in reqwest::Certificate::from_pem_bundle(&pem).expect("the CA is PEM") {
        builder = builder.add_root_certificate(certificate);
    }
    builder.build().expect("build the client")
}

/// Every cause of a reqwest error on one line (its own message stops at "error sending request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// `--tls`: a client that trusts the CA written to `--ca-out` is served, on every name the certificate carries; one
/// that does not is refused at the handshake, and plain HTTP on the same port gets no HTTP answer. The upstream
/// counts both kinds of handshake and says what the good one negotiated.
#[test]
fn tls_upstream_serves_a_client_that_trusts_its_ca_and_refuses_others() {
    let upstream = Upstream::start_tls(&["--delay", "0ms", "--body-bytes", "1234"]);
    let ca = upstream.ca.clone().expect("a TLS upstream has a CA");
    assert!(upstream.url().starts_with("https://127.0.0.1:"), "{}", upstream.url());

    let trusted = trusting(&ca);
    for url in [upstream.url(), format!("https://localhost:{}/", upstream.addr.port())] {
        let response = trusted.get(&url).send().unwrap_or_else(|error| panic!("{url}: {}", chain(&error)));
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.bytes().expect("body").len(), 1234, "{url}");
    }

    // The compiled-in Mozilla roots, as a client given no CA: the local CA is not among them.
    let untrusting = reqwest::blocking::Client::builder().timeout(STARTUP_TIMEOUT).build().expect("client");
    let error = untrusting.get(upstream.url()).send().expect_err("a client without the CA is refused");
    assert!(chain(&error).contains("UnknownIssuer"), "{}", chain(&error));

    let raw = read_to_close(&mut get(upstream.addr, "/plain"));
    assert_eq!(status_of(&raw), None, "plain HTTP got an HTTP answer: {:?}", String::from_utf8_lossy(&raw));

    let (served, record) = upstream.stop_with_holds();
    assert_eq!(served, 2, "only the trusted client's requests were served");
    let tls = record.tls.expect("a TLS upstream records its handshakes");
    assert_eq!(tls.failed_handshakes, 2, "the untrusting client and the plain-HTTP one: {tls:?}");
    let full: u64 = tls.handshakes.iter().filter(|n| !n.resumed).map(|n| n.count).sum();
    assert!(full >= 1, "{tls:?}");
    assert!(tls.handshakes.iter().all(|n| n.version == "TLSv1.3" && n.cipher_suite.starts_with("TLS_")), "{tls:?}");
}

/// The servers' upstream clients over TLS: given `--upstream-ca`, /async-google and /sync-google reach the upstream;
/// without it they answer 502 naming the certificate error (no fallback to plain HTTP, no unverified retry); an
/// unreadable `--upstream-ca` stops the server before it listens, naming the file.
#[test]
fn servers_trust_the_upstream_ca_they_are_given_and_nothing_else() {
    let upstream = Upstream::start_tls(&["--delay", "0ms", "--body-bytes", "100"]);
    let ca = upstream.ca.clone().expect("a TLS upstream has a CA");
    let ca_arg = ca.to_str().expect("temp paths are UTF-8");
    let url = upstream.url();
    let client = support::http_client();

    let trusting = support::Server::start(&["serve", "async", "--upstream", &url, "--upstream-ca", ca_arg]);
    for path in ["/async-google", "/sync-google"] {
        let response = client.get(trusting.url(path)).send().expect("the server answers");
        assert_eq!(response.status(), 200, "{path}: {:?}", response.text());
    }
    let untrusting = support::Server::start(&["serve", "sync", "--upstream", &url]);
    let response = client.get(untrusting.url("/sync-google")).send().expect("the server answers");
    assert_eq!(response.status(), 502);
    let detail = response.json::<serde_json::Value>().expect("JSON")["detail"].as_str().unwrap_or("").to_owned();
    assert!(detail.contains("UnknownIssuer"), "{detail}");

    let missing = std::env::temp_dir().join(format!("rustcorn-no-such-ca-{}.pem", std::process::id()));
    let missing_arg = missing.to_str().expect("temp paths are UTF-8");
    for model in ["async", "sync", "prefork"] {
        let mut server = support::Process::spawn(&[
            "serve",
            model,
            "--bind",
            "127.0.0.1:0",
            "--upstream",
            &url,
            "--upstream-ca",
            missing_arg,
        ]);
        let status = server.wait_exit(STARTUP_TIMEOUT).expect("the server exits");
        assert!(!status.success(), "{model}");
        let stderr = server.stderr();
        assert!(stderr.contains("--upstream-ca") && stderr.contains(missing_arg), "{model}: {stderr}");
    }
}
