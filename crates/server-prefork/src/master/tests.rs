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
    // The test harness runs tests on threads of its own, so there is at least this one.
    assert!(thread_count() >= 1);
}
