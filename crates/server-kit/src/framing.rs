//! The request-framing rules both server models apply beyond what their parsers check, so that a request nginx
//! refuses is refused by every model alike, with the same status and detail.

/// The start of the HTTP/2 connection preface (`PRI * HTTP/2.0`): a client speaking HTTP/2 without negotiation.
pub const HTTP2_PREFACE_START: &[u8] = b"PRI * HTTP/2.0";

/// A request whose framing is refused before it is routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// HTTP/1.1 requires exactly one Host (RFC 9112 section 3.2) unless the target is in absolute form.
    #[error("missing Host header")]
    MissingHost,
    #[error("more than one Host header")]
    DuplicateHost,
    /// Request smuggling's classic shape (RFC 9112 section 6.1): refused and the connection closed, as nginx does.
    #[error("both Content-Length and Transfer-Encoding")]
    ContentLengthAndTransferEncoding,
    #[error("HTTP/2 is not supported: this server speaks HTTP/1.1")]
    Http2,
}

impl FramingError {
    pub fn status(&self) -> u16 {
        match self {
            FramingError::Http2 => 505,
            _ => 400,
        }
    }
}

/// What a request said about its host and body framing; each server model fills it from its own parser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FramingFacts {
    /// HTTP/1.1 (rather than HTTP/1.0).
    pub http11: bool,
    /// The target is in absolute form (`http://host/path`), which carries the host itself.
    pub absolute_form: bool,
    pub host_headers: usize,
    pub has_content_length: bool,
    pub has_transfer_encoding: bool,
}

impl FramingFacts {
    /// The first rule the request breaks, if any.
    pub fn check(&self) -> Result<(), FramingError> {
        if self.has_content_length && self.has_transfer_encoding {
            return Err(FramingError::ContentLengthAndTransferEncoding);
        }
        match self.host_headers {
            0 if self.http11 && !self.absolute_form => Err(FramingError::MissingHost),
            0 | 1 => Ok(()),
            _ => Err(FramingError::DuplicateHost),
        }
    }
}

/// The origin-form part (`/path?query`) of a request target: an absolute-form target (`http://host/path`) is
/// reduced to its path, `/` when it has none. Other targets are returned as they are.
pub fn origin_form(target: &str) -> (&str, bool) {
    // Every request takes this path: the common origin form is told by its first byte, before any search.
    if target.starts_with('/') {
        return (target, false);
    }
    let Some(scheme_end) = target.find("://") else { return (target, false) };
    let scheme = &target[..scheme_end];
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return (target, false);
    }
    let rest = &target[scheme_end + 3..];
    match rest.find(['/', '?']) {
        Some(start) if rest.as_bytes()[start] == b'/' => (&rest[start..], true),
        // `http://host` and `http://host?query` have an empty path, which means `/`.
        Some(_) | None => ("/", true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(http11: bool, hosts: usize) -> FramingFacts {
        FramingFacts { http11, host_headers: hosts, ..FramingFacts::default() }
    }

    #[test]
    fn host_rules_follow_the_version_and_the_target_form() {
        assert_eq!(facts(true, 1).check(), Ok(()));
        assert_eq!(facts(true, 0).check(), Err(FramingError::MissingHost));
        assert_eq!(facts(false, 0).check(), Ok(()), "HTTP/1.0 needs no Host");
        assert_eq!(facts(true, 2).check(), Err(FramingError::DuplicateHost));
        assert_eq!(facts(false, 2).check(), Err(FramingError::DuplicateHost));
        let absolute = FramingFacts { absolute_form: true, ..facts(true, 0) };
        assert_eq!(absolute.check(), Ok(()));
    }

    #[test]
    fn content_length_with_transfer_encoding_is_refused() {
        let both = FramingFacts { has_content_length: true, has_transfer_encoding: true, ..facts(true, 1) };
        assert_eq!(both.check(), Err(FramingError::ContentLengthAndTransferEncoding));
        assert_eq!(FramingError::ContentLengthAndTransferEncoding.status(), 400);
        assert_eq!(FramingError::Http2.status(), 505);
    }

    #[test]
    fn absolute_targets_reduce_to_their_path() {
        assert_eq!(origin_form("/health?x=1"), ("/health?x=1", false));
        assert_eq!(origin_form("http://example.com/health"), ("/health", true));
        assert_eq!(
            origin_form("HTTP://example.com:8080/cpu-intensive?iterations=5"),
            ("/cpu-intensive?iterations=5", true)
        );
        assert_eq!(origin_form("http://example.com"), ("/", true));
        assert_eq!(origin_form("https://example.com?a=b"), ("/", true));
        assert_eq!(origin_form("ftp://example.com/health"), ("ftp://example.com/health", false));
        assert_eq!(origin_form("*"), ("*", false));
    }
}
