//! [`write_atomically`]: how every file of a run folder is written (results.json, findings.json, the report), so a
//! reader sees the old file or the new one, never half of one.

use std::io::Write;
use std::path::Path;

/// Temporary sibling, fsync, rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)
}
