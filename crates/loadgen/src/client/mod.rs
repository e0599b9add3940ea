//! The lean HTTP/1.1 client on the hot path: one [`Connection`] per user or connection, keep-alive, pre-encoded
//! request bytes, one reused read buffer, httparse for the head and content-length / chunked / until-close bodies.
//! Nothing is allocated per request. The load workers (`crate::worker`) drive it, over plain TCP or TLS
//! ([`connect`]).

mod chunked;
pub mod connect;

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

pub use chunked::{ChunkedDecoder, ChunkedError};
pub use connect::{Connect, Plain, TlsConnect};

use crate::per_worker;

/// Initial read buffer per connection; it grows (rarely) up to [`MAX_HEAD_BYTES`] for a large response head.
const INITIAL_BUFFER_BYTES: usize = 16 * 1024;
/// A response head larger than this is a read failure.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Response headers parsed at most.
const MAX_RESPONSE_HEADERS: usize = 64;

/// A complete response as the load generator needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Body bytes after de-chunking.
    pub body_bytes: u64,
    /// The `x-worker-pid` header: which server process answered.
    pub worker_pid: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("connect: {0}")]
    Connect(#[source] io::Error),
    #[error("i/o: {0}")]
    Io(#[source] io::Error),
    #[error("connection closed before the response was complete")]
    Closed,
    /// The write failed, or the connection closed before any byte of the response arrived.
    #[error("connection closed before any response byte")]
    NoResponse,
    #[error("bad response head: {0}")]
    Head(String),
    #[error(transparent)]
    Chunked(#[from] ChunkedError),
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// What the head says, copied out so the buffer can be reused for the body.
#[derive(Debug, Clone, Copy)]
struct Head {
    status: u16,
    length: usize,
    framing: Framing,
    keep_alive: bool,
    worker_pid: Option<u32>,
}

/// One keep-alive HTTP/1.1 connection to the target, (re)opened on demand by its connector `C`.
pub struct Connection<C: Connect = Plain> {
    connector: C,
    addr: SocketAddr,
    stream: Option<C::Stream>,
    buffer: Vec<u8>,
    /// Bytes of `buffer` holding received data not yet consumed (only non-zero if the server sent extra bytes).
    filled: usize,
    /// A response was already read on the current stream: only then is a dead connection retried (stale keep-alive).
    reused: bool,
    /// False: the stream is closed after every response, whatever the server says (`--disable-keepalive`).
    keep_alive: bool,
}

#[cfg(test)]
impl Connection<Plain> {
    pub fn new(addr: SocketAddr, keep_alive: bool) -> Connection<Plain> {
        Connection::with_connector(Plain, addr, keep_alive)
    }
}

impl<C: Connect> Connection<C> {
    pub fn with_connector(connector: C, addr: SocketAddr, keep_alive: bool) -> Connection<C> {
        Connection {
            connector,
            addr,
            stream: None,
            buffer: vec![0; INITIAL_BUFFER_BYTES],
            filled: 0,
            reused: false,
            keep_alive,
        }
    }

    /// Drops the current stream (after a timeout or error): the next exchange reconnects.
    pub fn reset(&mut self) {
        self.stream = None;
        self.filled = 0;
        self.reused = false;
    }

    /// Sends `request` and reads the whole response. A reused keep-alive connection that the server had already
    /// closed (write failure, EOF or reset before any response byte) is retried once on a fresh one, as HTTP
    /// clients do; the server never saw that request.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<Response, ExchangeError> {
        let reused = self.reused;
        match self.exchange_once(request).await {
            Ok(response) => Ok(response),
            Err(ExchangeError::NoResponse) if reused => {
                self.reset();
                self.exchange_once(request).await.inspect_err(|_| self.reset())
            }
            Err(error) => {
                self.reset();
                Err(error)
            }
        }
    }

    async fn exchange_once(&mut self, request: &[u8]) -> Result<Response, ExchangeError> {
        if self.stream.is_none() {
            let stream = self.connector.connect(self.addr).await.map_err(ExchangeError::Connect)?;
            self.stream = Some(stream);
            self.filled = 0;
            self.reused = false;
        }
        let stream = self.stream.as_mut().ok_or(ExchangeError::Closed)?;
        stream.write_all(request).await.map_err(|_| ExchangeError::NoResponse)?;
        let head = read_head(stream, &mut self.buffer, &mut self.filled).await?;
        let body_bytes = read_body(stream, &mut self.buffer, &mut self.filled, head).await?;
        if self.keep_alive && head.keep_alive && head.framing != Framing::UntilClose {
            self.reused = true;
        } else {
            self.reset();
        }
        Ok(Response { status: head.status, body_bytes, worker_pid: head.worker_pid })
    }
}

/// Reads until a complete head is in `buffer[..filled]`; skips 1xx interim responses.
async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    filled: &mut usize,
) -> Result<Head, ExchangeError> {
    loop {
        if *filled > 0 {
            if let Some(head) = parse_head(&buffer[..*filled])? {
                if (100..200).contains(&head.status) && head.status != 101 {
                    consume(buffer, filled, head.length);
                    continue;
                }
                return Ok(head);
            }
        }
        if *filled == buffer.len() {
            if buffer.len() >= MAX_HEAD_BYTES {
                return Err(ExchangeError::Head(format!("response head over {MAX_HEAD_BYTES} bytes")));
            }
            buffer.resize((buffer.len() * 2).min(MAX_HEAD_BYTES), 0);
        }
        let read = match stream.read(&mut buffer[*filled..]).await {
            Ok(0) | Err(_) if *filled == 0 => return Err(ExchangeError::NoResponse),
            Ok(0) => return Err(ExchangeError::Closed),
            Ok(read) => read,
            Err(error) => return Err(ExchangeError::Io(error)),
        };
        *filled += read;
    }
}

/// Parses a response head; None while incomplete.
fn parse_head(bytes: &[u8]) -> Result<Option<Head>, ExchangeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(ExchangeError::Head(error.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let mut keep_alive = response.version == Some(1);
    let mut content_length = None;
    let mut chunked = false;
    let mut worker_pid = None;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let parsed = std::str::from_utf8(header.value).ok().and_then(|value| value.trim().parse::<u64>().ok());
            let value = parsed.ok_or_else(|| ExchangeError::Head("bad content-length".into()))?;
            if content_length.is_some_and(|previous| previous != value) {
                return Err(ExchangeError::Head("conflicting content-length headers".into()));
            }
            content_length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = ends_with_token(header.value, b"chunked");
        } else if header.name.eq_ignore_ascii_case(per_worker::WORKER_PID_HEADER) {
            worker_pid = per_worker::parse_pid(header.value);
        } else if header.name.eq_ignore_ascii_case("connection") {
            if has_token(header.value, b"close") {
                keep_alive = false;
            } else if has_token(header.value, b"keep-alive") {
                keep_alive = true;
            }
        }
    }
    let framing = if status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = content_length {
        Framing::Length(length)
    } else {
        Framing::UntilClose
    };
    Ok(Some(Head { status, length, framing, keep_alive, worker_pid }))
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&byte| byte == b',').any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

fn ends_with_token(value: &[u8], token: &[u8]) -> bool {
    value.rsplit(|&byte| byte == b',').next().is_some_and(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

/// Drops the first `count` bytes of `buffer[..filled]`, keeping what follows (the start of another response).
fn consume(buffer: &mut [u8], filled: &mut usize, count: usize) {
    buffer.copy_within(count..*filled, 0);
    *filled -= count;
}

/// Reads and discards the body, returning its size; leaves any bytes after it at the start of the buffer.
async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut [u8],
    filled: &mut usize,
    head: Head,
) -> Result<u64, ExchangeError> {
    consume(buffer, filled, head.length);
    match head.framing {
        Framing::Length(length) => read_exact_body(stream, buffer, filled, length).await,
        Framing::Chunked => read_chunked_body(stream, buffer, filled).await,
        Framing::UntilClose => read_until_close(stream, buffer, filled).await,
    }
}

async fn read_exact_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut [u8],
    filled: &mut usize,
    length: u64,
) -> Result<u64, ExchangeError> {
    let mut remaining = length;
    loop {
        let available = (*filled as u64).min(remaining);
        consume(buffer, filled, available as usize);
        remaining -= available;
        if remaining == 0 {
            return Ok(length);
        }
        *filled = read_some(stream, buffer).await?;
    }
}

async fn read_chunked_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut [u8],
    filled: &mut usize,
) -> Result<u64, ExchangeError> {
    let mut decoder = ChunkedDecoder::default();
    let mut data_bytes = 0;
    loop {
        let progress = decoder.feed(&buffer[..*filled])?;
        data_bytes += progress.data_bytes;
        consume(buffer, filled, progress.consumed);
        if progress.done {
            return Ok(data_bytes);
        }
        *filled = read_some(stream, buffer).await?;
    }
}

async fn read_until_close<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut [u8],
    filled: &mut usize,
) -> Result<u64, ExchangeError> {
    let mut body_bytes = *filled as u64;
    *filled = 0;
    loop {
        let read = stream.read(buffer).await.map_err(ExchangeError::Io)?;
        if read == 0 {
            return Ok(body_bytes);
        }
        body_bytes += read as u64;
    }
}

/// Reads into the (fully consumed) buffer; EOF here means the body was cut short.
async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buffer: &mut [u8]) -> Result<usize, ExchangeError> {
    match stream.read(buffer).await.map_err(ExchangeError::Io)? {
        0 => Err(ExchangeError::Closed),
        read => Ok(read),
    }
}

#[cfg(test)]
mod tests;
