//! The article's Python servers (uvicorn, gunicorn + UvicornWorker, gunicorn sync workers, and the improved app)
//! from the venv of scripts/setup-python-peers.sh: each answers the four endpoints with the article's JSON, field
//! by field, and runs through `rustcorn bench run` without failures. Skipped, saying why, when the venv cannot be
//! built here.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{http_client, project_root, venv_bin, Process, Upstream};

/// The four endpoints and the message each answers with, as the article's handlers write them.
const ENDPOINTS: [(&str, &str); 4] = [
    ("/cpu-intensive", "CPU-intensive task completed"),
    ("/memory-intensive", "Memory-intensive task completed"),
    ("/sync-google", "Sync request to google.com completed"),
    ("/async-google", "Async request to google.com completed"),
];

/// A Python peer: its name in the suite, the venv program and the arguments before the bind address.
struct Peer {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    bind: fn(u16) -> Vec<String>,
}

const PEERS: [Peer; 4] = [
    Peer {
        name: "py-uvicorn",
        program: "uvicorn",
        args: &["main:app", "--no-access-log"],
        bind: |port| vec!["--host".into(), "127.0.0.1".into(), "--port".into(), port.to_string()],
    },
    Peer {
        name: "py-gunicorn-uvicorn-2",
        program: "gunicorn",
        args: &["-w", "2", "-k", "uvicorn.workers.UvicornWorker", "--no-control-socket", "main:app"],
        bind: |port| vec!["--bind".into(), format!("127.0.0.1:{port}")],
    },
    Peer {
        name: "py-gunicorn-sync-2",
        program: "gunicorn",
        args: &["-w", "2", "--no-control-socket", "main_wsgi:app"],
        bind: |port| vec!["--bind".into(), format!("127.0.0.1:{port}")],
    },
    Peer {
        name: "py-uvicorn-improved",
        program: "uvicorn",
        args: &["improved:app", "--no-access-log"],
        bind: |port| vec!["--host".into(), "127.0.0.1".into(), "--port".into(), port.to_string()],
    },
];

fn apps_dir() -> PathBuf {
    project_root().join("bench-suite/python")
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a probe port");
    listener.local_addr().expect("probe address").port()
}

fn argv(peer: &Peer, bin: &Path, port: u16) -> Vec<String> {
    let mut argv = vec![bin.join(peer.program).display().to_string()];
    argv.extend(peer.args.iter().map(|arg| arg.to_string()));
    argv.extend((peer.bind)(port));
    argv
}

/// A peer started by the test itself, stopped with SIGTERM when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_peer(peer: &Peer, bin: &Path, port: u16, upstream: &str) -> Running {
    let argv = argv(peer, bin, port);
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(apps_dir())
        .env("RUSTCORN_UPSTREAM_URL", upstream)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("{}: cannot start {argv:?}: {error}", peer.name));
    let running = Running(child);
    let client = http_client();
    let health = format!("http://127.0.0.1:{port}/health");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(&health).send().is_ok_and(|response| response.status().is_success()) {
        assert!(Instant::now() < deadline, "{}: not ready at {health} within 60 s", peer.name);
        std::thread::sleep(Duration::from_millis(100));
    }
    running
}

/// Checks one answer against the article's JSON field by field: `{"message": MESSAGE, "duration": SECONDS}`, the
/// message first, the duration a non-negative number of seconds, nothing else.
fn assert_articles_json(label: &str, body: &str, message: &str) {
    let prefix = format!("{{\"message\":\"{message}\",\"duration\":");
    assert!(body.starts_with(&prefix), "{label}: {body} does not start with {prefix}");
    let duration = body[prefix.len()..].strip_suffix('}').and_then(|number| number.parse::<f64>().ok());
    assert!(duration.is_some_and(|seconds| seconds >= 0.0), "{label}: {body}: duration");
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|error| panic!("{label}: {error}"));
    assert_eq!(json.as_object().map(|object| object.len()), Some(2), "{label}: {json}");
}

#[test]
fn heavy_python_peers_answer_with_the_articles_json_and_run_through_the_driver() {
    let bin = match venv_bin() {
        Ok(bin) => bin,
        Err(reason) => {
            support::skip("python peers", &format!("the Python peers' venv cannot be built here: {reason}"));
            return;
        }
    };
    let upstream = Upstream::start(&["--delay", "20ms"]);
    let client = http_client();
    for peer in &PEERS {
        let port = free_port();
        let _running = start_peer(peer, &bin, port, &upstream.url());
        for (path, message) in ENDPOINTS {
            let response = client
                .get(format!("http://127.0.0.1:{port}{path}"))
                .send()
                .unwrap_or_else(|error| panic!("{} {path}: {error}", peer.name));
            assert_eq!(response.status().as_u16(), 200, "{} {path}", peer.name);
            let pid = response.headers().get("x-worker-pid").and_then(|value| value.to_str().ok());
            assert!(pid.is_some_and(|pid| pid.parse::<u32>().is_ok()), "{} {path}: x-worker-pid {pid:?}", peer.name);
            let body = response.text().unwrap_or_else(|error| panic!("{} {path}: {error}", peer.name));
            assert_articles_json(&format!("{} {path}", peer.name), &body, message);
        }
    }
    drop(upstream);
    run_through_the_driver(&bin);
}

/// The three process models through `rustcorn bench run`, ~0.5 s per endpoint: measured, no failed request, stopped
/// cleanly (the improved app runs the same way as main.py under uvicorn, so it adds no case here).
const DRIVEN: usize = 3;

/// Every process model through `rustcorn bench run`.
fn run_through_the_driver(bin: &Path) {
    let dir = std::env::temp_dir().join(format!("rustcorn-python-peers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    let suite = dir.join("suite.toml");
    std::fs::write(&suite, suite_text(bin)).expect("write the suite");
    let results_dir = dir.join("results");
    let mut run = Process::spawn(&[
        "bench",
        "run",
        suite.to_str().expect("utf-8 path"),
        "--results-dir",
        results_dir.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    let status = run.wait_exit(Duration::from_secs(300)).expect("the run ends");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", run.stderr());
    let text = std::fs::read_to_string(results_dir.join("latest/results.json")).expect("results.json");
    let results: serde_json::Value = serde_json::from_str(&text).expect("results.json is JSON");
    for peer in &PEERS[..DRIVEN] {
        let target = results["targets"]
            .as_array()
            .and_then(|targets| targets.iter().find(|target| target["name"] == peer.name))
            .unwrap_or_else(|| panic!("no target {}", peer.name));
        assert_eq!(target["status"]["state"], "ok", "{}: {target}", peer.name);
        assert_eq!(target["family"], "python", "{}", peer.name);
        let phases = target["phases"].as_array().expect("phases");
        assert_eq!(phases.len(), ENDPOINTS.len(), "{}: every endpoint measured", peer.name);
        for phase in phases {
            let load = &phase["load"]["aggregated"];
            let label = format!("{} / {}", peer.name, phase["name"]);
            assert!(load["count"].as_u64().is_some_and(|count| count > 0), "{label}: requests measured");
            for kind in ["connect", "timeout", "status", "read"] {
                assert_eq!(load["failures"][kind].as_u64(), Some(0), "{label}: {}", load["failures"]);
            }
            assert!(phase["resources"]["summary"]["cpu_cores_avg"].as_f64().is_some_and(|cores| cores > 0.0));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn suite_text(bin: &Path) -> String {
    let mut text = String::from("name = \"python-peers-test\"\n[upstream]\ndelay = \"20ms\"\n");
    for peer in &PEERS[..DRIVEN] {
        let port = free_port();
        let command: Vec<String> = argv(peer, bin, port).iter().map(|word| format!("{word:?}")).collect();
        text.push_str(&format!(
            "\n[[targets]]\nname = \"{}\"\ncommand = [{}]\nready_url = \"http://127.0.0.1:{port}/health\"\ncwd = {:?}\n\
             ready_timeout = \"60s\"\n",
            peer.name,
            command.join(", "),
            apps_dir().display().to_string(),
        ));
    }
    for (path, _) in ENDPOINTS {
        let name = path.trim_start_matches('/');
        text.push_str(&format!(
            "\n[[phases]]\nname = \"{name}\"\nload = \"concurrency\"\nconnections = 4\nwarmup = \"100ms\"\n\
             duration = \"500ms\"\ntasks = [{{ path = \"{path}\" }}]\n"
        ));
    }
    text
}
