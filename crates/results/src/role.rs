//! A target's role in the article's claims: one event loop, a master with event-loop workers, or gunicorn's sync
//! workers. Declared in a suite (`role = "uvicorn"`) or recognised from an external command line (uvicorn,
//! gunicorn, granian, hypercorn, as a [`ServerModel`]); the report judges the claims only on targets with a role, so
//! an unknown server is compared but never mistaken for uvicorn.

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
    /// Recognises the Python servers' roles by their command line (see [`ServerModel::recognise`]).
    pub fn recognise(command: &str) -> Option<Role> {
        ServerModel::recognise(command).and_then(ServerModel::role)
    }
}

/// What a Python server's command line shows it to be: one step finer than [`Role`], because a threaded server
/// (gunicorn's gthread worker, granian's WSGI interface) is a Python peer but has no part in the article's claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerModel {
    /// `uvicorn`, `granian --interface asgi`, `hypercorn` with one worker.
    SingleLoop,
    /// Several event-loop worker processes: gunicorn -k UvicornWorker, `uvicorn --workers N`,
    /// `granian --workers N`, `hypercorn -w N` (N > 1).
    PreforkAsync,
    /// gunicorn's sync workers: one request at a time per worker.
    SyncWorkers,
    /// Workers each running a pool of threads: `gunicorn -k gthread --threads N` (gunicorn also switches its sync
    /// worker to gthread when `--threads` is above 1), `granian --interface wsgi`.
    Threaded,
}

/// The servers recognised, by program name.
const SERVERS: [&str; 4] = ["gunicorn", "uvicorn", "granian", "hypercorn"];

impl ServerModel {
    /// Recognises uvicorn, gunicorn, granian and hypercorn by their command line, wrapped in `sh -c exec` or
    /// `python -m` or not. None for any other command and for a worker class it does not know (gevent, ...).
    pub fn recognise(command: &str) -> Option<ServerModel> {
        let words: Vec<&str> = command.split_whitespace().collect();
        let at = words.iter().position(|word| SERVERS.contains(&program(word)))?;
        let (server, flags) = (program(words[at]), &words[at + 1..]);
        let several = |names: &[&str]| number(flags, names).is_some_and(|workers| workers > 1);
        let loops = |several: bool| if several { ServerModel::PreforkAsync } else { ServerModel::SingleLoop };
        match server {
            "gunicorn" => gunicorn(flags),
            "uvicorn" => Some(loops(several(&["--workers"]))),
            "hypercorn" => Some(loops(several(&["-w", "--workers"]))),
            _ if value(flags, &["--interface"]) == Some("wsgi") => Some(ServerModel::Threaded),
            _ => Some(loops(several(&["--workers"]))),
        }
    }

    /// Its part in the article's claims; a threaded server has none.
    pub fn role(self) -> Option<Role> {
        match self {
            ServerModel::SingleLoop => Some(Role::SingleLoop),
            ServerModel::PreforkAsync => Some(Role::PreforkAsync),
            ServerModel::SyncWorkers => Some(Role::SyncWorkers),
            ServerModel::Threaded => None,
        }
    }
}

fn gunicorn(flags: &[&str]) -> Option<ServerModel> {
    let threads = number(flags, &["--threads"]).unwrap_or(1);
    match value(flags, &["-k", "--worker-class"]) {
        Some(class) if class.to_ascii_lowercase().contains("uvicorn") => Some(ServerModel::PreforkAsync),
        Some("gthread") => Some(ServerModel::Threaded),
        None | Some("sync") if threads > 1 => Some(ServerModel::Threaded),
        None | Some("sync") => Some(ServerModel::SyncWorkers),
        Some(_) => None,
    }
}

/// A word's program name: `../../.venv-peers/bin/uvicorn` -> `uvicorn`.
fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// The last value given to one of `names`, as `--flag value` or `--flag=value`.
fn value<'w>(flags: &[&'w str], names: &[&str]) -> Option<&'w str> {
    let mut found = None;
    for (index, word) in flags.iter().enumerate() {
        for name in names {
            if word == name {
                found = flags.get(index + 1).copied();
            } else if let Some(rest) = word.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')) {
                found = Some(rest);
            }
        }
    }
    found
}

fn number(flags: &[&str], names: &[&str]) -> Option<u32> {
    value(flags, names).and_then(|text| text.parse().ok())
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
        assert_eq!(Role::recognise("python3 -m http.server 8000"), None);
    }

    #[test]
    fn recognises_each_python_server_command_form() {
        use ServerModel::*;
        let cases = [
            ("uvicorn main:app --port 8000", Some(SingleLoop)),
            ("uvicorn main:app --workers 1", Some(SingleLoop)),
            ("uvicorn main:app --workers 2 --port 8000", Some(PreforkAsync)),
            ("python -m uvicorn --workers=4 main:app", Some(PreforkAsync)),
            ("sh -c exec ../../.venv-peers/bin/uvicorn main:app --workers 2", Some(PreforkAsync)),
            ("granian --interface asgi --port 8000 main:app", Some(SingleLoop)),
            ("granian --interface asgi --workers 2 main:app", Some(PreforkAsync)),
            ("granian --interface wsgi --workers 2 main_wsgi:app", Some(Threaded)),
            ("hypercorn --bind 127.0.0.1:8000 main:app", Some(SingleLoop)),
            ("hypercorn -w 2 --bind 127.0.0.1:8000 main:app", Some(PreforkAsync)),
            ("hypercorn --workers 3 main:app", Some(PreforkAsync)),
            ("gunicorn -w 2 -k uvicorn_worker.UvicornWorker main:app", Some(PreforkAsync)),
            ("gunicorn -w 1 --worker-class=uvicorn.workers.UvicornWorker main:app", Some(PreforkAsync)),
            ("gunicorn -w 2 -k gthread --threads 4 main_wsgi:app", Some(Threaded)),
            ("gunicorn -w 2 --threads 4 main_wsgi:app", Some(Threaded)),
            ("gunicorn -w 2 -k sync main_wsgi:app", Some(SyncWorkers)),
            ("gunicorn -w 2 --threads 1 main_wsgi:app", Some(SyncWorkers)),
            ("gunicorn -w 2 -k eventlet main_wsgi:app", None),
            ("./my-server --workers 2", None),
        ];
        for (command, model) in cases {
            assert_eq!(ServerModel::recognise(command), model, "{command}");
        }
        assert_eq!(Role::recognise("gunicorn -w 2 -k gthread --threads 4 main_wsgi:app"), None, "no claim role");
        assert_eq!(Role::recognise("hypercorn -w 2 main:app"), Some(Role::PreforkAsync));
        assert_eq!(Role::recognise("granian --interface asgi main:app"), Some(Role::SingleLoop));
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
