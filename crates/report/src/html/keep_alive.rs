//! What a built-in sync-model target (`serve sync`, `serve prefork -k sync`) did with kept-alive connections, read
//! from its command line with the server's defaults, for the methodology's targets table.

use results::{TargetKind, TargetResult};

/// `--max-keepalive-requests` when the command does not set it: server_sync's default, Apache's
/// MaxKeepAliveRequests (the report reads results, it does not depend on the servers).
const DEFAULT_MAX_KEEPALIVE_REQUESTS: u64 = 100;

/// The keep-alive policy of a sync-model target, e.g. "keep-alive: at most 100 requests per connection (Apache's
/// MaxKeepAliveRequests)"; None for the other models.
pub fn keep_alive_text(target: &TargetResult) -> Option<String> {
    if !runs_the_sync_model(target) {
        return None;
    }
    let command = &target.command;
    if command.iter().any(|word| word == "--no-keepalive") {
        return Some("no keep-alive: each connection closes after its response (gunicorn's sync worker)".to_owned());
    }
    let bound = flag_value(command, "--max-keepalive-requests")
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(DEFAULT_MAX_KEEPALIVE_REQUESTS);
    Some(match bound {
        0 => "keep-alive: no bound on the requests per connection (--max-keepalive-requests 0): a client that keeps \
              sending holds its thread for good"
            .to_owned(),
        bound => format!(
            "keep-alive: at most {bound} requests per connection (Apache's MaxKeepAliveRequests), the last answered \
             with Connection: close"
        ),
    })
}

fn runs_the_sync_model(target: &TargetResult) -> bool {
    match target.kind {
        TargetKind::Sync => true,
        TargetKind::Prefork => {
            let class = flag_value(&target.command, "-k").or_else(|| flag_value(&target.command, "--worker-class"));
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

    fn target(kind: TargetKind, command: &str) -> TargetResult {
        TargetResult {
            name: "t".to_owned(),
            family: results::Family::Rust,
            kind,
            command: command.split_whitespace().map(str::to_owned).collect(),
            workers: Some(1),
            threads: Some(1),
            status: results::TargetStatus::Ok,
            phases: Vec::new(),
            variant_of: None,
            role: None,
        }
    }

    #[test]
    fn a_sync_target_states_the_default_bound_unless_its_command_sets_one() {
        let default = keep_alive_text(&target(TargetKind::Sync, "rustcorn serve sync --max-threads 64"));
        let expected = "keep-alive: at most 100 requests per connection (Apache's MaxKeepAliveRequests)";
        assert!(default.as_deref().is_some_and(|text| text.starts_with(expected)), "{default:?}");
        let set = keep_alive_text(&target(TargetKind::Sync, "rustcorn serve sync --max-keepalive-requests=7"));
        assert!(set.as_deref().is_some_and(|text| text.contains("at most 7 requests")), "{set:?}");
        let unbounded = keep_alive_text(&target(TargetKind::Sync, "rustcorn serve sync --max-keepalive-requests 0"));
        assert!(unbounded.as_deref().is_some_and(|text| text.contains("no bound")), "{unbounded:?}");
    }

    #[test]
    fn prefork_sync_workers_have_it_and_other_models_do_not() {
        let gunicorn_exact = target(TargetKind::Prefork, "rustcorn serve prefork -w 2 --max-threads 1 --no-keepalive");
        assert!(keep_alive_text(&gunicorn_exact).is_some_and(|text| text.starts_with("no keep-alive")));
        assert!(keep_alive_text(&target(TargetKind::Prefork, "rustcorn serve prefork -k sync")).is_some());
        assert_eq!(keep_alive_text(&target(TargetKind::Prefork, "rustcorn serve prefork -k async")), None);
        assert_eq!(keep_alive_text(&target(TargetKind::Async, "rustcorn serve async")), None);
        assert_eq!(keep_alive_text(&target(TargetKind::External, "gunicorn app:app")), None);
    }
}
