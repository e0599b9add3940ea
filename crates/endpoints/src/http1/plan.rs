//! What a connection does with one complete request head, decided at once and owned, so that the read buffer the
//! head was parsed from is free again for the body and the next request. Both server models build it alike.

use crate::http1::response::ConnectionHeader;
use crate::{route, AppConfig, Response, Route};
use server_kit::http1::request::{BodyFraming, RequestHead};

#[derive(Debug)]
pub struct RequestPlan {
    pub head_len: usize,
    /// The route to run, or the ready refusal (404, 405, 400 on a bad query value).
    pub answer: Result<Route, Response>,
    pub head_only: bool,
    pub keep_alive: bool,
    pub http10: bool,
    pub body: BodyFraming,
    pub expect_continue: bool,
}

impl RequestPlan {
    pub fn new(head: &RequestHead<'_>, app: &AppConfig) -> Self {
        Self {
            head_len: head.head_len,
            answer: route(head.method, head.target, app),
            head_only: head.method == "HEAD",
            keep_alive: head.keep_alive,
            http10: head.minor_version == 0,
            body: head.body,
            expect_continue: head.expect_continue,
        }
    }

    /// The `connection` header of the response, given whether the server keeps the connection open after it.
    pub fn connection_header(&self, keep_open: bool) -> ConnectionHeader {
        match (keep_open, self.http10) {
            (false, _) => ConnectionHeader::Close,
            (true, true) => ConnectionHeader::KeepAlive,
            (true, false) => ConnectionHeader::Omit,
        }
    }
}

/// The detail of the 408 sent when a request's head is not complete in time.
pub const HEAD_TIMEOUT_DETAIL: &str = "timed out reading the request head";
/// The detail of the 408 sent when a request's body is not complete in time.
pub const BODY_TIMEOUT_DETAIL: &str = "timed out reading the request body";

#[cfg(test)]
mod tests {
    use super::*;
    use server_kit::http1::request::{parse_head, Parsed};

    fn plan(raw: &[u8]) -> RequestPlan {
        match parse_head(raw) {
            Ok(Parsed::Complete(head)) => RequestPlan::new(&head, &AppConfig::default()),
            other => panic!("not a complete head: {other:?}"),
        }
    }

    #[test]
    fn a_plan_routes_and_keeps_what_the_connection_needs() {
        let head = plan(b"HEAD /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(head.answer, Ok(Route::Health));
        assert!(head.head_only && head.http10 && head.keep_alive);
        assert_eq!(head.connection_header(true), ConnectionHeader::KeepAlive);
        assert_eq!(head.connection_header(false), ConnectionHeader::Close);
        let missing = plan(b"GET /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(missing.answer.as_ref().map_err(|refusal| refusal.status), Err(404));
        assert_eq!(missing.body, BodyFraming::Length(3));
        assert_eq!(missing.connection_header(true), ConnectionHeader::Omit);
    }
}
