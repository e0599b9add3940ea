//! Shared by the integration tests: starts the real `rustcorn` binary as a child process on port 0, waits for its
//! `Listening at:` line, and offers raw-socket helpers for malformed input.
#![allow(dead_code)]

pub mod echo;
pub mod prefork;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generous on purpose: two cores run the build, the tests and the servers at once.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `rustcorn` child process, killed when dropped.
pub struct Process {
    child: Child,
    stdout_lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// Set by the stderr reader at end of file: after an exit, what the process wrote is all read only then.
    stderr_closed: Arc<AtomicBool>,
}

/// How long an exited process's stderr may take to be read to its end (a worker that outlives it keeps it open).
const STDERR_DRAIN: Duration = Duration::from_secs(5);

impl Process {
    /// Starts `rustcorn ARGS...` with stdout and stderr captured.
    pub fn spawn(args: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rustcorn"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start the rustcorn binary");
        let (sender, stdout_lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let pipe = child.stderr.take().expect("stderr is piped");
        let stderr_closed = Arc::new(AtomicBool::new(false));
        let closed = Arc::clone(&stderr_closed);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
            closed.store(true, Ordering::Release);
        });
        Process { child, stdout_lines, stderr, stderr_closed }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The next stdout line, or None when none came within `timeout` or stdout closed.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.stdout_lines.recv_timeout(timeout).ok()
    }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it.
    pub fn wait_for_line(&self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left) {
                Some(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_owned();
                    }
                }
                None => panic!("no stdout line starting with {prefix:?}; stderr:\n{}", self.stderr()),
            }
        }
    }

    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
        let result = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(result, 0, "kill({}, {signal}) failed", self.child.id());
    }

    /// Waits for the process to exit, polling so a stuck process fails the test instead of hanging it; then waits
    /// (bounded) until its stderr is read to the end, so that `stderr()` holds its last words.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let status = wait_exit(&mut self.child, timeout)?;
        let deadline = Instant::now() + STDERR_DRAIN;
        while !self.stderr_closed.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        Some(status)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` to exit, polling so a stuck process fails the test instead of hanging it.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A server model started with `rustcorn serve ... --bind 127.0.0.1:0`, ready to accept.
pub struct Server {
    pub process: Process,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `rustcorn ARGS... --bind 127.0.0.1:0` and waits for `Listening at: http://ADDR`.
    pub fn start(args: &[&str]) -> Server {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--bind", "127.0.0.1:0"]);
        let process = Process::spawn(&all);
        let announced = process.wait_for_line("Listening at:", STARTUP_TIMEOUT);
        let addr = announced
            .strip_prefix("http://")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("bad Listening line {announced:?}"));
        Server { process, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect to the server under test");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("set_read_timeout");
        stream
    }

    /// Sends `request` on a fresh connection and reads until the server closes it (or 30 s pass).
    pub fn raw_exchange(&self, request: &[u8]) -> Vec<u8> {
        let mut stream = self.connect();
        stream.write_all(request).expect("write request");
        read_to_close(&mut stream)
    }
}

/// Reads until EOF, a reset, or the read timeout; returns what arrived.
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return received,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

/// The status code of the first response in `raw`, if it starts with a status line.
pub fn status_of(raw: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(raw.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ").or_else(|| text.strip_prefix("HTTP/1.0 "))?.get(..3)?.parse().ok()
}

/// A blocking reqwest client for well-formed requests.
pub fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().expect("build http client")
}

/// A `rustcorn upstream ARGS... --bind 127.0.0.1:0 --record FILE` child (the google.com stand-in), ready to accept.
pub struct Upstream {
    pub process: Process,
    pub addr: SocketAddr,
    /// Where it writes the holds it gave when it stops.
    pub record: std::path::PathBuf,
    /// With `--tls`: the CA it wrote (`--ca-out`), which its clients must trust.
    pub ca: Option<std::path::PathBuf>,
}

impl Upstream {
    /// Starts the upstream with extra flags (e.g. `--delay 1s`) and waits for its `Listening at:` line.
    pub fn start(args: &[&str]) -> Upstream {
        Self::spawn(args, false)
    }

    /// [`Upstream::start`] over HTTPS: `--tls --ca-out FILE`, the CA in [`Upstream::ca`].
    pub fn start_tls(args: &[&str]) -> Upstream {
        Self::spawn(args, true)
    }

    fn spawn(args: &[&str], tls: bool) -> Upstream {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let started = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let scratch =
            |what: &str| std::env::temp_dir().join(format!("rustcorn-test-{what}-{}-{started}", std::process::id()));
        let record = scratch("holds").with_extension("json");
        let record_arg = record.to_str().expect("temp paths are UTF-8").to_owned();
        let ca = tls.then(|| scratch("ca").with_extension("pem"));
        let ca_arg = ca.as_ref().map(|ca| ca.to_str().expect("temp paths are UTF-8").to_owned());
        let mut all = vec!["upstream"];
        all.extend_from_slice(args);
        all.extend(["--bind", "127.0.0.1:0", "--record", &record_arg]);
        if let Some(ca_arg) = &ca_arg {
            all.extend(["--tls", "--ca-out", ca_arg]);
        }
        let process = Process::spawn(&all);
        let addr = listening_addr(&process);
        Upstream { process, addr, record, ca }
    }

    /// Like [`Upstream::stop`], also returning the holds it recorded.
    pub fn stop_with_holds(mut self) -> (u64, upstream::HoldRecord) {
        self.process.signal(libc::SIGTERM);
        let served = self.wait_clean_exit();
        let text = std::fs::read_to_string(&self.record).expect("the upstream wrote its hold record");
        (served, serde_json::from_str(&text).expect("the hold record is JSON"))
    }

    /// The URL to hand a server's `--upstream`.
    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// Sends SIGTERM, expects a clean exit and returns the `Requests served: N` count it printed.
    pub fn stop(self) -> u64 {
        self.process.signal(libc::SIGTERM);
        self.wait_stopped()
    }

    /// After a SIGTERM sent elsewhere: expects a clean exit and returns the `Requests served: N` count.
    pub fn wait_stopped(mut self) -> u64 {
        self.wait_clean_exit()
    }

    fn wait_clean_exit(&mut self) -> u64 {
        let served = self.process.wait_for_line("Requests served:", STARTUP_TIMEOUT);
        let status = self.process.wait_exit(STARTUP_TIMEOUT).expect("upstream did not exit after SIGTERM");
        assert!(status.success(), "upstream exited with {status}; stderr:\n{}", self.process.stderr());
        served.parse().unwrap_or_else(|_| panic!("bad Requests served line {served:?}"))
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.record);
        if let Some(ca) = &self.ca {
            let _ = std::fs::remove_file(ca);
        }
    }
}

/// Waits for `Listening at: http://ADDR` (or `https://ADDR`) on the process's stdout and returns ADDR.
pub fn listening_addr(process: &Process) -> SocketAddr {
    let announced = process.wait_for_line("Listening at:", STARTUP_TIMEOUT);
    announced
        .strip_prefix("http://")
        .or_else(|| announced.strip_prefix("https://"))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("bad Listening line {announced:?}"))
}

/// Waits until the process has written `needle` to stderr (e.g. a debug log line); false when `timeout` passed.
pub fn wait_for_stderr(process: &Process, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if process.stderr().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The value of header `name` (lower-case) in the first response head of `raw`.
pub fn header_of(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
    })
}

/// The body of a single `Connection: close` response in `raw` (everything after the head).
pub fn body_of(raw: &[u8]) -> &[u8] {
    raw.windows(4).position(|window| window == b"\r\n\r\n").map_or(&[], |end| &raw[end + 4..])
}

/// Reads until the peer closes the connection (EOF or reset) and returns what arrived, or None when it was still
/// open after `within`.
pub fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).expect("set_read_timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return Some(received),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return None
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Some(received),
        }
    }
}

/// One response split out of a raw byte stream.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| panic!("body is not JSON ({error}): {:?}", self.body))
    }
}

/// Splits `raw` into the responses it holds, using content-length; `head_only` for responses to HEAD (no body).
/// Panics on anything that is not a well-formed sequence of responses.
pub fn split_responses(raw: &[u8], head_only: bool) -> Vec<RawResponse> {
    let mut responses = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let head_end = rest.windows(4).position(|window| window == b"\r\n\r\n").expect("a complete response head");
        let head = std::str::from_utf8(&rest[..head_end]).expect("response head is UTF-8");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("status line");
        let status = status_line.get(9..12).and_then(|code| code.parse().ok()).expect("status code");
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("header line has a colon");
                (name.trim().to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .map(|(_, value)| value.parse().expect("numeric content-length"))
            .expect("content-length header");
        let body_start = head_end + 4;
        let body_len = if head_only { 0 } else { length };
        let body = rest.get(body_start..body_start + body_len).expect("complete body").to_vec();
        responses.push(RawResponse { status, headers, body });
        rest = &rest[body_start + body_len..];
    }
    responses
}

/// Reads exactly one response (head plus content-length body) from a kept-alive connection.
pub fn read_one_response(stream: &mut TcpStream) -> RawResponse {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read response head");
        assert_eq!(n, 1, "connection closed inside a response head: {received:?}");
        received.push(byte[0]);
    }
    let head = split_responses(&received, true).remove(0);
    let length: usize = head.header("content-length").and_then(|value| value.parse().ok()).expect("content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("read response body");
    RawResponse { body, ..head }
}

/// GETs /health with a fresh client and asserts the server answered 200.
pub fn assert_serves_health(server: &Server) {
    let response = http_client().get(server.url("/health")).send().expect("GET /health");
    assert_eq!(response.status().as_u16(), 200, "server stopped serving /health; stderr:\n{}", server.process.stderr());
}

/// What the test upstream saw, in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamEvent {
    /// Request number N (counting from 0 in arrival order) arrived.
    Arrived(usize),
    /// Request number N is about to be answered.
    Answering(usize),
}

/// A minimal slow upstream on 127.0.0.1:0 for /sync-google tests: each request is recorded when it arrives,
/// answered after `delay` with a small body, and its connection closed. Records the order of events so tests
/// assert causality instead of timing.
pub struct SlowUpstream {
    pub addr: SocketAddr,
    events: Arc<Mutex<Vec<UpstreamEvent>>>,
}

impl SlowUpstream {
    pub fn start(delay: Duration) -> SlowUpstream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the test upstream");
        let addr = listener.local_addr().expect("test upstream address");
        let events = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&events);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let log = Arc::clone(&log);
                std::thread::spawn(move || answer_slowly(stream, &log, delay));
            }
        });
        SlowUpstream { addr, events }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn events(&self) -> Vec<UpstreamEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until `count` requests have arrived (polling, bounded by `timeout`); panics if they do not.
    pub fn wait_for_arrivals(&self, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let arrived = self.events().iter().filter(|event| matches!(event, UpstreamEvent::Arrived(_))).count();
            if arrived >= count {
                return;
            }
            assert!(Instant::now() < deadline, "only {arrived} of {count} upstream requests arrived");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Reads one request head byte by byte (so nothing after it is consumed); None if the peer closed or erred first.
pub fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

fn answer_slowly(mut stream: TcpStream, log: &Mutex<Vec<UpstreamEvent>>, delay: Duration) {
    if read_head(&mut stream).is_none() {
        return;
    }
    let number = {
        let mut events = log.lock().unwrap();
        let number = events.iter().filter(|event| matches!(event, UpstreamEvent::Arrived(_))).count();
        events.push(UpstreamEvent::Arrived(number));
        number
    };
    std::thread::sleep(delay);
    log.lock().unwrap().push(UpstreamEvent::Answering(number));
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
}

/// A test that cannot run here, because a tool it needs cannot be installed, says so in a `SKIP` line (shown by
/// nextest, see .config/nextest.toml) and passes; under CI=true it fails instead, since CI installs what every
/// test needs and a skip there would hide a break.
pub fn skip(test: &str, reason: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test} cannot run under CI=true: {reason}");
    eprintln!("SKIP {test}: {reason}");
}

/// The workspace root, where README.md, bench-suite/ and scripts/ are.
pub fn project_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python peers' venv bin folder, built by scripts/setup-python-peers.sh, or why it cannot be built here (no
/// Python >= 3.11, no venv module, no PyPI).
pub fn venv_bin() -> Result<std::path::PathBuf, String> {
    let output = Command::new(project_root().join("scripts/setup-python-peers.sh"))
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run scripts/setup-python-peers.sh: {error}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("scripts/setup-python-peers.sh failed ({}): {}", output.status, stderr.trim()));
    }
    let python = std::path::PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    python.parent().map(std::path::Path::to_path_buf).ok_or_else(|| format!("unexpected interpreter path {python:?}"))
}

/// `rustcorn load ARGS...` to completion, its output captured.
pub fn load(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rustcorn"))
        .arg("load")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rustcorn load")
}
