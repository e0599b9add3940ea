//! [`SentRequest`]: a phase's request shape as results.json records it when it is not a plain GET with
//! keep-alive, for the report's methodology. Header values are left out: they may be secrets.

use loadgen::RequestShape;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What every request of a phase looked like beyond its path (the suite's `method`, `headers`, `body` or
/// `body_file`, `keep_alive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SentRequest {
    pub method: String,
    /// The extra headers' names, in order; their values are not recorded, as they may be secrets (an
    /// Authorization header). The suite text has them.
    pub header_names: Vec<String>,
    /// The body's length, sent as Content-Length; 0 for none.
    pub body_bytes: u64,
    /// False: `Connection: close` on every request and a new connection for each one.
    pub keep_alive: bool,
}

impl SentRequest {
    /// The record of `shape`; None for the default (a GET with no extra header, no body, keep-alive).
    pub fn of(shape: &RequestShape) -> Option<SentRequest> {
        (*shape != RequestShape::default()).then(|| SentRequest {
            method: shape.method.clone(),
            header_names: shape.headers.iter().map(|(name, _)| name.clone()).collect(),
            body_bytes: shape.body.len() as u64,
            keep_alive: shape.keep_alive,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_shape_other_than_the_default_is_recorded_and_never_a_header_value() {
        assert_eq!(SentRequest::of(&RequestShape::default()), None);
        let shape = RequestShape {
            method: "POST".into(),
            headers: vec![("Authorization".into(), "Bearer s3cret".into())],
            body: vec![b'x'; 1024],
            keep_alive: false,
        };
        let sent = SentRequest::of(&shape).expect("recorded");
        assert_eq!((sent.method.as_str(), sent.body_bytes, sent.keep_alive), ("POST", 1024, false));
        assert_eq!(sent.header_names, ["Authorization"]);
        assert!(!serde_json::to_string(&sent).unwrap().contains("s3cret"));
    }
}
