//! What a built-in sync-model target (`serve sync`, `serve prefork -k sync`) did with kept-alive connections: the
//! driver reads it from the command it started the target with, with the server's default, and records it in
//! results.json, so that a report drawn from a file written before the bound existed does not claim one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::TargetKind;

/// `--max-keepalive-requests` when the command does not set it: server_sync's default, Apache's
/// MaxKeepAliveRequests (results depend on no server crate).
pub const DEFAULT_MAX_KEEPALIVE_REQUESTS: u64 = 100;

/// A sync-model target's keep-alive policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum KeepAlive {
    /// `--no-keepalive`: each connection closes after its response (gunicorn's sync worker).
    Off,
    /// At most `requests` per connection, the last answered with `Connection: close`.
    Bounded { requests: u64 },
    /// `--max-keepalive-requests 0`: a client that keeps sending holds its thread for good.
    Unbounded,
}

impl KeepAlive {
    /// The policy of a target of `kind` started with `command`; None for a model other than sync.
    pub fn of_sync_target(kind: TargetKind, command: &[String]) -> Option<KeepAlive> {
        if !runs_the_sync_model(kind, command) {
            return None;
        }
        if command.iter().any(|word| word == "--no-keepalive") {
            return Some(KeepAlive::Off);
        }
        let bound = flag_value(command, "--max-keepalive-requests")
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or(DEFAULT_MAX_KEEPALIVE_REQUESTS);
        Some(if bound == 0 { KeepAlive::Unbounded } else { KeepAlive::Bounded { requests: bound } })
    }
}

fn runs_the_sync_model(kind: TargetKind, command: &[String]) -> bool {
    match kind {
        TargetKind::Sync => true,
        TargetKind::Prefork => {
            let class = flag_value(command, "-k").or_else(|| flag_value(command, "--worker-class"));
            class.is_none_or(|class| class == "sync")
        }
        TargetKind::Async | TargetKind::External => false,
    }
}

/// The value of the last `FLAG VALUE` or `FLAG=VALUE` in `command`.
fn flag_value<'a>(command: &'a [String], flag: &str) -> Option<&'a str> {
    let mut found = None;
    for (index, word) in command.iter().enumerate() {
        if word == flag {
            found = command.get(index + 1).map(String::as_str);
        } else if let Some(value) = word.strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')) {
            found = Some(value);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(kind: TargetKind, command: &str) -> Option<KeepAlive> {
        KeepAlive::of_sync_target(kind, &command.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn a_sync_target_has_the_default_bound_unless_its_command_sets_one() {
        let bounded = |requests| Some(KeepAlive::Bounded { requests });
        assert_eq!(of(TargetKind::Sync, "rustcorn serve sync --max-threads 64"), bounded(100));
        assert_eq!(of(TargetKind::Sync, "rustcorn serve sync --max-keepalive-requests=7"), bounded(7));
        assert_eq!(of(TargetKind::Sync, "rustcorn serve sync --max-keepalive-requests 0"), Some(KeepAlive::Unbounded));
    }

    #[test]
    fn prefork_sync_workers_have_one_and_other_models_none() {
        let gunicorn_exact = "rustcorn serve prefork -w 2 --max-threads 1 --no-keepalive";
        assert_eq!(of(TargetKind::Prefork, gunicorn_exact), Some(KeepAlive::Off));
        assert_eq!(
            of(TargetKind::Prefork, "rustcorn serve prefork -k sync"),
            Some(KeepAlive::Bounded { requests: 100 })
        );
        assert_eq!(of(TargetKind::Prefork, "rustcorn serve prefork -k async"), None);
        assert_eq!(of(TargetKind::Async, "rustcorn serve async"), None);
        assert_eq!(of(TargetKind::External, "gunicorn app:app"), None);
    }
}
