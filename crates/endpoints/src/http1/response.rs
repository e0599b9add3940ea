//! Encoding a response into the connection's reusable output buffer: status line and headers written with
//! `itoa`, the `date` header cached per second, the body appended so the whole response goes out in one write.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{reason_phrase, CONTENT_TYPE_JSON, WORKER_PID_HEADER};

/// The `connection` header a response carries, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionHeader {
    /// HTTP/1.1 keeps the connection open by default: nothing to say.
    Omit,
    /// An HTTP/1.0 client asked for keep-alive and gets it.
    KeepAlive,
    /// The server closes the connection after this response.
    Close,
}

/// Per-thread response encoder: the pid text and the current `date` value, reused for every response.
#[derive(Debug)]
pub struct ResponseEncoder {
    pid: String,
    date: CachedDate,
}

impl ResponseEncoder {
    pub fn new(pid: u32) -> Self {
        Self { pid: itoa::Buffer::new().format(pid).to_owned(), date: CachedDate::default() }
    }

    /// Writes the head, and the body unless `head_only` (HEAD requests keep the real content-length).
    pub fn encode(
        &mut self,
        out: &mut Vec<u8>,
        status: u16,
        body: &[u8],
        head_only: bool,
        connection: ConnectionHeader,
    ) {
        let mut numbers = itoa::Buffer::new();
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(numbers.format(status).as_bytes());
        out.push(b' ');
        out.extend_from_slice(reason(status).as_bytes());
        out.extend_from_slice(b"\r\ncontent-type: ");
        out.extend_from_slice(CONTENT_TYPE_JSON.as_bytes());
        out.extend_from_slice(b"\r\ncontent-length: ");
        out.extend_from_slice(numbers.format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(WORKER_PID_HEADER.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(self.pid.as_bytes());
        out.extend_from_slice(b"\r\ndate: ");
        out.extend_from_slice(self.date.now().as_bytes());
        out.extend_from_slice(match connection {
            ConnectionHeader::Omit => b"\r\n\r\n".as_slice(),
            ConnectionHeader::KeepAlive => b"\r\nconnection: keep-alive\r\n\r\n",
            ConnectionHeader::Close => b"\r\nconnection: close\r\n\r\n",
        });
        if !head_only {
            out.extend_from_slice(body);
        }
    }
}

/// The interim response to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        501 => "Not Implemented",
        other => reason_phrase(other),
    }
}

/// The IMF-fixdate text of the current second, formatted once per second.
#[derive(Debug, Default)]
struct CachedDate {
    second: u64,
    text: String,
}

impl CachedDate {
    fn now(&mut self) -> &str {
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or(0);
        if second != self.second || self.text.is_empty() {
            self.second = second;
            self.text = httpdate::fmt_http_date(now);
        }
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(status: u16, body: &[u8], head_only: bool, connection: ConnectionHeader) -> String {
        let mut out = Vec::new();
        ResponseEncoder::new(4242).encode(&mut out, status, body, head_only, connection);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_status_headers_and_body() {
        let text = encoded(200, b"{}", false, ConnectionHeader::Omit);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"));
        assert!(text.contains("\r\nx-worker-pid: 4242\r\ndate: "));
        assert!(text.ends_with(" GMT\r\n\r\n{}"));
        assert!(!text.contains("connection:"));
    }

    #[test]
    fn head_only_keeps_the_length_and_drops_the_body() {
        let text = encoded(200, b"{\"a\":1}", true, ConnectionHeader::Close);
        assert!(text.contains("content-length: 7\r\n"));
        assert!(text.ends_with("connection: close\r\n\r\n"));
    }

    #[test]
    fn keep_alive_header_for_http10_and_reason_for_501() {
        assert!(encoded(200, b"", false, ConnectionHeader::KeepAlive).contains("connection: keep-alive\r\n"));
        assert!(encoded(501, b"", false, ConnectionHeader::Close).starts_with("HTTP/1.1 501 Not Implemented\r\n"));
    }
}
