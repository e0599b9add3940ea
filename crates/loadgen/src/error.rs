//! [`LoadError`]: why a load run could not start or finish. A bad plan names the flag or field at fault.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A plan field (named like the CLI flag that sets it) has a value the run cannot use.
    #[error("{argument}: {reason}")]
    InvalidPlan { argument: &'static str, reason: String },
    /// The pre-flight connection to the target failed: nothing is listening, or it is not reachable.
    #[error("URL: cannot connect to {addr}: {source}")]
    Unreachable { addr: SocketAddr, source: std::io::Error },
    /// The pre-flight TLS handshake with an https target failed (most often: a certificate it does not trust).
    #[error(
        "URL: TLS handshake with {addr} failed: {reason} (trust its CA with --cacert FILE, or accept any \
         certificate with --insecure)"
    )]
    Tls { addr: SocketAddr, reason: String },
    #[error("cannot pin load threads to cores {cpus:?}: {reason}")]
    Affinity { cpus: Vec<usize>, reason: String },
    #[error("cannot start a load thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("a load thread panicked")]
    ThreadPanicked,
    #[error("bad histogram data: {0}")]
    Histogram(String),
    #[error("nothing to merge")]
    NothingToMerge,
    /// A run of several steps (a capacity search) was cancelled before its first step measured anything.
    #[error("cancelled before anything was measured")]
    Cancelled,
    /// Two agents' measured windows share no instant: they did not load the target at the same time.
    #[error(
        "agent {late:?} started its window at {late_start}, after agent {early:?} ended its own at {early_end}: \
         they did not run at the same time, so their results cannot be merged"
    )]
    WindowsDoNotOverlap { late: String, late_start: String, early: String, early_end: String },
    /// The same agent's output was given twice (it would be counted twice).
    #[error("agent {id:?} appears twice with the same window: the same output was given twice")]
    DuplicateAgent { id: String },
}

impl LoadError {
    pub(crate) fn invalid(argument: &'static str, reason: impl Into<String>) -> LoadError {
        LoadError::InvalidPlan { argument, reason: reason.into() }
    }

    /// True when the error comes from the user's input (plan or target) rather than from the machine: the CLI
    /// exits 2 for these.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            LoadError::InvalidPlan { .. }
                | LoadError::Unreachable { .. }
                | LoadError::Tls { .. }
                | LoadError::Affinity { .. }
        )
    }
}
