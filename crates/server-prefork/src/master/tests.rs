//! Unit tests of the master's pure decisions: exit wording, boot failures, the thread count.

use super::*;

#[test]
fn exits_are_worded_like_gunicorn() {
    let pid = Pid::from_raw(42);
    assert_eq!(describe_exit(WaitStatus::Exited(pid, 3)), "exited with 3");
    assert_eq!(describe_exit(WaitStatus::Signaled(pid, Signal::SIGKILL, false)), "killed by SIGKILL");
}

#[test]
fn boot_failures_are_deaths_before_ready_or_early_error_exits() {
    let pid = Pid::from_raw(42);
    let killed = WaitStatus::Signaled(pid, Signal::SIGKILL, false);
    let error = WaitStatus::Exited(pid, 1);
    let clean = WaitStatus::Exited(pid, 0);
    let early = Duration::from_millis(10);
    assert!(failed_to_boot(false, killed, early), "died before it was ready");
    assert!(failed_to_boot(false, clean, BOOT_GRACE * 2), "never became ready");
    assert!(failed_to_boot(true, error, early), "its server failed at once");
    assert!(!failed_to_boot(true, killed, early), "a ready worker killed from outside did boot");
    assert!(!failed_to_boot(true, error, BOOT_GRACE * 2), "it served a while before failing");
    assert!(!failed_to_boot(true, clean, early));
}

#[test]
fn thread_count_reads_proc() {
    // Two threads held alive while the count is read: with this test's own thread, at least three, which the
    // fallback of 1 (an unreadable /proc) cannot give.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let held = std::sync::Arc::new(std::sync::Mutex::new(held));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let held = std::sync::Arc::clone(&held);
            std::thread::spawn(move || {
                let _ = held.lock().map(|held| held.recv_timeout(Duration::from_secs(60)));
            })
        })
        .collect();
    let counted = thread_count();
    drop(release);
    for thread in threads {
        thread.join().expect("a held thread returns");
    }
    assert!(counted >= 3, "read {counted} threads while this one and two others were alive");
}
