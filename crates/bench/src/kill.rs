//! A phase's `kill_worker_at`: the driver SIGKILLs one process of the target in the middle of the measured part,
//! to show what the rest of the server does meanwhile. Which process that is, the kill, and what is recorded.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::sampler;

/// A process the driver killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Killed {
    pub pid: u32,
    /// Milliseconds since the Unix epoch, to place the kill on the load generator's timeline.
    pub unix_ms: u64,
    /// The target's only process: it had no worker processes (a single-process server).
    pub whole_server: bool,
}

/// The process that stands for "one worker" of the server rooted at `root`: its oldest child that holds a listening
/// socket (the first worker a prefork or gunicorn master started, pids being handed out in order; not the resource
/// tracker that `uvicorn --workers` and hypercorn start first), else its oldest child, or `root` itself when it has
/// no child.
pub fn victim(root: u32) -> (u32, bool) {
    let children = sampler::children(root);
    let listening = sampler::listening_processes(root);
    let worker = children.iter().filter(|child| listening.contains(child)).min().or_else(|| children.iter().min());
    match worker {
        Some(&worker) => (worker, false),
        None => (root, true),
    }
}

/// SIGKILLs one worker of the server rooted at `root` (see [`victim`]).
pub fn kill_one_worker(root: u32) -> Result<Killed, String> {
    let (pid, whole_server) = victim(root);
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).map_err(|error| format!("cannot SIGKILL pid {pid}: {error}"))?;
    Ok(Killed { pid, unix_ms: sampler::unix_ms(), whole_server })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_with_children_loses_its_oldest_child_and_one_without_loses_itself() {
        let mut parent = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .spawn()
            .expect("start a shell with two children");
        let root = parent.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while sampler::children(root).len() < 2 {
            assert!(std::time::Instant::now() < deadline, "the shell's children did not start");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let oldest = sampler::children(root).into_iter().min().expect("a child");
        let killed = kill_one_worker(root).expect("kill");
        assert_eq!((killed.pid, killed.whole_server), (oldest, false));
        while sampler::children(root).contains(&oldest) {
            assert!(std::time::Instant::now() < deadline, "the killed child is still there");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(sampler::children(root).len(), 1, "the other child serves on");
        for child in sampler::children(root) {
            assert_eq!(victim(child), (child, true), "a childless process is its own victim");
        }
        let survivors = sampler::children(root);
        parent.kill().ok();
        parent.wait().ok();
        for child in survivors {
            let _ = kill(Pid::from_raw(child as i32), Signal::SIGKILL);
        }
    }
}
