//! Requests served per worker, accumulated by the master from the scoreboard as it reaps each worker process, and
//! written as JSON (`--stats FILE`) for the report's distribution chart.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// What the master knows when it stops: requests per worker index (summed over every process that held the index:
/// respawns, max-requests recycles, SIGHUP replacements) and per process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkerStats {
    pub total_requests: u64,
    /// One entry per worker index ever used, in index order.
    pub workers: Vec<IndexStats>,
    /// One entry per worker process, in the order they ended.
    pub processes: Vec<ProcessStats>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    pub index: usize,
    pub requests: u64,
    /// How many processes held this index over the master's life.
    pub processes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessStats {
    pub pid: i32,
    pub index: usize,
    pub requests: u64,
    /// How it ended, e.g. "exited with 0" or "killed by SIGKILL".
    pub exit: String,
}

impl WorkerStats {
    /// Records one reaped worker process.
    pub fn record(&mut self, process: ProcessStats) {
        if self.workers.len() <= process.index {
            let start = self.workers.len();
            self.workers.extend((start..=process.index).map(|index| IndexStats { index, requests: 0, processes: 0 }));
        }
        let entry = &mut self.workers[process.index];
        entry.requests += process.requests;
        entry.processes += 1;
        self.total_requests += process.requests;
        self.processes.push(process);
    }

    /// Requests per worker index, for a log line.
    pub fn per_index(&self) -> Vec<u64> {
        self.workers.iter().map(|entry| entry.requests).collect()
    }

    /// Writes the JSON to `path` atomically (a sibling temporary file renamed over it).
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = std::path::PathBuf::from(temporary);
        let mut file = std::fs::File::create(&temporary)?;
        serde_json::to_writer_pretty(&mut file, self)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: i32, index: usize, requests: u64) -> ProcessStats {
        ProcessStats { pid, index, requests, exit: "exited with 0".into() }
    }

    #[test]
    fn requests_accumulate_per_index_over_processes() {
        let mut stats = WorkerStats::default();
        stats.record(process(10, 0, 5));
        stats.record(process(11, 2, 7));
        stats.record(process(12, 0, 3));
        assert_eq!(stats.per_index(), vec![8, 0, 7]);
        assert_eq!(stats.total_requests, 15);
        assert_eq!(stats.workers[0].processes, 2);
        assert_eq!(stats.processes.len(), 3);
    }

    #[test]
    fn json_round_trips_through_a_file() {
        let directory = std::env::temp_dir().join(format!("prefork-stats-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("stats.json");
        let mut stats = WorkerStats::default();
        stats.record(process(10, 1, 4));
        stats.write_json(&path).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(value["total_requests"], 4);
        assert_eq!(value["workers"][1]["requests"], 4);
        assert_eq!(value["processes"][0]["pid"], 10);
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
