//! [`RequestShape`]: what each request looks like beyond its path (method, extra headers, body, keep-alive), as
//! `rustcorn load -m -H -d --disable-keepalive` sets it. It is encoded into bytes once per task before the run,
//! so the hot path writes the same pre-encoded bytes whatever the shape.

use std::path::Path;

use crate::LoadError;

/// Headers the load generator writes itself, which `-H` replaces rather than repeats.
const DEFAULT_HEADERS: [(&str, &str); 2] = [("User-Agent", "rustcorn-load"), ("Accept", "*/*")];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestShape {
    /// `GET`, `POST`, ... (an HTTP token).
    pub method: String,
    /// Extra headers in order; one named Host, User-Agent or Accept replaces the default.
    pub headers: Vec<(String, String)>,
    /// Sent with a Content-Length on every request; empty for none.
    pub body: Vec<u8>,
    /// False: `Connection: close` on every request and a new connection for the next one (wrk's and oha's
    /// `--disable-keepalive`), so each request pays a TCP handshake.
    pub keep_alive: bool,
}

impl Default for RequestShape {
    fn default() -> Self {
        RequestShape { method: "GET".to_owned(), headers: Vec::new(), body: Vec::new(), keep_alive: true }
    }
}

impl RequestShape {
    /// Refuses what would not be one valid HTTP/1.1 request: a method or header name that is not a token, a
    /// value with a line break, or framing headers the body sets itself.
    pub fn validate(&self) -> Result<(), LoadError> {
        check_method(&self.method).map_err(|reason| LoadError::invalid("--method", reason))?;
        for (name, value) in &self.headers {
            check_header(name, value).map_err(|reason| LoadError::invalid("--header", reason))?;
        }
        Ok(())
    }

    /// The request's bytes for `path_and_query` on `host_header`.
    pub fn encode(&self, path_and_query: &str, host_header: &str) -> Vec<u8> {
        let mut head = format!("{} {path_and_query} HTTP/1.1\r\n", self.method);
        if !self.has_header("host") {
            head.push_str(&format!("Host: {host_header}\r\n"));
        }
        for (name, value) in DEFAULT_HEADERS {
            if !self.has_header(name) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || matches!(self.method.as_str(), "POST" | "PUT" | "PATCH") {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if !self.keep_alive && !self.has_header("connection") {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    fn has_header(&self, wanted: &str) -> bool {
        self.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case(wanted))
    }
}

/// Why `method` cannot start a request line: it is not an HTTP token (empty, spaces, ...).
pub fn check_method(method: &str) -> Result<(), String> {
    if is_token(method) {
        Ok(())
    } else {
        Err(format!("{method:?} is not an HTTP method"))
    }
}

/// Why `name: value` cannot be sent as an extra header: a name that is not a token, a value with a line break
/// (it would inject a header), or a framing header the body sets itself.
pub fn check_header(name: &str, value: &str) -> Result<(), String> {
    if !is_token(name) {
        return Err(format!("{name:?} is not a header name"));
    }
    if value.contains(['\r', '\n']) {
        return Err(format!("the value of {name} holds a line break"));
    }
    if ["content-length", "transfer-encoding"].iter().any(|framing| name.eq_ignore_ascii_case(framing)) {
        return Err(format!("{name} is set from the length of the body, not by hand"));
    }
    Ok(())
}

/// A body file's bytes, read once before the run; the error names the file.
pub fn read_body_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// RFC 9110's token: the characters a method or a header name may hold.
fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// `Name: value` as `-H` takes it (curl's and wrk's form).
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once(':').ok_or_else(|| format!("{text:?} is not Name: value"))?;
    let name = name.trim();
    if !is_token(name) {
        return Err(format!("{text:?}: {name:?} is not a header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_shape_is_the_lean_get() {
        let bytes = RequestShape::default().encode("/health", "127.0.0.1:8000");
        let expected =
            "GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: rustcorn-load\r\nAccept: */*\r\n\r\n";
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn method_headers_body_and_close_are_encoded_once() {
        let shape = RequestShape {
            method: "POST".into(),
            headers: vec![("User-Agent".into(), "mine".into()), ("X-Token".into(), "abc".into())],
            body: b"{\"a\":1}".to_vec(),
            keep_alive: false,
        };
        let text = String::from_utf8(shape.encode("/echo", "h")).unwrap();
        assert!(text.starts_with("POST /echo HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n"), "{text}");
        assert!(text.contains("User-Agent: mine\r\nX-Token: abc\r\n") && !text.contains("rustcorn-load"), "{text}");
        assert!(text.ends_with("Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}"), "{text}");
    }

    #[test]
    fn bad_shapes_are_refused_naming_the_flag() {
        let refused = |shape: RequestShape| shape.validate().unwrap_err().to_string();
        let method = RequestShape { method: "GE T".into(), ..Default::default() };
        assert!(refused(method).starts_with("--method"));
        for (name, value) in [("X Bad", "1"), ("X-Split", "a\r\nInjected: 1"), ("Content-Length", "5")] {
            let shape = RequestShape { headers: vec![(name.into(), value.into())], ..Default::default() };
            assert!(refused(shape).starts_with("--header"), "{name}");
        }
        assert_eq!(parse_header("X-A: b: c"), Ok(("X-A".into(), "b: c".into())));
        assert!(parse_header("novalue").is_err());
    }
}
