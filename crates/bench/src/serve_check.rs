//! Checks a suite's `serve` lines before anything starts: each built-in target's flags go through
//! `rustcorn serve MODEL FLAGS --check`, the very clap definitions `rustcorn serve` parses, so a flag that would
//! stop the target is a located suite error (exit 2) rather than a target that fails mid-run.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::suite::{Launch, Suite, SuiteError, TargetSpec};

/// Runs the check for every built-in target of `suite`; the first refusal names the suite line and the flag.
pub fn check_serve_flags(suite: &Suite, rustcorn: &Path) -> Result<(), SuiteError> {
    for target in &suite.targets {
        let Launch::BuiltIn { model, flags } = &target.launch else { continue };
        if let Err(message) = check_one(rustcorn, model, flags) {
            return Err(refusal(suite, target, message));
        }
    }
    Ok(())
}

/// `Err` with rustcorn's one-line error when it refuses the flags.
fn check_one(rustcorn: &Path, model: &str, flags: &[String]) -> Result<(), String> {
    let output = Command::new(rustcorn)
        .arg("serve")
        .arg(model)
        .args(flags)
        .args(["--bind", "127.0.0.1:0", "--check"])
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {} to check the flags: {error}", rustcorn.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().find(|line| !line.trim().is_empty()).unwrap_or("refused, with no message");
    Err(line.trim_start_matches("rustcorn: error: ").to_owned())
}

fn refusal(suite: &Suite, target: &TargetSpec, message: String) -> SuiteError {
    let location = target.serve_at.clone().unwrap_or_else(|| crate::suite::Location::at(&suite.path, "", 0));
    SuiteError::Invalid {
        location,
        field: Some("serve".to_owned()),
        message: format!("target {:?}: `rustcorn serve` refuses these flags: {message}", target.name),
    }
}
