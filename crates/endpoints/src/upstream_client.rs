//! The client side of `/sync-google` and `/async-google`: one blocking and one async reqwest client, both aimed at
//! the configured upstream (never at a URL taken from the request).

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
}

/// Both upstream clients. Build it outside any tokio runtime: `reqwest::blocking` owns a runtime of its own.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    url: reqwest::Url,
    blocking: reqwest::blocking::Client,
    nonblocking: reqwest::Client,
}

impl UpstreamClient {
    pub fn new(url: &str) -> Result<Self, UpstreamError> {
        let url = reqwest::Url::parse(url)
            .map_err(|error| UpstreamError::InvalidUrl { url: url.to_owned(), reason: error.to_string() })?;
        if url.scheme() != "http" {
            return Err(UpstreamError::InvalidUrl { url: url.to_string(), reason: "only http:// is supported".into() });
        }
        let blocking = reqwest::blocking::Client::builder()
            .timeout(UPSTREAM_TIMEOUT)
            .pool_max_idle_per_host(usize::MAX)
            .build()
            .map_err(UpstreamError::Client)?;
        let nonblocking =
            reqwest::Client::builder().timeout(UPSTREAM_TIMEOUT).build().map_err(UpstreamError::Client)?;
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

fn upstream_failure(error: &reqwest::Error) -> Response {
    Response::error(502, &format!("upstream request failed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_http_urls() {
        assert!(matches!(UpstreamClient::new("ftp://x/"), Err(UpstreamError::InvalidUrl { .. })));
        assert!(matches!(UpstreamClient::new("not a url"), Err(UpstreamError::InvalidUrl { .. })));
    }

    #[test]
    fn unreachable_upstream_is_502() {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let client = UpstreamClient::new("http://127.0.0.1:1/").unwrap();
        assert_eq!(client.sync_google().status, 502);
    }
}
