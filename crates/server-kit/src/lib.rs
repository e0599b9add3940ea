//! Server plumbing shared by the three server models and the upstream: binding the listener ([`listener`]), what
//! a supervisor hands a server ([`lifecycle`]: the shutdown token and the worker hooks), the request limits, the
//! framing rules every model applies alike and the HTTP/1.1 request parser that applies them ([`http1`]). It knows nothing of the endpoints or of measurement.

pub mod framing;
pub mod http1;
pub mod lifecycle;
pub mod limits;
pub mod listener;

pub use lifecycle::Shutdown;

/// Why a tokio-based server (the async model, the upstream) could not serve at all.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot start the tokio runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot use the listening socket")]
    Listener(#[source] std::io::Error),
}
