//! `rustcorn bench servers`: two external commands (Python's http.server and the rustcorn binary run as an
//! unknown command, each on its `{port}`) beside two built-in Rust models, one command line, one report; and the
//! request-shape flags (-m, -H, -d, --disable-keepalive) as a recording server received them.

mod support;

use std::time::Duration;

use support::echo::header;
use support::Process;

/// `rustcorn bench servers ARGS` with a short load (2 connections, 200 ms warm-up, 1 s) into `results`, which must
/// exit 0; its stderr.
fn bench_servers(args: &[&str], results: &std::path::Path) -> String {
    let load = ["-c", "2", "-z", "1s", "--warmup", "200ms", "--results-dir", results.to_str().unwrap()];
    let mut run = Process::spawn(&[&["bench", "servers"], args, &load].concat());
    let status = run.wait_exit(Duration::from_secs(180)).expect("the run ends");
    let stderr = run.stderr();
    assert_eq!(status.code(), Some(0), "{stderr}");
    stderr
}

#[test]
fn heavy_bench_servers_compares_external_commands_beside_rust_models_in_one_report() {
    let dir = std::env::temp_dir().join(format!("rustcorn-bench-servers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = dir.join("www");
    std::fs::create_dir_all(&files).expect("create the served folder");
    // http.server answers /health from this file; every rustcorn server answers /health itself.
    std::fs::write(files.join("health"), "ok").expect("write the health file");
    let python = format!("python3 -m http.server {{port}} --bind 127.0.0.1 --directory {}", files.display());
    let rustcorn = format!("{} serve async --bind 127.0.0.1:{{port}}", env!("CARGO_BIN_EXE_rustcorn"));
    let results = dir.join("results");
    let args = [
        python.as_str(),
        &rustcorn,
        "--name",
        "pyhttp",
        "--name",
        "mine",
        "--serve",
        "async --threads 1",
        "--serve",
        "sync --max-threads 4",
        "--path",
        "/health",
    ];
    let stderr = bench_servers(&args, &results);
    let text = std::fs::read_to_string(results.join("latest/results.json")).expect("results.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let targets: Vec<(String, String)> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["family"].as_str().unwrap().to_owned()))
        .collect();
    let expected =
        [("pyhttp", "external"), ("mine", "external"), ("async-threads1", "rust"), ("sync-max-threads4", "rust")];
    assert_eq!(targets, expected.map(|(name, family)| (name.to_owned(), family.to_owned())), "{stderr}");
    for target in json["targets"].as_array().unwrap() {
        let load = &target["phases"][0]["load"]["aggregated"];
        assert!(load["count"].as_u64().unwrap() > 0, "{} measured nothing", target["name"]);
        assert_eq!(load["failures"]["status"], 0, "{} answered errors", target["name"]);
        assert_eq!(target["status"]["state"], "ok");
    }
    // Each start had its own free port: the command recorded keeps the placeholder, the run filled it.
    assert!(json["targets"][0]["command"].as_array().unwrap().iter().any(|word| word == "{port}"));
    let summary = std::fs::read_to_string(results.join("latest/summary.md")).expect("summary.md");
    for name in ["pyhttp", "mine", "async-threads1", "sync-max-threads4"] {
        assert!(summary.contains(name), "{name} missing from summary.md:\n{summary}");
    }
    assert!(results.join("latest/report.html").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TCP forwarder in Python: every connection accepted on argv[1] gets its own connection to the echo server on
/// argv[2], both directions copied until each side closes, so the echo server's connections are the load
/// generator's, one for one. `bench servers` starts it like any server command, on its `{port}`.
const FORWARDER: &str = r#"
import socket, sys, threading

def pipe(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def forward(client, echo_port):
    with client, socket.create_connection(("127.0.0.1", echo_port)) as echo:
        back = threading.Thread(target=pipe, args=(echo, client))
        back.start()
        pipe(client, echo)
        back.join()

server = socket.create_server(("127.0.0.1", int(sys.argv[1])), backlog=128)
while True:
    client, _ = server.accept()
    threading.Thread(target=forward, args=(client, int(sys.argv[2])), daemon=True).start()
"#;

#[test]
fn heavy_bench_servers_sends_the_method_headers_body_and_connection_close_it_was_given() {
    let echo = support::echo::EchoServer::start();
    let dir = std::env::temp_dir().join(format!("rustcorn-bench-servers-shape-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch folder");
    let forwarder = dir.join("forward.py");
    std::fs::write(&forwarder, FORWARDER).expect("write the forwarder");
    let command = format!("python3 {} {{port}} {}", forwarder.display(), echo.addr.port());
    let results = dir.join("results");
    let secret = "Bearer s3cret-7f3a";
    let authorization = format!("Authorization: {secret}");
    let args = [
        command.as_str(),
        "--name",
        "recorder",
        "--path",
        "/echo",
        "--ready-path",
        "/ready",
        "-m",
        "POST",
        "-H",
        &authorization,
        "-H",
        "X-Token: abc",
        "-d",
        "hello",
        "--disable-keepalive",
    ];
    let stderr = bench_servers(&args, &results);

    // The driver's readiness polls are plain GETs of /ready; every request of the load is the shape asked for.
    let (ready, posts): (Vec<_>, Vec<_>) = echo.received().into_iter().partition(|r| r.head.starts_with("GET /ready "));
    assert!(!ready.is_empty() && !posts.is_empty(), "{} polls, {} requests: {stderr}", ready.len(), posts.len());
    for request in &posts {
        assert!(request.head.starts_with("POST /echo HTTP/1.1\r\n"), "{}", request.head);
        assert_eq!(header(&request.head, "authorization"), Some(secret));
        assert_eq!(header(&request.head, "x-token"), Some("abc"));
        assert_eq!(header(&request.head, "content-length"), Some("5"));
        assert_eq!(header(&request.head, "connection"), Some("close"));
        assert_eq!(request.body, b"hello");
    }
    let mut connections: Vec<usize> = posts.iter().map(|request| request.connection).collect();
    connections.sort_unstable();
    connections.dedup();
    assert_eq!(connections.len(), posts.len(), "one connection per request without keep-alive");

    let text = std::fs::read_to_string(results.join("latest/results.json")).expect("results.json");
    assert!(!text.contains("s3cret"), "a header value reached results.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let phase = &json["targets"][0]["phases"][0];
    let measured = phase["load"]["aggregated"]["count"].as_u64().unwrap();
    assert!(measured > 0 && measured <= posts.len() as u64, "{measured} measured, {} arrived", posts.len());
    assert_eq!(phase["load"]["aggregated"]["failures"]["status"], 0);
    let expected = serde_json::json!({
        "method": "POST", "header_names": ["Authorization", "X-Token"], "body_bytes": 5, "keep_alive": false
    });
    assert_eq!(phase["request"], expected);
    let report = std::fs::read_to_string(results.join("latest/report.html")).expect("report.html");
    assert!(report.contains("sent POST with 2 headers (Authorization, X-Token) and a 5-byte body, no keep-alive"));
    assert!(!report.contains("s3cret"), "a header value reached the report");
    let _ = std::fs::remove_dir_all(&dir);
}
