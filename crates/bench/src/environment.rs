//! What results.json says about the machine and the software: CPU model, cores, kernel, rustc, versions, git.

use std::path::Path;
use std::process::Command;

use crate::results::Environment;

/// Describes this machine; `cores` are the CPUs the run may use. Git facts come from `workdir` when it is a
/// checkout. Never fails: an unknown fact reads "unknown" (or None for git).
pub fn collect(cores: u32, workdir: &Path) -> Environment {
    let uname = nix::sys::utsname::uname().ok();
    let kernel = match &uname {
        Some(uname) => format!("{} {}", uname.sysname().to_string_lossy(), uname.release().to_string_lossy()),
        None => "unknown".to_owned(),
    };
    Environment {
        cpu_model: cpu_model().unwrap_or_else(|| "unknown".to_owned()),
        cores,
        kernel,
        rustc: env!("BENCH_RUSTC_VERSION").to_owned(),
        crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        git_commit: git(workdir, &["rev-parse", "HEAD"]),
        git_dirty: git(workdir, &["status", "--porcelain", "--untracked-files=no"]).map(|out| !out.is_empty()),
        hostname: loadgen::agent::hostname(),
    }
}

fn cpu_model() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo.lines().find_map(|line| {
        line.strip_prefix("model name").and_then(|rest| rest.split_once(':')).map(|(_, v)| v.trim().to_owned())
    })
}

/// `git ARGS` in `workdir`, trimmed stdout; None when git is missing or it is not a checkout.
fn git(workdir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(workdir).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_this_machine() {
        let environment = collect(2, Path::new(env!("CARGO_MANIFEST_DIR")));
        assert!(environment.kernel.starts_with("Linux "), "{}", environment.kernel);
        assert!(environment.rustc.starts_with("rustc "), "{}", environment.rustc);
        assert_eq!(environment.crate_version, env!("CARGO_PKG_VERSION"));
        assert_ne!(environment.hostname, "unknown");
    }
}
