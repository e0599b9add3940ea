//! The prefork tests' own instruments: starting `rustcorn serve prefork` and watching its process tree in /proc,
//! a client that tells a refused connection from a broken exchange, threads of load made of it, and a slow upstream
//! that counts the requests it holds.

use std::collections::HashSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{status_of, Process, Server, STARTUP_TIMEOUT};

/// Generous: the tests, the servers and the build share two cores.
pub const WAIT: Duration = Duration::from_secs(60);
/// Most requests a load client sends, so that every load loop ends by itself even if `stop` is never called.
pub const MAX_REQUESTS_PER_CLIENT: usize = 20_000;

// ---------------------------------------------------------------------------------------------------------------
// Starting the server and watching its processes

/// A prefork server that printed `Listening at:`, with the pids its `Booting worker` lines gave before that.
pub struct Prefork {
    pub server: Server,
    pub boot_pids: Vec<u32>,
}

impl Prefork {
    pub fn start(args: &[&str]) -> Prefork {
        let mut all = vec!["serve", "prefork"];
        all.extend_from_slice(args);
        all.extend(["--bind", "127.0.0.1:0"]);
        let process = Process::spawn(&all);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut boot_pids = Vec::new();
        let addr = loop {
            let Some(line) = process.next_line(deadline.saturating_duration_since(Instant::now())) else {
                panic!("no Listening line; stderr:\n{}", process.stderr());
            };
            if let Some(pid) = line.strip_prefix("Booting worker with pid: ") {
                boot_pids.push(pid.trim().parse().expect("a pid in the Booting line"));
            } else if let Some(addr) = line.strip_prefix("Listening at: http://") {
                break addr.trim().parse().expect("an address in the Listening line");
            }
        };
        Prefork { server: Server { process, addr }, boot_pids }
    }

    pub fn master_pid(&self) -> u32 {
        self.server.process.pid()
    }

    /// The pid of the next `Booting worker with pid: N` line.
    pub fn next_boot(&self) -> u32 {
        self.server.process.wait_for_line("Booting worker with pid:", WAIT).parse().expect("a pid")
    }

    pub fn workers(&self) -> HashSet<u32> {
        children_of(self.master_pid()).into_iter().collect()
    }

    /// Sends `signal` to the master and waits for it to exit; returns its exit code.
    pub fn stop(&mut self, signal: libc::c_int) -> i32 {
        self.server.process.signal(signal);
        let status = self.server.process.wait_exit(WAIT).expect("the master exits after the stop signal");
        status.code().unwrap_or_else(|| panic!("the master died of a signal: {status:?}"))
    }
}

/// (state, parent pid) of a process, from /proc/PID/stat; None once it is gone.
pub fn proc_state(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = after_name.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

pub fn is_running(pid: u32) -> bool {
    proc_state(pid).is_some_and(|(state, _)| state != 'Z')
}

/// Children of `parent` in /proc, zombies included when `with_zombies`.
pub fn children(parent: u32, with_zombies: bool) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").expect("read /proc");
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| proc_state(*pid).is_some_and(|(state, ppid)| ppid == parent && (with_zombies || state != 'Z')))
        .collect()
}

pub fn children_of(parent: u32) -> Vec<u32> {
    children(parent, false)
}

pub fn kill(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a pid this test observed, with a valid signal number, has no memory effects.
    let result = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(result, 0, "kill({pid}, {signal})");
}

/// Polls `condition` every 20 ms until it holds; fails the test after [`WAIT`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// A client that tells refusals from broken exchanges, and a load of them

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Served {
        status: u16,
        pid: u32,
    },
    /// Nothing listened: the failure a restart must never cause.
    Refused,
    /// Connected and sent the request, then the server closed the connection without a byte of response.
    Dropped,
    /// Connected, but no complete response came back.
    Broken(String),
}

impl Outcome {
    pub fn pid(&self) -> Option<u32> {
        match self {
            Outcome::Served { pid, .. } => Some(*pid),
            _ => None,
        }
    }
}

/// One `GET path` on a fresh connection with `Connection: close`, read to the end.
pub fn get(addr: SocketAddr, path: &str) -> Outcome {
    let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
        Ok(stream) => stream,
        Err(error) if error.kind() == ErrorKind::ConnectionRefused => return Outcome::Refused,
        Err(error) => return Outcome::Broken(format!("connect: {error}")),
    };
    stream.set_read_timeout(Some(WAIT)).expect("set_read_timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if let Err(error) = stream.write_all(request.as_bytes()) {
        return Outcome::Broken(format!("write: {error}"));
    }
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if raw.is_empty() && read.is_ok() {
        return Outcome::Dropped;
    }
    match parse_response(&raw) {
        Some((status, pid)) => Outcome::Served { status, pid },
        None => Outcome::Broken(format!("incomplete response ({} bytes, {read:?})", raw.len())),
    }
}

/// (status, x-worker-pid) of a complete response (head and the whole Content-Length body).
pub fn parse_response(raw: &[u8]) -> Option<(u16, u32)> {
    let status = status_of(raw)?;
    let head_end = raw.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    };
    let length: usize = header("content-length")?.parse().ok()?;
    let pid = header("x-worker-pid")?.parse().ok()?;
    (raw.len() >= head_end + length).then_some((status, pid))
}

pub struct Record {
    pub started_at: Instant,
    pub finished_at: Instant,
    pub outcome: Outcome,
}

/// `clients` threads each sending `GET path` one after another on fresh connections until stopped (or a bound).
pub struct Load {
    pub stop: Arc<AtomicBool>,
    pub records: Arc<Mutex<Vec<Record>>>,
    pub clients: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(addr: SocketAddr, path: &str, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let records = Arc::new(Mutex::new(Vec::new()));
        let deadline = Instant::now() + WAIT * 2;
        let clients = (0..clients)
            .map(|_| {
                let (stop, records, path) = (Arc::clone(&stop), Arc::clone(&records), path.to_owned());
                std::thread::spawn(move || {
                    for _ in 0..MAX_REQUESTS_PER_CLIENT {
                        if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                            break;
                        }
                        let started_at = Instant::now();
                        let outcome = get(addr, &path);
                        let failed = outcome.pid().is_none();
                        records.lock().unwrap().push(Record { started_at, finished_at: Instant::now(), outcome });
                        if failed {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                    }
                })
            })
            .collect();
        Load { stop, records, clients }
    }

    pub fn served(&self) -> usize {
        self.records.lock().unwrap().iter().filter(|record| record.outcome.pid().is_some()).count()
    }

    pub fn pids_seen(&self) -> HashSet<u32> {
        self.records.lock().unwrap().iter().filter_map(|record| record.outcome.pid()).collect()
    }

    pub fn finish(self) -> Vec<Record> {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            client.join().expect("a load client panicked");
        }
        std::mem::take(&mut *self.records.lock().unwrap())
    }
}

pub fn failures(records: &[Record]) -> Vec<&Outcome> {
    records.iter().map(|record| &record.outcome).filter(|outcome| outcome.pid().is_none()).collect()
}

pub fn assert_all_ok(records: &[Record]) {
    for record in records {
        if let Outcome::Served { status, .. } = record.outcome {
            assert_eq!(status, 200, "every response is a 200");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// A slow upstream for /async-google and /sync-google: it shows which requests a worker had started

/// Answers every request after `delay`, counting the requests it has received and those it still holds.
pub struct SlowUpstream {
    pub addr: SocketAddr,
    pub received: Arc<AtomicUsize>,
    pub held: Arc<AtomicUsize>,
}

impl SlowUpstream {
    pub fn start(delay: Duration) -> SlowUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the slow upstream");
        let addr = listener.local_addr().expect("upstream address");
        let received = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(AtomicUsize::new(0));
        let (counted, holding) = (Arc::clone(&received), Arc::clone(&held));
        // The accept thread lives as long as the test process; each test runs in a process of its own.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (counted, holding) = (Arc::clone(&counted), Arc::clone(&holding));
                std::thread::spawn(move || answer_slowly(stream, delay, &counted, &holding));
            }
        });
        SlowUpstream { addr, received, held }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

pub fn answer_slowly(mut stream: TcpStream, delay: Duration, received: &AtomicUsize, held: &AtomicUsize) {
    stream.set_read_timeout(Some(WAIT)).expect("set_read_timeout");
    if super::read_head(&mut stream).is_none() {
        return;
    }
    received.fetch_add(1, Ordering::SeqCst);
    held.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(delay);
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    held.fetch_sub(1, Ordering::SeqCst);
}
