//! The response an endpoint produces: a status and a JSON body, written out by whichever server runs it.

use bytes::Bytes;
use serde::Serialize;

pub const CONTENT_TYPE_JSON: &str = "application/json";

/// A finished endpoint response. The content type is always [`CONTENT_TYPE_JSON`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

#[derive(Serialize)]
struct Completed<'a> {
    message: &'a str,
    duration: f64,
}

#[derive(Serialize)]
struct Failure<'a> {
    detail: &'a str,
}

impl Response {
    /// The article's success body: `{"message": ..., "duration": seconds}`.
    pub fn completed(message: &str, duration_seconds: f64) -> Self {
        Self::json(200, &Completed { message, duration: duration_seconds })
    }

    /// An error body in FastAPI's shape, `{"detail": ...}`, so clients of either stack parse it alike.
    pub fn error(status: u16, detail: &str) -> Self {
        Self::json(status, &Failure { detail })
    }

    fn json(status: u16, value: &impl Serialize) -> Self {
        // Serializing these two plain structs cannot fail: every field is a string or a finite-or-null float.
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Self { status, body: Bytes::from(body) }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The reason phrase for the statuses the servers produce.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_body_is_the_articles_shape() {
        let response = Response::completed("done", 0.5);
        let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(value["message"], "done");
        assert_eq!(value["duration"], 0.5);
        assert_eq!(response.status, 200);
    }

    #[test]
    fn error_body_uses_fastapi_detail() {
        let response = Response::error(400, "bad");
        let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(value["detail"], "bad");
        assert!(!response.is_success());
    }
}
