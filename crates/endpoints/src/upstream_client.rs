//! The client side of `/sync-google` and `/async-google`: one blocking and one async reqwest client, both aimed at
//! the configured upstream (never at a URL taken from the request). Both keep their connections alive in a pool.
//! An https upstream is verified (rustls), with no way to turn that off: against the CA given
//! ([`UpstreamCa`], `--upstream-ca`) and nothing else, or else against Mozilla's root list compiled in
//! (webpki-roots), the list Python's `requests` trusts through certifi, the same on every machine.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{Response, ASYNC_GOOGLE_MESSAGE, SYNC_GOOGLE_MESSAGE};

pub const DEFAULT_UPSTREAM_URL: &str = "http://127.0.0.1:9000/";
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("invalid upstream URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot build the upstream HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("cannot read the upstream CA {}", path.display())]
    UnreadableCa { path: PathBuf, source: std::io::Error },
    #[error("the upstream CA {} holds no PEM certificate{reason}", path.display())]
    BadCa { path: PathBuf, reason: String },
}

/// The CA certificate(s) an https upstream's certificate must chain to, read from a PEM file.
#[derive(Debug, Clone)]
pub struct UpstreamCa {
    path: PathBuf,
    certificates: Vec<reqwest::Certificate>,
}

impl UpstreamCa {
    /// Reads and parses `path` now, so a bad file is refused before anything serves.
    pub fn read(path: &Path) -> Result<Self, UpstreamError> {
        let pem =
            std::fs::read(path).map_err(|source| UpstreamError::UnreadableCa { path: path.to_owned(), source })?;
        let bad = |reason: String| UpstreamError::BadCa { path: path.to_owned(), reason };
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| bad(format!(": {error}")))?;
        if certificates.is_empty() {
            return Err(bad(String::new()));
        }
        Ok(Self { path: path.to_owned(), certificates })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The TLS trust both clients share: only the given CA, or (no CA) the compiled-in roots.
macro_rules! trusting {
    ($builder:expr, $ca:expr) => {{
        let builder = $builder.use_rustls_tls();
        match $ca {
            None => builder,
            Some(ca) => ca.certificates.iter().fold(builder.tls_built_in_root_certs(false), |builder, certificate| {
                builder.add_root_certificate(certificate.clone())
            }),
        }
    }};
}

/// Both upstream clients. Build it outside any tokio runtime: `reqwest::blocking` owns a runtime of its own.
#[derive(Clone)]
pub struct UpstreamClient {
    url: reqwest::Url,
    blocking: reqwest::blocking::Client,
    nonblocking: reqwest::Client,
}

/// The URL only: the reqwest clients' own `Debug` is pages of connector settings, and a server's config (which
/// derives `Debug` and is logged at start) holds one of these.
impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

impl UpstreamClient {
    /// Clients of `url` (http or https); an https one trusts `ca` alone when given, else the compiled-in roots.
    pub fn new(url: &str, ca: Option<&UpstreamCa>) -> Result<Self, UpstreamError> {
        let url = reqwest::Url::parse(url)
            .map_err(|error| UpstreamError::InvalidUrl { url: url.to_owned(), reason: error.to_string() })?;
        let invalid = |reason: &str| UpstreamError::InvalidUrl { url: url.to_string(), reason: reason.into() };
        match (url.scheme(), ca) {
            ("https", _) | ("http", None) => {}
            ("http", Some(_)) => return Err(invalid("a CA is given but the URL is http://, which uses none")),
            _ => return Err(invalid("only http:// and https:// are supported")),
        }
        let blocking = trusting!(reqwest::blocking::Client::builder().timeout(UPSTREAM_TIMEOUT), ca)
            .pool_max_idle_per_host(usize::MAX)
            .build()
            .map_err(UpstreamError::Client)?;
        let nonblocking = trusting!(reqwest::Client::builder().timeout(UPSTREAM_TIMEOUT), ca)
            .build()
            .map_err(UpstreamError::Client)?;
        Ok(Self { url, blocking, nonblocking })
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// `/sync-google`: a blocking GET with the body read. Blocks the calling thread, which must be allowed to
    /// block (a plain thread or tokio's blocking pool, not an event-loop thread).
    pub fn sync_google(&self) -> Response {
        self.fetch_blocking(SYNC_GOOGLE_MESSAGE)
    }

    /// `/async-google` for a server model with no event loop (the sync model, like the WSGI twin of the article's app):
    /// the same blocking fetch as [`Self::sync_google`], answered with the async endpoint's message.
    pub fn async_google_blocking(&self) -> Response {
        self.fetch_blocking(ASYNC_GOOGLE_MESSAGE)
    }

    fn fetch_blocking(&self, message: &str) -> Response {
        let started = Instant::now();
        let outcome =
            self.blocking.get(self.url.clone()).send().and_then(|response| response.error_for_status()?.bytes());
        match outcome {
            Ok(_) => Response::completed(message, started.elapsed().as_secs_f64()),
            Err(error) => upstream_failure(&error),
        }
    }

    /// `/async-google`: an async GET through the shared connection pool, body read.
    pub async fn async_google(&self) -> Response {
        let started = Instant::now();
        let outcome = match self.nonblocking.get(self.url.clone()).send().await {
            Ok(response) => match response.error_for_status() {
                Ok(response) => response.bytes().await,
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        match outcome {
            Ok(_) => Response::completed(ASYNC_GOOGLE_MESSAGE, started.elapsed().as_secs_f64()),
            Err(error) => upstream_failure(&error),
        }
    }
}

/// A 502 naming the failure with its causes: reqwest's own message stops at "error sending request", and the cause
/// (refused, a certificate not trusted) is what a reader needs.
fn upstream_failure(error: &reqwest::Error) -> Response {
    let mut message = format!("upstream request failed: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Response::error(502, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_http_urls() {
        assert!(matches!(UpstreamClient::new("ftp://x/", None), Err(UpstreamError::InvalidUrl { .. })));
        assert!(matches!(UpstreamClient::new("not a url", None), Err(UpstreamError::InvalidUrl { .. })));
        assert!(UpstreamClient::new("https://127.0.0.1:1/", None).is_ok(), "https with the compiled-in roots");
    }

    #[test]
    fn a_ca_file_that_is_missing_or_not_pem_is_refused_by_name() {
        let missing = Path::new("/nonexistent/rustcorn-ca.pem");
        let error = UpstreamCa::read(missing).unwrap_err();
        assert!(matches!(error, UpstreamError::UnreadableCa { .. }), "{error:?}");
        assert!(error.to_string().contains("/nonexistent/rustcorn-ca.pem"), "{error}");

        let not_pem = std::env::temp_dir().join(format!("rustcorn-not-a-ca-{}.pem", std::process::id()));
        std::fs::write(&not_pem, "hello\n").unwrap();
        let error = UpstreamCa::read(&not_pem).unwrap_err();
        let _ = std::fs::remove_file(&not_pem);
        assert!(matches!(error, UpstreamError::BadCa { .. }), "{error:?}");
    }

    #[test]
    fn unreachable_upstream_is_502() {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let client = UpstreamClient::new("http://127.0.0.1:1/", None).unwrap();
        assert_eq!(client.sync_google().status, 502);
    }
}
