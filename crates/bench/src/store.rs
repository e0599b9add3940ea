//! The run folder `results/<run-id>/`: created once the suite is known to be good, every file written atomically
//! (temporary file, fsync, rename), and `results/latest` pointed at the newest run.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use crate::results::write_atomically;
use crate::results::RunResults;

/// The folder of one run.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: PathBuf,
    pub run_id: String,
}

impl Store {
    /// Creates `root/<timestamp>-<suite>` (with a numeric suffix if that exists) and points `root/latest` at it.
    pub fn create(root: &Path, suite_name: &str) -> std::io::Result<Store> {
        std::fs::create_dir_all(root)?;
        let stamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string().replace(':', "");
        let base = format!("{stamp}-{suite_name}");
        for attempt in 1.. {
            let run_id = if attempt == 1 { base.clone() } else { format!("{base}-{attempt}") };
            match std::fs::create_dir(root.join(&run_id)) {
                Ok(()) => {
                    let store = Store { root: root.to_owned(), run_id };
                    store.link_latest()?;
                    return Ok(store);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => continue,
                Err(error) => return Err(error),
            }
        }
        unreachable!("the loop returns")
    }

    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.run_id)
    }

    pub fn results_path(&self) -> PathBuf {
        self.dir().join("results.json")
    }

    /// Writes `bytes` to `name` in the run folder atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        write_atomically(&self.dir().join(name), bytes)
    }

    pub fn write_results(&self, results: &RunResults) -> std::io::Result<()> {
        results.write(&self.results_path())
    }

    /// Replaces `root/latest` with a relative symlink to this run, atomically.
    fn link_latest(&self) -> std::io::Result<()> {
        let temporary = self.root.join(format!(".latest-{}", std::process::id()));
        let _ = std::fs::remove_file(&temporary);
        std::os::unix::fs::symlink(&self.run_id, &temporary)?;
        std::fs::rename(&temporary, self.root.join("latest"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_distinct_runs_and_points_latest_at_the_newest() {
        let root = std::env::temp_dir().join(format!("bench-store-test-{}", std::process::id()));
        let first = Store::create(&root, "tiny").unwrap();
        let second = Store::create(&root, "tiny").unwrap();
        assert_ne!(first.run_id, second.run_id);
        assert_eq!(std::fs::read_link(root.join("latest")).unwrap(), Path::new(&second.run_id));
        second.write("a.txt", b"one").unwrap();
        second.write("a.txt", b"two").unwrap();
        assert_eq!(std::fs::read(root.join("latest/a.txt")).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(second.dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&root).ok();
    }
}
