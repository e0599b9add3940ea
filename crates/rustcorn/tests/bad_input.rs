//! Malformed and hostile input over real sockets, for every server model in [`MODELS`]: each case gets its status
//! (or is closed) and the server goes on serving /health afterwards.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{
    assert_serves_health, http_client, read_one_response, read_until_closed, split_responses, status_of, Server,
};

/// The server models under test; each case runs against every one of them.
const MODELS: &[&[&str]] = &[&["serve", "sync"], &["serve", "async"]];

/// Short, so the slowloris case ends quickly; still several times the round trips the other cases need.
const HEADER_TIMEOUT: &str = "1s";
/// Generous upper bound for a server-side close: two cores run the build, the tests and the servers at once.
const CLOSE_WITHIN: Duration = Duration::from_secs(20);

/// Runs `case` against a fresh server of every model, then checks that the server still serves /health.
fn for_every_model(case: impl Fn(&Server)) {
    for model in MODELS {
        let mut args = model.to_vec();
        args.extend(["--header-timeout", HEADER_TIMEOUT]);
        let server = Server::start(&args);
        case(&server);
        assert_serves_health(&server);
    }
}

/// Sends `request` on a fresh connection and returns the single response, asserting the server then closed.
fn refused_and_closed(server: &Server, request: &[u8]) -> support::RawResponse {
    let mut stream = server.connect();
    stream.write_all(request).expect("send the request");
    let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("the server closes the connection");
    let mut responses = split_responses(&raw, false);
    assert_eq!(responses.len(), 1, "exactly one response: {:?}", String::from_utf8_lossy(&raw));
    let response = responses.remove(0);
    assert!(response.json()["detail"].is_string(), "JSON error body: {:?}", response.body);
    response
}

#[test]
fn garbage_request_line_is_400_and_closed() {
    for_every_model(|server| {
        for garbage in [&b"this is not http\r\n\r\n"[..], b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"] {
            assert_eq!(refused_and_closed(server, garbage).status, 400, "{garbage:?}");
        }
    });
}

#[test]
fn head_over_16_kib_is_431() {
    for_every_model(|server| {
        let mut request = b"GET /health HTTP/1.1\r\nHost: test\r\nX-Big: ".to_vec();
        request.resize(request.len() + 17 * 1024, b'a');
        request.extend_from_slice(b"\r\n\r\n");
        assert_eq!(refused_and_closed(server, &request).status, 431);
    });
}

#[test]
fn more_than_100_headers_is_431() {
    for_every_model(|server| {
        let mut request = b"GET /health HTTP/1.1\r\nHost: test\r\n".to_vec();
        for index in 0..100 {
            request.extend_from_slice(format!("X-Field-{index}: value\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        assert_eq!(refused_and_closed(server, &request).status, 431);
    });
}

#[test]
fn bad_iterations_and_n_are_400_with_a_json_detail() {
    let bad = [
        "/cpu-intensive?iterations=abc",
        "/cpu-intensive?iterations=-1",
        "/cpu-intensive?iterations=1000000001",
        "/cpu-intensive?iterations=99999999999999999999999",
        "/memory-intensive?n=lots",
        "/memory-intensive?n=-5",
        "/memory-intensive?n=10000001",
    ];
    for_every_model(|server| {
        let client = http_client();
        for path in bad {
            let response = client.get(server.url(path)).send().expect("request");
            assert_eq!(response.status().as_u16(), 400, "{path}");
            assert_eq!(response.headers()["content-type"], "application/json", "{path}");
            let body: serde_json::Value = response.json().expect("JSON error body");
            let detail = body["detail"].as_str().unwrap_or_else(|| panic!("{path}: no detail in {body}"));
            assert!(detail.contains("iterations") || detail.contains("'n'"), "{path}: {detail}");
        }
    });
}

#[test]
fn unknown_path_is_404() {
    for_every_model(|server| {
        let response = http_client().get(server.url("/no-such-endpoint")).send().expect("request");
        assert_eq!(response.status().as_u16(), 404);
        let body: serde_json::Value = response.json().expect("JSON error body");
        assert!(body["detail"].is_string());
    });
}

#[test]
fn post_to_a_get_route_is_405() {
    for_every_model(|server| {
        let response = http_client().post(server.url("/health")).body("x").send().expect("request");
        assert_eq!(response.status().as_u16(), 405);
        let body: serde_json::Value = response.json().expect("JSON error body");
        assert!(body["detail"].is_string());
    });
}

#[test]
fn body_over_the_limit_is_413() {
    for_every_model(|server| {
        let mut declared = b"POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: 2097152\r\n\r\n".to_vec();
        declared.resize(declared.len() + 4096, b'x');
        assert_eq!(refused_and_closed(server, &declared).status, 413, "Content-Length over the limit");

        // The whole 2 MiB chunk is sent (from a second thread: the server may refuse and close before it is all
        // written), so every model sees more than the limit arrive.
        let mut chunked = b"POST /health HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        chunked.extend_from_slice(b"200000\r\n");
        chunked.resize(chunked.len() + 0x200000, b'x');
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut stream = server.connect();
        let mut writer = stream.try_clone().expect("clone the client socket");
        let sender = std::thread::spawn(move || {
            let _ = writer.write_all(&chunked);
        });
        let raw = read_until_closed(&mut stream, CLOSE_WITHIN).expect("the server closes the connection");
        let responses = split_responses(&raw, false);
        assert_eq!(responses.len(), 1, "exactly one response: {:?}", String::from_utf8_lossy(&raw));
        assert_eq!(responses[0].status, 413, "chunked body over the limit");
        assert!(responses[0].json()["detail"].is_string(), "JSON error body: {:?}", responses[0].body);
        drop(stream);
        sender.join().expect("sender thread");
    });
}

#[test]
fn chunk_declared_over_the_limit_is_413_before_it_arrives() {
    for_every_model(|server| {
        let mut chunked = b"POST /health HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        chunked.extend_from_slice(b"200000\r\n");
        chunked.resize(chunked.len() + 4096, b'x');
        assert_eq!(refused_and_closed(server, &chunked).status, 413, "chunk declared over the limit");
    });
}

#[test]
fn small_bodies_are_discarded_and_the_connection_goes_on() {
    for_every_model(|server| {
        let mut stream = server.connect();
        stream.write_all(b"POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello").unwrap();
        assert_eq!(read_one_response(&mut stream).status, 405);
        stream
            .write_all(
                b"POST /health HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            )
            .unwrap();
        assert_eq!(read_one_response(&mut stream).status, 405);
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        assert_eq!(read_one_response(&mut stream).status, 200, "the bodies were consumed, not taken as requests");
    });
}

#[test]
fn slowloris_is_closed_after_the_header_timeout() {
    for_every_model(|server| {
        let mut stream = server.connect();
        let request =
            b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let started = Instant::now();
        // One byte every 200 ms: each byte comes well within the 1 s timeout, so only a deadline for the whole
        // head (not a per-read timeout) closes this connection.
        let mut closed = false;
        for byte in request.iter().cycle() {
            if started.elapsed() > CLOSE_WITHIN {
                break;
            }
            if stream.write_all(&[*byte]).is_err() {
                closed = true;
                break;
            }
            if read_until_closed(&mut stream, Duration::from_millis(200)).is_some() {
                closed = true;
                break;
            }
        }
        assert!(closed, "a client trickling its head was still connected after {CLOSE_WITHIN:?}");
    });
}

#[test]
fn a_client_that_disconnects_mid_request_does_not_disturb_others() {
    for_every_model(|server| {
        let mut bystander = server.connect();
        bystander.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        assert_eq!(read_one_response(&mut bystander).status, 200);

        let abandoned: [&[u8]; 3] = [
            b"GET /health HTTP/1.1\r\nHo",
            b"POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\nonly a little",
            b"GET /cpu-intensive?iterations=5000000 HTTP/1.1\r\nHost: test\r\n\r\n",
        ];
        for partial in abandoned {
            let mut quitter = TcpStream::connect(server.addr).expect("connect");
            quitter.write_all(partial).expect("send part of a request");
            drop(quitter);
        }

        bystander.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        let response = read_one_response(&mut bystander);
        assert_eq!(response.status, 200, "the kept-alive bystander is still served");
        let raw = server.raw_exchange(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        assert_eq!(status_of(&raw), Some(200));
    });
}

#[test]
fn framing_is_as_strict_as_nginx() {
    let refused: [(&[u8], u16, &str); 4] = [
        (
            b"POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            "Content-Length and Transfer-Encoding",
        ),
        (b"GET /health HTTP/1.1\r\n\r\n", 400, "missing Host"),
        (b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP/2"),
    ];
    for_every_model(|server| {
        for (request, status, detail) in refused {
            let response = refused_and_closed(server, request);
            assert_eq!(response.status, status, "{detail}");
            let said = response.json()["detail"].as_str().unwrap_or_default().to_owned();
            assert!(said.contains(detail), "{said:?} does not say {detail:?}");
        }
        let absolute =
            server.raw_exchange(b"GET http://test/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        assert_eq!(status_of(&absolute), Some(200), "absolute-form target");
        let http10 = server.raw_exchange(b"GET /health HTTP/1.0\r\n\r\n");
        assert_eq!(status_of(&http10), Some(200), "HTTP/1.0 needs no Host");
    });
}

#[test]
fn a_body_that_never_comes_is_408_after_the_timeout() {
    for_every_model(|server| {
        let request = b"GET /health HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n";
        let response = refused_and_closed(server, request);
        assert_eq!(response.status, 408);
    });
}
