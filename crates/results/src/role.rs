//! A target's role in the article's claims: uvicorn alone, gunicorn with UvicornWorker, or gunicorn's sync workers.
//! Declared in a suite (`role = "uvicorn"`) or recognised from an external command line; the report judges the
//! claims only on targets with a role, so an unknown server is compared but never mistaken for uvicorn.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// One process, one event loop (uvicorn alone; rustcorn async --threads 1).
    #[serde(alias = "uvicorn")]
    SingleLoop,
    /// A master and several event-loop workers (gunicorn -k UvicornWorker; rustcorn prefork -k async).
    #[serde(alias = "gunicorn-uvicorn-worker")]
    PreforkAsync,
    /// A master and workers serving one request at a time (gunicorn sync workers; prefork -k sync --max-threads 1).
    #[serde(alias = "gunicorn-sync")]
    SyncWorkers,
}

/// The words a suite may write for each role, as the suite README lists them.
pub const ROLE_WORDS: &str = "\"uvicorn\" (or \"single_loop\"), \"gunicorn-uvicorn-worker\" (or \"prefork_async\"), \
                              \"gunicorn-sync\" (or \"sync_workers\")";

impl Role {
    /// Recognises the article's Python servers by their command line.
    pub fn recognise(command: &str) -> Option<Role> {
        if command.contains("gunicorn") {
            if command.contains("UvicornWorker") {
                Some(Role::PreforkAsync)
            } else if !command.contains(" -k ") && !command.contains("--worker-class") {
                Some(Role::SyncWorkers)
            } else {
                None
            }
        } else if command.contains("uvicorn") && !command.contains("--workers") {
            Some(Role::SingleLoop)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_articles_servers_by_their_command_line() {
        assert_eq!(Role::recognise("sh -c exec uvicorn main:app --no-access-log"), Some(Role::SingleLoop));
        assert_eq!(
            Role::recognise("gunicorn -w 4 -k uvicorn.workers.UvicornWorker main:app"),
            Some(Role::PreforkAsync)
        );
        assert_eq!(Role::recognise("gunicorn -w 2 --no-control-socket main_wsgi:app"), Some(Role::SyncWorkers));
        assert_eq!(Role::recognise("gunicorn -w 2 -k gevent main_wsgi:app"), None);
        assert_eq!(Role::recognise("uvicorn main:app --workers 4"), None);
        assert_eq!(Role::recognise("python3 -m http.server 8000"), None);
    }

    #[test]
    fn suites_write_roles_in_the_articles_words() {
        #[derive(Deserialize)]
        struct Holder {
            role: Role,
        }
        let read = |word: &str| toml::from_str::<Holder>(&format!("role = \"{word}\"")).map(|holder| holder.role);
        assert_eq!(read("uvicorn").unwrap(), Role::SingleLoop);
        assert_eq!(read("gunicorn-uvicorn-worker").unwrap(), Role::PreforkAsync);
        assert_eq!(read("gunicorn-sync").unwrap(), Role::SyncWorkers);
        assert_eq!(read("sync_workers").unwrap(), Role::SyncWorkers);
        assert!(read("nginx").is_err());
    }
}
