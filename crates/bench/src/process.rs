//! Child servers (targets and the upstream): started in their own process group and pinned, tied to the driver's
//! life (they are killed when it dies, even by SIGKILL), waited for until ready (their `Listening at:` line or a
//! readiness URL answering 2xx), stopped with SIGTERM then SIGKILL, and the last lines of their stderr kept for
//! failure reports.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loadgen::Shutdown;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::pinning::pin_command;

/// Lines of stderr kept for a failure report.
pub const STDERR_TAIL_LINES: usize = 20;
const POLL: Duration = Duration::from_millis(50);
/// How long a target's fixed port may stay taken (by the previous instance going away) before the start fails.
const PORT_RELEASE: Duration = Duration::from_secs(2);
/// How long a failure report waits for the last stderr lines of an ended child (its descendants may hold the pipe).
const STDERR_DRAIN: Duration = Duration::from_secs(2);

/// How to start a child server and know it is ready.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    pub argv: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub cores: Vec<u32>,
    pub readiness: Readiness,
    pub ready_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// The child prints `Listening at: http://ADDR` on stdout (every rustcorn server does, also for port 0).
    ListeningLine,
    /// GET this URL until it answers 2xx.
    Url(String),
}

/// Why a child did not become ready (or could not be stopped cleanly).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct ChildFailure {
    pub reason: String,
    pub stderr_tail: Vec<String>,
}

/// A child server that announced readiness. Killed (with its whole process group) if dropped while running.
pub struct ChildServer {
    child: Option<Child>,
    /// `http://ADDR` the server answers at.
    pub base_url: String,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// Ends when the child's stderr closes: joined before a failure report so its last lines are in.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

/// How a stop went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub status: Option<ExitStatus>,
    /// False when SIGKILL was needed after the grace period.
    pub graceful: bool,
}

impl ChildServer {
    /// Starts the child and waits until it is ready, it exits, the timeout passes or `cancel` fires.
    pub fn start(spec: &ChildSpec, cancel: &Shutdown) -> Result<ChildServer, ChildFailure> {
        let program = spec.argv.first().ok_or_else(|| failure("empty command line", Vec::new()))?;
        // A fixed port someone else took since the run began (another run of the same suite): the readiness poll
        // would take that server for this one, and every figure would be its. The previous instance of this target
        // may still be letting go of it for a moment.
        if let Readiness::Url(url) = &spec.readiness {
            let deadline = Instant::now() + PORT_RELEASE;
            while address_in_use(url) {
                if Instant::now() >= deadline {
                    let reason = format!("something else already answers at {url}: its port is taken");
                    return Err(failure(reason, Vec::new()));
                }
                std::thread::sleep(POLL);
            }
        }
        let mut command = Command::new(program);
        command
            .args(&spec.argv[1..])
            .envs(&spec.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.process_group(0);
        die_with_this_process(&mut command);
        if let Some(cwd) = &spec.cwd {
            command.current_dir(cwd);
        }
        pin_command(&mut command, &spec.cores)
            .map_err(|error| failure(format!("cannot pin to {:?}: {error}", spec.cores), Vec::new()))?;
        let mut child =
            command.spawn().map_err(|error| failure(format!("cannot start {program:?}: {error}"), Vec::new()))?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let stderr_reader = child.stderr.take().map(|pipe| keep_tail(pipe, Arc::clone(&stderr)));
        let lines = child.stdout.take().map(forward_lines);
        let mut server = ChildServer { child: Some(child), base_url: String::new(), stderr, stderr_reader };
        match server.wait_ready(spec, lines, cancel) {
            Ok(base_url) => {
                server.base_url = base_url;
                Ok(server)
            }
            Err(reason) => {
                server.kill_group();
                Err(failure(reason, server.final_stderr_tail()))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The last lines the child wrote to stderr.
    pub fn stderr_tail(&self) -> Vec<String> {
        self.stderr.lock().map(|tail| tail.iter().cloned().collect()).unwrap_or_default()
    }

    /// The stderr tail once the child has ended: waits (a bounded time) for the reader to drain the pipe.
    pub fn final_stderr_tail(&mut self) -> Vec<String> {
        if let Some(reader) = self.stderr_reader.take() {
            let deadline = Instant::now() + STDERR_DRAIN;
            while !reader.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
        self.stderr_tail()
    }

    /// The exit status if the child has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|child| child.try_wait().ok().flatten())
    }

    fn wait_ready(
        &mut self,
        spec: &ChildSpec,
        lines: Option<Receiver<String>>,
        cancel: &Shutdown,
    ) -> Result<String, String> {
        let deadline = Instant::now() + spec.ready_timeout;
        loop {
            if cancel.is_cancelled() {
                return Err("cancelled before it was ready".to_owned());
            }
            if let Some(status) = self.exited() {
                return Err(format!("exited ({status}) before it was ready"));
            }
            if Instant::now() >= deadline {
                return Err(format!("not ready after {:?}", spec.ready_timeout));
            }
            match &spec.readiness {
                Readiness::ListeningLine => {
                    let Some(lines) = &lines else { return Err("stdout is not captured".to_owned()) };
                    if let Ok(line) = lines.recv_timeout(POLL) {
                        if let Some(url) = line.strip_prefix("Listening at:") {
                            return Ok(url.trim().to_owned());
                        }
                    }
                }
                Readiness::Url(url) => {
                    if get_status(url, Duration::from_secs(1)).is_some_and(|status| (200..300).contains(&status)) {
                        return Ok(origin(url).unwrap_or_else(|| url.clone()));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// SIGTERM, then SIGKILL to the whole process group after `grace`; leftover group members are killed too.
    pub fn stop(mut self, grace: Duration) -> Stopped {
        let Some(mut child) = self.child.take() else { return Stopped { status: None, graceful: true } };
        let pid = Pid::from_raw(child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        let mut status = None;
        while Instant::now() < deadline {
            if let Ok(Some(exit)) = child.try_wait() {
                status = Some(exit);
                break;
            }
            std::thread::sleep(POLL / 2);
        }
        let graceful = status.is_some();
        if !graceful {
            let _ = killpg(pid, Signal::SIGKILL);
            status = child.wait().ok();
        }
        kill_group_members(pid.as_raw() as u32);
        Stopped { status, graceful }
    }

    fn kill_group(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
            kill_group_members(child.id());
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// The child gets SIGKILL when the driver dies (PR_SET_PDEATHSIG), so a driver killed by SIGKILL, which runs no
/// cleanup, leaves no server behind re-parented to init. The signal follows the death of the thread that spawned
/// the child: the driver starts children from its main thread (or a test's own thread), which lives as long as it
/// uses them. A driver that died before the prctl took effect is caught by the parent check.
fn die_with_this_process(command: &mut Command) {
    let driver = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe calls (prctl,
    // getppid); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            if nix::unistd::getppid() != driver {
                return Err(std::io::Error::other("the driver died before its child started"));
            }
            Ok(())
        });
    }
}

fn failure(reason: impl Into<String>, stderr_tail: Vec<String>) -> ChildFailure {
    ChildFailure { reason: reason.into(), stderr_tail }
}

/// Kills what is left of process group `pgid` after its leader was reaped (workers a master left behind).
fn kill_group_members(pgid: u32) {
    let Ok(entries) = std::fs::read_dir("/proc") else { return };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        if pid == pgid {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let group = stat.rfind(')').and_then(|end| stat[end + 1..].split_whitespace().nth(2)?.parse::<u32>().ok());
        if group == Some(pgid) {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
}

fn keep_tail(pipe: impl Read + Send + 'static, tail: Arc<Mutex<VecDeque<String>>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Ok(mut tail) = tail.lock() {
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
    })
}

/// Reads stdout lines on a thread; lines nobody waits for any more are discarded so the child never blocks.
fn forward_lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(open) = &sender {
                if open.send(line).is_err() {
                    sender = None;
                }
            }
        }
    });
    receiver
}

/// `http://host:port` of a URL.
fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let port = parsed.port_or_known_default()?;
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_owned() };
    Some(format!("http://{host}:{port}"))
}

pub use crate::oneshot::socket_addr;

/// True when something already accepts connections at the URL's address. (A loopback connect completes at once;
/// the timeout is generous because a descheduled thread can see a completed connect as timed out.)
pub fn address_in_use(url: &str) -> bool {
    socket_addr(url).is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
}

/// A one-shot `GET url`; the response's status code, or None on any failure.
pub fn get_status(url: &str, timeout: Duration) -> Option<u16> {
    crate::oneshot::get(url, timeout).ok().map(|answer| answer.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str, readiness: Readiness) -> ChildSpec {
        ChildSpec {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: None,
            env: BTreeMap::new(),
            cores: crate::pinning::online_cores(),
            readiness,
            ready_timeout: Duration::from_secs(20),
        }
    }

    #[test]
    fn ready_at_the_listening_line_and_stopped_by_sigterm() {
        let spec =
            shell("echo noise; echo 'Listening at: http://127.0.0.1:1'; exec sleep 30", Readiness::ListeningLine);
        let server = ChildServer::start(&spec, &Shutdown::new()).unwrap();
        assert_eq!(server.base_url, "http://127.0.0.1:1");
        let stopped = server.stop(Duration::from_secs(10));
        assert!(stopped.graceful, "{stopped:?}");
    }

    #[test]
    fn a_child_that_exits_early_fails_with_its_stderr() {
        let spec = shell("echo 'first' >&2; echo 'address already in use' >&2; exit 3", Readiness::ListeningLine);
        let error = ChildServer::start(&spec, &Shutdown::new()).err().expect("it fails");
        assert!(error.reason.contains("exited"), "{error:?}");
        assert_eq!(error.stderr_tail, ["first", "address already in use"]);
    }

    #[test]
    fn a_child_ignoring_sigterm_is_killed_after_the_grace_period() {
        let spec = shell(
            "trap '' TERM; echo 'Listening at: http://127.0.0.1:1'; while true; do sleep 1; done",
            Readiness::ListeningLine,
        );
        let server = ChildServer::start(&spec, &Shutdown::new()).unwrap();
        let pid = server.pid();
        let stopped = server.stop(Duration::from_millis(300));
        assert!(!stopped.graceful);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn a_ready_url_someone_else_answers_is_not_taken_for_the_child() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/health", taken.local_addr().expect("address"));
        let error = ChildServer::start(&shell("exec sleep 30", Readiness::Url(url)), &Shutdown::new()).err();
        assert!(error.expect("refused").reason.contains("port is taken"));
    }

    #[test]
    fn cancel_stops_waiting() {
        let cancel = Shutdown::new();
        cancel.cancel();
        let error = ChildServer::start(&shell("exec sleep 30", Readiness::ListeningLine), &cancel).err().unwrap();
        assert!(error.reason.contains("cancelled"), "{error:?}");
    }

    #[test]
    fn origins_and_addresses() {
        assert_eq!(origin("http://127.0.0.1:8123/health").as_deref(), Some("http://127.0.0.1:8123"));
        assert_eq!(socket_addr("http://[::1]:9/"), Some("[::1]:9".parse().unwrap()));
    }
}
