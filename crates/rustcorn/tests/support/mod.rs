//! Shared by the integration tests: starts the real `rustcorn` binary as a child process on port 0, waits for its
//! `Listening at:` line, and offers raw-socket helpers for malformed input.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
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
}

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
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Process { child, stdout_lines, stderr }
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

    /// Waits for the process to exit, polling so a stuck process fails the test instead of hanging it.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

/// A `rustcorn upstream ARGS... --bind 127.0.0.1:0` child (the google.com stand-in), ready to accept.
pub struct Upstream {
    pub process: Process,
    pub addr: SocketAddr,
}

impl Upstream {
    /// Starts the upstream with extra flags (e.g. `--delay 1s`) and waits for its `Listening at:` line.
    pub fn start(args: &[&str]) -> Upstream {
        let mut all = vec!["upstream"];
        all.extend_from_slice(args);
        all.extend(["--bind", "127.0.0.1:0"]);
        let process = Process::spawn(&all);
        let addr = listening_addr(&process);
        Upstream { process, addr }
    }

    /// The URL to hand a server's `--upstream`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Sends SIGTERM, expects a clean exit and returns the `Requests served: N` count it printed.
    pub fn stop(self) -> u64 {
        self.process.signal(libc::SIGTERM);
        self.wait_stopped()
    }

    /// After a SIGTERM sent elsewhere: expects a clean exit and returns the `Requests served: N` count.
    pub fn wait_stopped(mut self) -> u64 {
        let served = self.process.wait_for_line("Requests served:", STARTUP_TIMEOUT);
        let status = self.process.wait_exit(STARTUP_TIMEOUT).expect("upstream did not exit after SIGTERM");
        assert!(status.success(), "upstream exited with {status}; stderr:\n{}", self.process.stderr());
        served.parse().unwrap_or_else(|_| panic!("bad Requests served line {served:?}"))
    }
}

/// Waits for `Listening at: http://ADDR` on the process's stdout and returns ADDR.
pub fn listening_addr(process: &Process) -> SocketAddr {
    let announced = process.wait_for_line("Listening at:", STARTUP_TIMEOUT);
    announced
        .strip_prefix("http://")
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
