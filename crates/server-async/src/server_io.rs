//! The socket wrapper every async connection runs on. It gives hyper's own error responses (400 for garbage, 431
//! for an oversized head, written before any handler runs) the JSON body and headers every other response has, and
//! closes connections "lingering", so a client still sending a refused body gets its 413 instead of a reset.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use endpoints::lifecycle::WorkerHooks;
use endpoints::{Response, CONTENT_TYPE_JSON, WORKER_PID_HEADER};
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
    /// Set once the client's first bytes have been read: until then a graceful stop must not close the
    /// connection (see `server::drive_connection`).
    has_read: Arc<AtomicBool>,
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
        Self { inner, hooks, worker_pid, pending: None, linger: Linger::Open, has_read: Arc::default() }
    }

    /// A flag that turns true once any request bytes have been read from this connection.
    pub(crate) fn has_read(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.has_read)
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
        let filled_before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > filled_before {
            self.has_read.store(true, Ordering::Release);
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
        let body = Response::error(self.status, reason).body;
        let mut out = format!("{status_line}\r\n");
        for line in lines.filter(|line| !line.to_ascii_lowercase().starts_with("content-length:")) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_431: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 25 Nov 2026 12:25:18 GMT\r\n\r\n";

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
