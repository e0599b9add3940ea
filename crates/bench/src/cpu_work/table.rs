//! [`CpuWorkTable`]: the `?iterations=` counts the `cpu_work` calibration found, which every phase looks its tasks
//! up in, and [`with_iterations`], how a count is sent.

use std::time::Duration;

use crate::results::CpuWork;
use crate::suite::TaskSpec;

/// The counts found, by target name, endpoint and cost; the phases look their tasks up here.
#[derive(Debug, Default)]
pub struct CpuWorkTable {
    entries: Vec<(String, String, Duration, CpuWork)>,
}

impl CpuWorkTable {
    /// What `task` (which has a `cpu_work`) sends to `target`.
    pub fn get(&self, target: &str, task: &TaskSpec) -> Option<&CpuWork> {
        let cost = task.cpu_work?;
        self.entries
            .iter()
            .find(|(name, path, each, _)| name == target && *path == task.path_and_query && *each == cost)
            .map(|(_, _, _, work)| work)
    }

    /// Records the count found for `target`'s `path_and_query` at `cost`.
    pub(super) fn insert(&mut self, target: String, path_and_query: String, cost: Duration, work: CpuWork) {
        self.entries.push((target, path_and_query, cost, work));
    }
}

/// `path_and_query` with `iterations=COUNT` added to its query.
pub fn with_iterations(path_and_query: &str, count: u64) -> String {
    let separator = if path_and_query.contains('?') { '&' } else { '?' };
    format!("{path_and_query}{separator}iterations={count}")
}
