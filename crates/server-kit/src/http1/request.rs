//! Parsing one request head out of the connection's read buffer with `httparse`, applying the shared limits
//! (`crate::limits`). Used by the connection loop and by the `parse` criterion bench.

use std::mem::MaybeUninit;

use crate::framing::{origin_form, FramingError, FramingFacts, HTTP2_PREFACE_START};
use crate::limits::{MAX_BODY_BYTES, MAX_HEADERS, MAX_HEADER_BYTES};

/// A complete, acceptable request head. It borrows the buffer it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHead<'buf> {
    pub method: &'buf str,
    /// The target in origin form (`/path?query`); an absolute-form target is reduced to it.
    pub target: &'buf str,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Bytes of the head, including its final empty line; the body (or the next request) starts there.
    pub head_len: usize,
    /// Whether the client allows the connection to stay open after this request.
    pub keep_alive: bool,
    pub body: BodyFraming,
    /// `Expect: 100-continue`: the client waits for an interim response before sending its body.
    pub expect_continue: bool,
}

/// How the request body, if any, is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// Why a head is refused; each maps to the status sent before the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("malformed request head: {0}")]
    Malformed(httparse::Error),
    #[error("request head larger than {MAX_HEADER_BYTES} bytes")]
    HeadTooLarge,
    #[error("more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
    #[error("invalid Content-Length")]
    InvalidContentLength,
    #[error(transparent)]
    Framing(#[from] FramingError),
    #[error("request body larger than {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("unsupported Transfer-Encoding (only chunked is)")]
    UnsupportedTransferEncoding,
}

impl HeadError {
    pub fn status(&self) -> u16 {
        match self {
            HeadError::Malformed(_) | HeadError::InvalidContentLength => 400,
            HeadError::Framing(framing) => framing.status(),
            HeadError::HeadTooLarge | HeadError::TooManyHeaders => 431,
            HeadError::BodyTooLarge => 413,
            HeadError::UnsupportedTransferEncoding => 501,
        }
    }
}

/// What parsing the start of `buf` gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'buf> {
    Complete(RequestHead<'buf>),
    /// The head is not complete yet (and still within the limits): read more.
    Partial,
}

/// Parses the request head at the start of `buf`. Bytes after the head (a body, or pipelined requests) are left
/// alone: `head_len` says where they start.
pub fn parse_head(buf: &[u8]) -> Result<Parsed<'_>, HeadError> {
    if buf.starts_with(HTTP2_PREFACE_START) {
        return Err(FramingError::Http2.into());
    }
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    let head_len = match request.parse_with_uninit_headers(buf, &mut headers) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEADER_BYTES => return Err(HeadError::HeadTooLarge),
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(error) => return Err(HeadError::Malformed(error)),
    };
    if head_len > MAX_HEADER_BYTES {
        return Err(HeadError::HeadTooLarge);
    }
    // A complete parse always fills method, path and version.
    let (Some(method), Some(target), Some(minor_version)) = (request.method, request.path, request.version) else {
        return Err(HeadError::Malformed(httparse::Error::Token));
    };
    let fields = HeaderFields::collect(request.headers)?;
    let (target, absolute_form) = origin_form(target);
    FramingFacts {
        http11: minor_version == 1,
        absolute_form,
        host_headers: fields.host_headers,
        has_content_length: fields.content_length.is_some(),
        has_transfer_encoding: fields.transfer_encoding.is_some(),
    }
    .check()?;
    Ok(Parsed::Complete(RequestHead {
        method,
        target,
        minor_version,
        head_len,
        keep_alive: fields.keep_alive(minor_version),
        body: fields.body_framing()?,
        expect_continue: fields.expect_continue,
    }))
}

/// The header fields the server acts on; every other field is ignored.
#[derive(Debug, Default)]
struct HeaderFields {
    connection_close: bool,
    connection_keep_alive: bool,
    content_length: Option<u64>,
    transfer_encoding: Option<TransferEncoding>,
    expect_continue: bool,
    host_headers: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransferEncoding {
    Chunked,
    Other,
}

impl HeaderFields {
    fn collect(headers: &[httparse::Header<'_>]) -> Result<Self, HeadError> {
        let mut fields = HeaderFields::default();
        for header in headers {
            let name = header.name.as_bytes();
            if name.eq_ignore_ascii_case(b"connection") {
                for token in comma_separated(header.value) {
                    fields.connection_close |= token.eq_ignore_ascii_case(b"close");
                    fields.connection_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case(b"content-length") {
                let length = parse_content_length(header.value)?;
                if fields.content_length.is_some_and(|seen| seen != length) {
                    return Err(HeadError::InvalidContentLength);
                }
                fields.content_length = Some(length);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                fields.transfer_encoding = Some(fields.transfer_encoding_after(header.value));
            } else if name.eq_ignore_ascii_case(b"host") {
                fields.host_headers += 1;
            } else if name.eq_ignore_ascii_case(b"expect") {
                fields.expect_continue = trim(header.value).eq_ignore_ascii_case(b"100-continue");
            }
        }
        Ok(fields)
    }

    /// Only a lone `chunked` is decoded; any other coding (or chunked applied twice) is refused.
    fn transfer_encoding_after(&self, value: &[u8]) -> TransferEncoding {
        let mut codings = comma_separated(value).filter(|token| !token.is_empty());
        let lone_chunked = codings.next().is_some_and(|first| first.eq_ignore_ascii_case(b"chunked"))
            && codings.next().is_none()
            && self.transfer_encoding.is_none();
        if lone_chunked {
            TransferEncoding::Chunked
        } else {
            TransferEncoding::Other
        }
    }

    fn keep_alive(&self, minor_version: u8) -> bool {
        if minor_version == 0 {
            self.connection_keep_alive && !self.connection_close
        } else {
            !self.connection_close
        }
    }

    fn body_framing(&self) -> Result<BodyFraming, HeadError> {
        match (self.transfer_encoding, self.content_length) {
            (Some(_), Some(_)) => Err(FramingError::ContentLengthAndTransferEncoding.into()),
            (Some(TransferEncoding::Chunked), None) => Ok(BodyFraming::Chunked),
            (Some(TransferEncoding::Other), None) => Err(HeadError::UnsupportedTransferEncoding),
            (None, Some(length)) if length > MAX_BODY_BYTES => Err(HeadError::BodyTooLarge),
            (None, Some(0)) | (None, None) => Ok(BodyFraming::None),
            (None, Some(length)) => Ok(BodyFraming::Length(length)),
        }
    }
}

/// Content-Length is one or more digits, nothing else (no sign, no spaces inside); values past u64 are refused.
fn parse_content_length(value: &[u8]) -> Result<u64, HeadError> {
    let digits = trim(value);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(HeadError::InvalidContentLength);
    }
    Ok(digits.iter().fold(0u64, |total, digit| total * 10 + u64::from(digit - b'0')))
}

fn comma_separated(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&byte| byte == b',').map(trim)
}

fn trim(value: &[u8]) -> &[u8] {
    value.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> RequestHead<'_> {
        match parse_head(buf) {
            Ok(Parsed::Complete(head)) => head,
            other => panic!("expected a complete head, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_simple_get() {
        let head = complete(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((head.method, head.target, head.minor_version), ("GET", "/health", 1));
        assert_eq!(head.head_len, 33);
        assert!(head.keep_alive);
        assert_eq!(head.body, BodyFraming::None);
    }

    #[test]
    fn partial_heads_ask_for_more() {
        let full = b"GET /cpu-intensive?iterations=5 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse_head(&full[..cut]), Ok(Parsed::Partial), "cut at {cut}");
        }
        assert_eq!(complete(full).head_len, full.len());
    }

    #[test]
    fn pipelined_requests_parse_one_after_another() {
        let buf = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHo";
        let first = complete(buf);
        assert_eq!(first.target, "/a");
        let rest = &buf[first.head_len..];
        let second = complete(rest);
        assert_eq!(second.target, "/b");
        assert_eq!(parse_head(&rest[second.head_len..]), Ok(Parsed::Partial));
    }

    #[test]
    fn connection_header_decides_keep_alive() {
        assert!(!complete(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!complete(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n").keep_alive);
        assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(complete(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    }

    #[test]
    fn garbage_is_malformed() {
        for garbage in
            [&b"HELLO\r\n\r\n"[..], b"\x00\x01\x02\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n", b"GET  / HTTP/1.1\r\n\r\n"]
        {
            assert!(matches!(parse_head(garbage), Err(HeadError::Malformed(_))), "{garbage:?}");
        }
        assert_eq!(HeadError::Malformed(httparse::Error::Token).status(), 400);
    }

    #[test]
    fn head_size_limit_is_431_complete_or_not() {
        let mut big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
        big.resize(MAX_HEADER_BYTES + 10, b'a');
        assert_eq!(parse_head(&big), Err(HeadError::HeadTooLarge));
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse_head(&big), Err(HeadError::HeadTooLarge));
        assert_eq!(HeadError::HeadTooLarge.status(), 431);
    }

    #[test]
    fn header_count_limit() {
        let with_headers = |count: usize| {
            let mut head = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
            for index in 1..count {
                head.extend_from_slice(format!("X-{index}: v\r\n").as_bytes());
            }
            head.extend_from_slice(b"\r\n");
            head
        };
        assert!(matches!(parse_head(&with_headers(MAX_HEADERS)), Ok(Parsed::Complete(_))));
        assert_eq!(parse_head(&with_headers(MAX_HEADERS + 1)), Err(HeadError::TooManyHeaders));
        assert_eq!(HeadError::TooManyHeaders.status(), 431);
    }

    #[test]
    fn body_framing_and_its_limits() {
        let framing = |headers: &str| {
            let raw = format!("POST /health HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
            parse_head(raw.as_bytes()).map(|parsed| match parsed {
                Parsed::Complete(head) => head.body,
                Parsed::Partial => panic!("partial"),
            })
        };
        assert_eq!(framing("Content-Length: 12\r\n"), Ok(BodyFraming::Length(12)));
        assert_eq!(framing("Content-Length: 0\r\n"), Ok(BodyFraming::None));
        assert_eq!(framing("Content-Length: 5\r\nContent-Length: 5\r\n"), Ok(BodyFraming::Length(5)));
        assert_eq!(framing("Content-Length: 5\r\nContent-Length: 6\r\n"), Err(HeadError::InvalidContentLength));
        assert_eq!(framing("Content-Length: -1\r\n"), Err(HeadError::InvalidContentLength));
        assert_eq!(framing("Content-Length: 99999999999999999999999\r\n"), Err(HeadError::InvalidContentLength));
        assert_eq!(
            framing(&format!("Content-Length: {}\r\n", MAX_BODY_BYTES)),
            Ok(BodyFraming::Length(MAX_BODY_BYTES))
        );
        assert_eq!(framing(&format!("Content-Length: {}\r\n", MAX_BODY_BYTES + 1)), Err(HeadError::BodyTooLarge));
        assert_eq!(framing("Transfer-Encoding: chunked\r\n"), Ok(BodyFraming::Chunked));
        assert_eq!(framing("Transfer-Encoding: gzip, chunked\r\n"), Err(HeadError::UnsupportedTransferEncoding));
        assert_eq!(
            framing("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            Err(HeadError::UnsupportedTransferEncoding)
        );
        assert_eq!(
            framing("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"),
            Err(HeadError::Framing(FramingError::ContentLengthAndTransferEncoding))
        );
        assert_eq!(HeadError::BodyTooLarge.status(), 413);
        assert_eq!(HeadError::UnsupportedTransferEncoding.status(), 501);
    }

    #[test]
    fn expect_continue_is_noticed() {
        let head = complete(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        assert!(head.expect_continue);
    }

    #[test]
    fn host_is_required_once_on_http11() {
        let refused = |raw: &[u8]| parse_head(raw).err().map(|error| (error.status(), error.to_string()));
        assert_eq!(refused(b"GET /health HTTP/1.1\r\n\r\n"), Some((400, "missing Host header".into())));
        assert_eq!(
            refused(b"GET /health HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
            Some((400, "more than one Host header".into()))
        );
        assert_eq!(complete(b"GET /health HTTP/1.0\r\n\r\n").target, "/health");
    }

    #[test]
    fn absolute_form_targets_are_routed_by_their_path() {
        let head = complete(b"GET http://example.com/cpu-intensive?iterations=5 HTTP/1.1\r\n\r\n");
        assert_eq!(head.target, "/cpu-intensive?iterations=5");
    }

    #[test]
    fn the_http2_preface_is_refused_with_505() {
        let error = parse_head(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").expect_err("refused");
        assert_eq!(error, HeadError::Framing(FramingError::Http2));
        assert_eq!(error.status(), 505);
    }
}
