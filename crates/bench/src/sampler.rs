//! Samples a target's whole process tree from /proc every 100 ms (CPU user/system, RSS, PSS from smaps_rollup,
//! threads, processes) on a thread of its own, and summarises the measured part of a phase.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::results::{ResourceSample, ResourceSummary, Resources};

pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

/// A snapshot of the process tree and when it was taken. The snapshot is the sample results.json keeps; its `t_ms`
/// stays 0 until [`resources`] places it relative to the measured start. Its `pss_bytes` is None when some
/// process's smaps_rollup could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedUsage {
    pub unix_ms: u64,
    pub usage: ResourceSample,
}

/// A running sampling thread; [`Sampler::finish`] stops it and returns what it saw.
pub struct Sampler {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<Vec<TimedUsage>>,
}

impl Sampler {
    /// Starts sampling the tree rooted at `root` every `interval`.
    pub fn start(root: u32, interval: Duration) -> std::io::Result<Sampler> {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new().name("sampler".into()).spawn(move || {
            let clock = Clock::new();
            let mut samples = Vec::new();
            loop {
                if let Some(usage) = tree_usage(root, &clock) {
                    samples.push(TimedUsage { unix_ms: unix_ms(), usage });
                }
                match stopped.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                        // A last sample at the stop, so that the samples bracket the measured window even when this
                        // thread got little CPU during it.
                        if let Some(usage) = tree_usage(root, &clock) {
                            samples.push(TimedUsage { unix_ms: unix_ms(), usage });
                        }
                        return samples;
                    }
                }
            }
        })?;
        Ok(Sampler { stop, handle })
    }

    pub fn finish(self) -> Vec<TimedUsage> {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}

pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Kernel units: clock ticks per second and page size.
struct Clock {
    ticks_per_second: f64,
    page_bytes: u64,
}

impl Clock {
    fn new() -> Clock {
        use nix::unistd::{sysconf, SysconfVar};
        let ticks = sysconf(SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100);
        let page = sysconf(SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096);
        Clock { ticks_per_second: ticks as f64, page_bytes: page as u64 }
    }
}

/// The fields of /proc/PID/stat that matter here.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ProcStat {
    ppid: u32,
    /// utime + cutime (reaped children's time is added to the parent when it waits for them).
    user_ticks: u64,
    system_ticks: u64,
    threads: u32,
    rss_pages: u64,
}

/// Parses /proc/PID/stat; the command name may hold spaces and parentheses, so fields count from the last ')'.
fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field N is at index N - 3.
    let field = |n: usize| fields.get(n - 3).and_then(|value| value.parse::<u64>().ok());
    Some(ProcStat {
        ppid: field(4)? as u32,
        user_ticks: field(14)? + field(16)?,
        system_ticks: field(15)? + field(17)?,
        threads: field(20)? as u32,
        rss_pages: field(24)?,
    })
}

fn read_stat(pid: u32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Pss in bytes from /proc/PID/smaps_rollup.
fn read_pss(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    parse_pss_kib(&text).map(|kib| kib * 1024)
}

fn parse_pss_kib(smaps_rollup: &str) -> Option<u64> {
    let line = smaps_rollup.lines().find(|line| line.starts_with("Pss:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Every process whose ancestry leads to `root`, `root` included; empty when `root` is gone.
fn process_tree(root: u32) -> Vec<(u32, ProcStat)> {
    let mut stats: HashMap<u32, ProcStat> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        if let Some(stat) = read_stat(pid) {
            stats.insert(pid, stat);
        }
    }
    if !stats.contains_key(&root) {
        return Vec::new();
    }
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, stat) in &stats {
        children.entry(stat.ppid).or_default().push(pid);
    }
    let mut tree = Vec::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        if let Some(stat) = stats.get(&pid) {
            tree.push((pid, *stat));
        }
        if let Some(kids) = children.get(&pid) {
            pending.extend(kids.iter().copied().filter(|&kid| kid != pid));
        }
    }
    tree
}

/// The direct children of `pid` (empty when it has none or is gone).
pub fn children(pid: u32) -> Vec<u32> {
    process_tree(pid).into_iter().filter(|(_, stat)| stat.ppid == pid).map(|(child, _)| child).collect()
}

/// The processes of the tree rooted at `root` that hold a listening TCP socket, in pid order: the ones that can
/// accept the load's connections (a prefork master, its workers, a single-process server), not a helper such as
/// Python's multiprocessing resource tracker, which holds none.
pub fn listening_processes(root: u32) -> Vec<u32> {
    let listening = listening_inodes();
    let mut pids: Vec<u32> = process_tree(root)
        .into_iter()
        .map(|(pid, _)| pid)
        .filter(|&pid| socket_inodes(pid).iter().any(|inode| listening.contains(inode)))
        .collect();
    pids.sort_unstable();
    pids
}

/// Inodes of the TCP sockets in LISTEN state, IPv4 and IPv6, in this network namespace.
fn listening_inodes() -> HashSet<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| parse_listening(&table))
        .collect()
}

/// The inodes of the LISTEN (state 0A) rows of a /proc/net/tcp table.
fn parse_listening(table: &str) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|row| {
            let fields: Vec<&str> = row.split_whitespace().collect();
            (fields.get(3) == Some(&"0A")).then(|| fields.get(9)?.parse().ok()).flatten()
        })
        .collect()
}

/// The inodes of the sockets among a process's open files (`socket:[INODE]` links in /proc/PID/fd).
fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .filter_map(|link| link.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
        .collect()
}

fn tree_usage(root: u32, clock: &Clock) -> Option<ResourceSample> {
    let tree = process_tree(root);
    if tree.is_empty() {
        return None;
    }
    let mut usage = ResourceSample { pss_bytes: Some(0), ..ResourceSample::default() };
    for (pid, stat) in &tree {
        usage.cpu_user_s += stat.user_ticks as f64 / clock.ticks_per_second;
        usage.cpu_system_s += stat.system_ticks as f64 / clock.ticks_per_second;
        usage.rss_bytes += stat.rss_pages * clock.page_bytes;
        usage.threads += stat.threads;
        usage.processes += 1;
        usage.pss_bytes = usage.pss_bytes.zip(read_pss(*pid)).map(|(sum, pss)| sum + pss);
    }
    Some(usage)
}

/// Samples as results.json keeps them (time relative to the measured start) and the summary of the measured
/// window `[measured_start_ms, measured_start_ms + measured_ms]`, read between the last sample at or before its
/// start and the first at or after its end. Bracketing, not only the samples inside, because a sampler starved of
/// CPU on a loaded machine can leave one sample or none inside a short window: CPU over one sample read 0 cores.
pub fn resources(samples: &[TimedUsage], measured_start_unix_ms: u64, measured_ms: u64) -> Resources {
    let recorded: Vec<ResourceSample> = samples
        .iter()
        .map(|sample| ResourceSample {
            t_ms: sample.unix_ms as i64 - measured_start_unix_ms as i64,
            ..sample.usage.clone()
        })
        .collect();
    let window = bracketing(samples, measured_start_unix_ms, measured_start_unix_ms + measured_ms);
    Resources { samples: recorded, summary: summarize(&window) }
}

/// The samples from the last one at or before `start` to the first one at or after `end` (time-ordered input); the
/// ends of the run where no sample lies beyond the window.
fn bracketing(samples: &[TimedUsage], start: u64, end: u64) -> Vec<&TimedUsage> {
    let first = samples.iter().rposition(|sample| sample.unix_ms <= start).unwrap_or(0);
    let last = samples.iter().position(|sample| sample.unix_ms >= end).unwrap_or(samples.len().saturating_sub(1));
    samples.get(first..=last).map(|window| window.iter().collect()).unwrap_or_default()
}

fn summarize(window: &[&TimedUsage]) -> ResourceSummary {
    let (Some(first), Some(last)) = (window.first(), window.last()) else { return ResourceSummary::default() };
    let user = (last.usage.cpu_user_s - first.usage.cpu_user_s).max(0.0);
    let system = (last.usage.cpu_system_s - first.usage.cpu_system_s).max(0.0);
    let wall_s = last.unix_ms.saturating_sub(first.unix_ms) as f64 / 1000.0;
    ResourceSummary {
        cpu_cores_avg: if wall_s > 0.0 { (user + system) / wall_s } else { 0.0 },
        cpu_user_s: user,
        cpu_system_s: system,
        rss_peak_bytes: window.iter().map(|sample| sample.usage.rss_bytes).max().unwrap_or(0),
        pss_peak_bytes: window
            .iter()
            .map(|sample| sample.usage.pss_bytes)
            .collect::<Option<Vec<u64>>>()
            .and_then(|all| all.into_iter().max()),
        threads_peak: window.iter().map(|sample| sample.usage.threads).max().unwrap_or(0),
        processes_peak: window.iter().map(|sample| sample.usage.processes).max().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_hostile_command_name() {
        let text = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 5 0 1234 1000000 300 \
                    18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
        let stat = parse_stat(text).unwrap();
        assert_eq!(stat, ProcStat { ppid: 1, user_ticks: 257, system_ticks: 53, threads: 5, rss_pages: 300 });
    }

    #[test]
    fn parses_pss() {
        let text = "55d0-7ff [rollup]\nRss:                2000 kB\nPss:                1234 kB\nPss_Anon: 3 kB\n";
        assert_eq!(parse_pss_kib(text), Some(1234));
    }

    #[test]
    fn samples_this_process_tree_with_a_child() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().expect("start sleep");
        let tree = process_tree(std::process::id());
        assert!(tree.iter().any(|(pid, _)| *pid == child.id()), "the child is in the tree");
        let usage = tree_usage(std::process::id(), &Clock::new()).unwrap();
        assert!(usage.processes >= 2 && usage.threads >= 2 && usage.rss_bytes > 0, "{usage:?}");
        child.kill().ok();
        child.wait().ok();
    }

    #[test]
    fn finds_the_processes_that_listen_and_not_the_others() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().expect("start sleep");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let found = listening_processes(std::process::id());
        assert!(found.contains(&std::process::id()), "{found:?}");
        assert!(!found.contains(&child.id()), "sleep holds no socket: {found:?}");
        drop(listener);
        child.kill().ok();
        child.wait().ok();
    }

    #[test]
    fn parses_the_listening_rows_of_a_tcp_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
                     0: 0100007F:4E20 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4242 1 0 100 0 0 10 0\n\
                     1: 0100007F:4E20 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 0 0 4343 1 0 20 4 30 10 -1\n";
        assert_eq!(parse_listening(table), [4242]);
    }

    #[test]
    fn summary_covers_the_measured_window() {
        let at = |unix_ms, cpu| TimedUsage {
            unix_ms,
            usage: ResourceSample {
                cpu_user_s: cpu,
                rss_bytes: unix_ms,
                pss_bytes: Some(1),
                threads: 1,
                processes: 1,
                ..ResourceSample::default()
            },
        };
        // Warm-up sample at 900, measured window 1000..3000: 2 CPU seconds in 2 wall seconds = 1 core.
        let samples = [at(900, 0.0), at(1000, 0.5), at(2000, 1.5), at(3000, 2.5), at(3100, 9.0)];
        let resources = resources(&samples, 1000, 2000);
        assert_eq!(resources.samples.len(), 5);
        assert_eq!(resources.samples[0].t_ms, -100);
        assert!((resources.summary.cpu_cores_avg - 1.0).abs() < 1e-9, "{:?}", resources.summary);
        assert_eq!(resources.summary.rss_peak_bytes, 3000);
        assert_eq!(resources.summary.pss_peak_bytes, Some(1));
    }

    /// A sampler starved during the window left one sample inside it: the figure comes from the samples either side
    /// (1 core over 900..3100), where the samples inside alone gave 0 cores.
    #[test]
    fn a_window_with_one_sample_inside_is_read_between_the_samples_around_it() {
        let at = |unix_ms, cpu| TimedUsage {
            unix_ms,
            usage: ResourceSample { cpu_user_s: cpu, processes: 1, ..ResourceSample::default() },
        };
        let samples = [at(500, 0.0), at(900, 0.4), at(2000, 1.5), at(3100, 2.6), at(3300, 2.8)];
        let summary = resources(&samples, 1000, 2000).summary;
        assert!((summary.cpu_cores_avg - 1.0).abs() < 1e-9, "{summary:?}");
        let alone = resources(&samples[2..3], 1000, 2000).summary;
        assert_eq!(alone.cpu_cores_avg, 0.0, "one sample in all gives no interval to measure over");
    }
}
