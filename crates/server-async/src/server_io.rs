//! The socket wrapper every async connection runs on. It gives hyper's own error responses (400 for garbage, 431
//! for an oversized head, written before any handler runs) the JSON body and headers every other response has,
//! refuses the HTTP/2 preface with 505 (hyper would close without a word), tracks where the connection is in its
//! request cycle ([`ConnState`]) for a graceful stop, and closes connections "lingering", so a client still sending
//! a refused body gets its 413 instead of a reset.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use endpoints::{reason_phrase, Response, CONTENT_TYPE_JSON, WORKER_PID_HEADER};
use server_kit::framing::{FramingError, HTTP2_PREFACE_START};
use server_kit::lifecycle::WorkerHooks;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// After a server-side close, how long and how much unread input is drained before the socket is dropped.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 2 * 1024 * 1024;
/// Longest response head searched for hyper's automatic error responses (theirs are about 100 bytes).
const MAX_AUTOMATIC_HEAD: usize = 1024;

pub(crate) struct ServerIo<T> {
    inner: T,
    hooks: Arc<dyn WorkerHooks>,
    worker_pid: u32,
    /// A rewritten error response not yet fully written; it goes out before anything else.
    pending: Option<Bytes>,
    linger: Linger,
    state: Arc<ConnState>,
    /// The client opened with the HTTP/2 preface: its 505 is pending, and hyper reads nothing but the end.
    refused: bool,
    lines: LineStarts,
}

/// Finds `Content-Length` header lines in the bytes read, across read boundaries. Every request passes through
/// here, so lines are found with SIMD `memchr` and only their first bytes are compared; the start of a line cut
/// by the end of a read is kept until the next read decides it.
#[derive(Debug, Default)]
struct LineStarts {
    /// The beginning of the unfinished line, while it is shorter than the prefix and could still match.
    carry: Vec<u8>,
    /// The unfinished line is already decided: nothing to look at before its end.
    skip_line: bool,
}

const CONTENT_LENGTH_PREFIX: &[u8] = b"content-length:";

fn starts_with_prefix(line: &[u8]) -> bool {
    line.len() >= CONTENT_LENGTH_PREFIX.len()
        && line[..CONTENT_LENGTH_PREFIX.len()].eq_ignore_ascii_case(CONTENT_LENGTH_PREFIX)
}

fn could_start_prefix(part: &[u8]) -> bool {
    part.len() < CONTENT_LENGTH_PREFIX.len() && part.eq_ignore_ascii_case(&CONTENT_LENGTH_PREFIX[..part.len()])
}

impl LineStarts {
    /// Scans `bytes`; true when a line starting with `Content-Length:` (any case) is found in them.
    fn content_length_in(&mut self, bytes: &[u8]) -> bool {
        let mut found = false;
        let mut position = 0;
        if self.skip_line || !self.carry.is_empty() {
            let end = memchr::memchr(b'\n', bytes).map(|newline| newline + 1);
            if !self.skip_line {
                let line_part = &bytes[..end.unwrap_or(bytes.len())];
                let wanted = CONTENT_LENGTH_PREFIX.len() - self.carry.len();
                self.carry.extend_from_slice(&line_part[..line_part.len().min(wanted)]);
                if starts_with_prefix(&self.carry) {
                    found = true;
                    self.skip_line = true;
                    self.carry.clear();
                } else if !could_start_prefix(&self.carry) || end.is_some() {
                    self.skip_line = true;
                    self.carry.clear();
                }
            }
            match end {
                None => return found,
                Some(end) => {
                    self.skip_line = false;
                    position = end;
                }
            }
        }
        loop {
            let rest = &bytes[position..];
            match memchr::memchr(b'\n', rest) {
                Some(newline) => {
                    found |= starts_with_prefix(&rest[..newline]);
                    position += newline + 1;
                }
                None => {
                    if starts_with_prefix(rest) {
                        found = true;
                        self.skip_line = true;
                    } else if could_start_prefix(rest) && !rest.is_empty() {
                        self.carry = rest.to_vec();
                    } else {
                        self.skip_line = !rest.is_empty();
                    }
                    return found;
                }
            }
        }
    }
}

/// Where a connection is in its request cycle, shared by its socket wrapper (which sees bytes arrive), its handler
/// (which sees a request start and its response go out) and `server::drive_connection` (which decides, on a
/// graceful stop, whether to wait for the connection or to close it at once).
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    phase: AtomicU8,
    /// Any byte was ever read: a connection accepted just before a stop gets a moment to send its request.
    has_read: AtomicBool,
    /// A `Content-Length` line was read since the handler last looked. hyper drops Content-Length when
    /// Transfer-Encoding is present, so the handler could not see that a request carried both.
    saw_content_length: AtomicBool,
}

/// Nothing received since the last response (or since the accept).
const IDLE: u8 = 0;
/// Bytes of a request arrived, but it is not complete yet (head or body).
const RECEIVING: u8 = 1;
/// A complete request is being processed.
const PROCESSING: u8 = 2;

/// [`ConnState`]'s phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Idle,
    Receiving,
    Processing,
}

impl ConnState {
    pub(crate) fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            IDLE => Phase::Idle,
            RECEIVING => Phase::Receiving,
            _ => Phase::Processing,
        }
    }

    pub(crate) fn has_read(&self) -> bool {
        self.has_read.load(Ordering::Acquire)
    }

    pub(crate) fn set_processing(&self) {
        self.phase.store(PROCESSING, Ordering::Release);
    }

    /// The response is going out: the connection waits for its next request.
    pub(crate) fn set_idle(&self) {
        self.phase.store(IDLE, Ordering::Release);
    }

    /// Whether a `Content-Length` line arrived since the last call (one call per request, by the handler).
    pub(crate) fn take_content_length_seen(&self) -> bool {
        self.saw_content_length.swap(false, Ordering::AcqRel)
    }

    fn bytes_arrived(&self) {
        self.has_read.store(true, Ordering::Release);
        let _ = self.phase.compare_exchange(IDLE, RECEIVING, Ordering::AcqRel, Ordering::Acquire);
    }
}

enum Linger {
    Open,
    /// Our side is shut down; unread input is being drained until EOF, the deadline or the byte budget.
    Draining {
        deadline: Pin<Box<Sleep>>,
        drained: usize,
    },
    Closed,
}

impl<T> ServerIo<T> {
    /// Counts the connection open with `hooks` until this is dropped.
    pub(crate) fn new(inner: T, hooks: Arc<dyn WorkerHooks>, worker_pid: u32) -> Self {
        hooks.connection_opened();
        Self {
            inner,
            hooks,
            worker_pid,
            pending: None,
            linger: Linger::Open,
            state: Arc::default(),
            refused: false,
            lines: LineStarts::default(),
        }
    }

    /// The connection's request-cycle state, shared with its handler and its driver.
    pub(crate) fn state(&self) -> Arc<ConnState> {
        Arc::clone(&self.state)
    }
}

impl<T> Drop for ServerIo<T> {
    fn drop(&mut self) {
        self.hooks.connection_closed();
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> ServerIo<T> {
    fn poll_write_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(pending) = &mut self.pending {
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            pending.advance(written);
            if pending.is_empty() {
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads and drops input until EOF, an error, the deadline or the byte budget; then the socket may close.
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Linger::Draining { deadline, drained } = &mut self.linger else {
            return Poll::Ready(());
        };
        let mut scratch = [0u8; 8192];
        loop {
            if *drained >= LINGER_BYTES || deadline.as_mut().poll(cx).is_ready() {
                break;
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => *drained += buf.filled().len(),
                Poll::Ready(_) => break,
                Poll::Pending => return Poll::Pending,
            }
        }
        self.linger = Linger::Closed;
        Poll::Ready(())
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ServerIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.refused {
            return Poll::Ready(Ok(()));
        }
        let filled_before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > filled_before {
            let first_read = !self.state.has_read();
            self.state.bytes_arrived();
            let this = &mut *self;
            if this.lines.content_length_in(&buf.filled()[filled_before..]) {
                this.state.saw_content_length.store(true, Ordering::Release);
            }
            if first_read && buf.filled()[filled_before..].starts_with(HTTP2_PREFACE_START) {
                // hyper sees the end of the stream and closes; the close writes the pending 505 first.
                let error = FramingError::Http2;
                let status_line = format!("HTTP/1.1 {} {}", error.status(), reason_phrase(error.status()));
                let detail = error.to_string();
                let refusal =
                    render_error(&status_line, error.status(), &detail, &["connection: close"], self.worker_pid);
                self.pending = Some(refusal);
                self.hooks.request_served();
                self.refused = true;
                buf.set_filled(filled_before);
            }
        }
        polled
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ServerIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_write_pending(cx))?;
        if let Some(automatic) = AutomaticError::find(buf) {
            this.pending = Some(automatic.rewrite(buf, this.worker_pid));
            this.hooks.request_served();
            return Poll::Ready(Ok(automatic.head_len));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Linger::Open = this.linger {
            ready!(this.poll_write_pending(cx))?;
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.linger = Linger::Draining { deadline: Box::pin(tokio::time::sleep(LINGER_TIME)), drained: 0 };
        }
        ready!(this.poll_linger(cx));
        Poll::Ready(Ok(()))
    }

    // Not vectored: hyper then writes each response head at the start of one buffer, where `find` looks for it.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// A bodiless 4xx/5xx response head that hyper wrote by itself: ours always carry the worker-pid header.
#[derive(Debug, PartialEq, Eq)]
struct AutomaticError {
    status: u16,
    head_len: usize,
}

impl AutomaticError {
    fn find(buf: &[u8]) -> Option<Self> {
        let rest = buf.strip_prefix(b"HTTP/1.1 ")?;
        if !matches!(rest.first(), Some(b'4' | b'5')) {
            return None;
        }
        let status = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
        let searched = &buf[..buf.len().min(MAX_AUTOMATIC_HEAD)];
        let head_len = searched.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
        let head = &buf[..head_len];
        let pid_header = format!("\r\n{WORKER_PID_HEADER}:");
        if head.windows(pid_header.len()).any(|window| window.eq_ignore_ascii_case(pid_header.as_bytes())) {
            return None;
        }
        Some(Self { status, head_len })
    }

    /// The same status and headers (but content-length) with the JSON error body and the worker pid added.
    fn rewrite(&self, buf: &[u8], worker_pid: u32) -> Bytes {
        let head = String::from_utf8_lossy(&buf[..self.head_len]);
        let mut lines = head.split("\r\n").filter(|line| !line.is_empty());
        let status_line = lines.next().unwrap_or_default();
        let reason = status_line.get(13..).unwrap_or_default();
        let kept: Vec<&str> = lines.filter(|line| !line.to_ascii_lowercase().starts_with("content-length:")).collect();
        render_error(status_line, self.status, reason, &kept, worker_pid)
    }
}

/// A complete error response: `status_line`, the `extra` header lines, the JSON content type, the worker pid and
/// the `{"detail": ...}` body with its length.
fn render_error(status_line: &str, status: u16, detail: &str, extra: &[&str], worker_pid: u32) -> Bytes {
    let body = Response::error(status, detail).body;
    let mut out = format!("{status_line}\r\n");
    for line in extra {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-type: {CONTENT_TYPE_JSON}\r\n{WORKER_PID_HEADER}: {worker_pid}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    Bytes::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_431: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 25 Nov 2026 12:25:18 GMT\r\n\r\n";

    #[test]
    fn content_length_lines_are_found_across_reads_in_any_case() {
        let mut lines = LineStarts::default();
        assert!(!lines.content_length_in(b"POST / HTTP/1.1\r\nHost: x\r\nConte"));
        assert!(lines.content_length_in(b"nt-LENGTH: 3\r\n\r\n"));
        assert!(!lines.content_length_in(b"GET / HTTP/1.1\r\nX-Content-Length: 3\r\nHost: content-length:\r\n\r\n"));
        for cut in 0..40 {
            let request = b"POST / HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\n\r\n";
            let mut lines = LineStarts::default();
            let first = lines.content_length_in(&request[..cut]);
            let second = lines.content_length_in(&request[cut..]);
            assert!(first || second, "cut at {cut}");
        }
        let mut lines = LineStarts::default();
        assert!(!lines.content_length_in(b"GET / HTTP/1.1\r\nX-A: content-len"));
        assert!(!lines.content_length_in(b"gth: 1\r\n\r\n"), "not at the start of its line");
    }

    #[test]
    fn finds_hyper_error_heads_only() {
        assert_eq!(AutomaticError::find(HYPER_431), Some(AutomaticError { status: 431, head_len: HYPER_431.len() }));
        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nx-worker-pid: 7\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(AutomaticError::find(ours), None);
        assert_eq!(AutomaticError::find(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), None);
        assert_eq!(AutomaticError::find(b"HTTP/1.1 100 Continue\r\n\r\n"), None);
        assert_eq!(AutomaticError::find(b"{\"message\":\"ok\"}"), None);
        assert_eq!(AutomaticError::find(b"HTTP/1.1 400 Bad Req"), None, "an incomplete head is left alone");
    }

    #[test]
    fn rewrite_adds_json_body_pid_and_keeps_other_headers() {
        let automatic = AutomaticError::find(HYPER_431).unwrap();
        let rewritten = automatic.rewrite(HYPER_431, 42);
        let text = std::str::from_utf8(&rewritten).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{head}");
        assert!(head.contains("\r\nconnection: close\r\n") && head.contains("\r\ndate: "), "{head}");
        assert!(head.contains("\r\nx-worker-pid: 42\r\n") && head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(!head.contains("content-length: 0"));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["detail"], "Request Header Fields Too Large");
    }
}
