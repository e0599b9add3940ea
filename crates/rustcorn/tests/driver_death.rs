//! A `rustcorn bench run` killed by SIGKILL (no cleanup runs) leaves no server behind: the upstream, the target and
//! the target's own workers all die with it instead of being re-parented to init. "heavy": it runs a load phase.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use support::Process;

/// Long enough that the run is certainly mid-phase when it is killed.
const SUITE: &str = r#"
[[targets]]
name = "prefork"
serve = "prefork -w 2 -k async"

[[phases]]
name = "long"
load = "concurrency"
connections = 2
duration = "120s"
tasks = [{ path = "/health" }]
"#;

/// Generous: two cores run the build, the tests and these servers at once.
const WITHIN: Duration = Duration::from_secs(60);

/// The parent pid and state letter of a live process, from /proc/PID/stat.
fn stat(pid: u32) -> Option<(u32, char)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = text.get(text.rfind(')')? + 2..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((parent, state))
}

/// Every process whose chain of parents reaches `root`.
fn descendants(root: u32) -> BTreeSet<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|pid| Some((pid, stat(pid)?.0)))
                .collect()
        })
        .unwrap_or_default();
    let mut found = BTreeSet::from([root]);
    loop {
        let before = found.len();
        for (pid, parent) in &parents {
            if found.contains(parent) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&root);
    found
}

/// Alive and not a zombie waiting for a reaper.
fn is_running(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, state)| state != 'Z' && state != 'X')
}

#[test]
fn heavy_children_of_a_killed_driver_die_with_it() {
    let dir = std::env::temp_dir().join(format!("rustcorn-driver-death-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the test folder");
    let suite = dir.join("suite.toml");
    std::fs::write(&suite, SUITE).expect("write the suite");
    let results = dir.join("results");
    let mut driver =
        Process::spawn(&["bench", "run", suite.to_str().unwrap(), "--results-dir", results.to_str().unwrap()]);

    // The upstream, the prefork master and its two workers.
    let deadline = Instant::now() + WITHIN;
    let children = loop {
        let found = descendants(driver.pid());
        if found.len() >= 4 {
            break found;
        }
        assert!(Instant::now() < deadline, "only {found:?} started; stderr:\n{}", driver.stderr());
        std::thread::sleep(Duration::from_millis(100));
    };

    driver.signal(libc::SIGKILL);
    driver.wait_exit(WITHIN).expect("the driver is dead");
    let deadline = Instant::now() + WITHIN;
    loop {
        let survivors: Vec<u32> = children.iter().copied().filter(|pid| is_running(*pid)).collect();
        if survivors.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for pid in &survivors {
                // SAFETY: kill(2) has no memory effects; clean up before failing.
                unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
            }
            panic!("children {survivors:?} of {children:?} outlived the killed driver");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(&dir).ok();
}
