//! Serving one accepted connection on its thread: read a head, discard any body, run the handler, write the
//! response, and again for the next (possibly pipelined) request, until keep-alive ends, the client leaves, a
//! limit is hit, or shutdown arrives while the connection is idle.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use endpoints::lifecycle::HEARTBEAT_INTERVAL;
use endpoints::{route, Response, Route};

use crate::buffer::ReadBuffer;
use crate::chunked::ChunkedDiscarder;
use crate::handler;
use crate::request::{parse_head, BodyFraming, Parsed, RequestHead};
use crate::response::{ConnectionHeader, ResponseEncoder, CONTINUE};
use crate::server::is_timeout;
use crate::{Config, Shutdown};

/// A client that stops reading its responses cannot hold a thread for longer than this per write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After an error response, how long the server keeps reading (and dropping) what the client still sends before
/// closing, so that the kernel does not answer that data with a reset that destroys the response in flight.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1024 * 1024;

/// What every connection thread shares.
pub(crate) struct Shared {
    pub config: Config,
    pub shutdown: Shutdown,
    /// Held by the one accept thread waiting in accept (see `server::take_turn`).
    pub accept_turn: Mutex<()>,
    pid: u32,
}

impl Shared {
    pub fn new(config: Config, shutdown: Shutdown) -> Self {
        Self { config, shutdown, accept_turn: Mutex::new(()), pid: std::process::id() }
    }
}

/// Buffers a connection thread reuses from one connection to the next.
pub(crate) struct ThreadState {
    buffer: ReadBuffer,
    out: Vec<u8>,
    encoder: Option<ResponseEncoder>,
}

impl ThreadState {
    pub fn new() -> Self {
        Self { buffer: ReadBuffer::new(), out: Vec::with_capacity(1024), encoder: None }
    }
}

/// Serves `stream` until it is done with; never panics on what the client sends.
pub(crate) fn serve(stream: TcpStream, shared: &Shared, state: &mut ThreadState) {
    let accepted_at = Instant::now();
    if let Err(error) = configure(&stream) {
        tracing::debug!(%error, "cannot configure an accepted connection");
        return;
    }
    state.buffer.clear();
    let encoder = state.encoder.get_or_insert_with(|| ResponseEncoder::new(shared.pid));
    let mut connection = Connection {
        stream,
        shared,
        buffer: &mut state.buffer,
        out: &mut state.out,
        encoder,
        read_timeout: None,
        served: 0,
        accepted_at,
    };
    connection.serve_requests();
}

fn configure(stream: &TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))
}

/// What the connection does with one complete head: everything owned, so the read buffer is free again.
#[derive(Debug)]
struct Plan {
    head_len: usize,
    /// The route to run, or the ready refusal (404, 405, 400 on a bad query value).
    answer: Result<Route, Response>,
    head_only: bool,
    keep_alive: bool,
    http10: bool,
    body: BodyFraming,
    expect_continue: bool,
}

impl Plan {
    fn new(head: &RequestHead<'_>, shared: &Shared) -> Self {
        Self {
            head_len: head.head_len,
            answer: route(head.method, head.target, &shared.config.app),
            head_only: head.method == "HEAD",
            keep_alive: head.keep_alive,
            http10: head.minor_version == 0,
            body: head.body,
            expect_continue: head.expect_continue,
        }
    }
}

/// How a read for more bytes ended.
enum Fill {
    Data,
    /// The client closed the connection, or it broke.
    Closed,
    /// The deadline passed without a byte.
    Deadline,
    /// Shutdown was requested while the connection had no request in progress.
    Shutdown,
}

/// Why a request could not be served; the status goes out before the connection closes.
enum Abort {
    Respond {
        status: u16,
        detail: String,
    },
    /// The client is gone, or there is nothing worth answering: just close.
    Silently,
}

/// Idle waits end quietly: no request was started, so there is nothing to answer.
fn expect_data(fill: Fill) -> Result<(), Abort> {
    match fill {
        Fill::Data => Ok(()),
        Fill::Closed | Fill::Deadline | Fill::Shutdown => Err(Abort::Silently),
    }
}

struct Connection<'a> {
    stream: TcpStream,
    shared: &'a Shared,
    buffer: &'a mut ReadBuffer,
    out: &'a mut Vec<u8>,
    encoder: &'a mut ResponseEncoder,
    /// The socket's current SO_RCVTIMEO, so it is only changed when it has to be.
    read_timeout: Option<Duration>,
    /// Responses written on this connection so far.
    served: u64,
    accepted_at: Instant,
}

impl Connection<'_> {
    fn serve_requests(&mut self) {
        loop {
            let keep_open = match self.serve_one() {
                Ok(keep_open) => keep_open,
                Err(Abort::Silently) => return,
                Err(Abort::Respond { status, detail }) => {
                    self.refuse(status, &detail);
                    return;
                }
            };
            if !keep_open {
                self.close();
                return;
            }
        }
    }

    /// Serves the next request; `Ok(true)` when the connection stays open for another.
    fn serve_one(&mut self) -> Result<bool, Abort> {
        let head_deadline = self.wait_for_request()?;
        let plan = self.read_head(head_deadline)?;
        self.buffer.consume(plan.head_len);
        self.discard_body(&plan)?;
        let response = match plan.answer {
            Ok(route) => handler::respond(route, &self.shared.config.upstream),
            Err(refusal) => refusal,
        };
        let keep_open = plan.keep_alive && self.shared.config.keep_alive && !self.shared.shutdown.is_cancelled();
        let connection = match (keep_open, plan.http10) {
            (false, _) => ConnectionHeader::Close,
            (true, true) => ConnectionHeader::KeepAlive,
            (true, false) => ConnectionHeader::Omit,
        };
        self.write_response(&response, plan.head_only, connection).map_err(|_| Abort::Silently)?;
        self.shared.config.hooks.heartbeat();
        Ok(keep_open)
    }

    /// Waits until the next request's first byte is buffered and returns the deadline for its whole head.
    fn wait_for_request(&mut self) -> Result<Instant, Abort> {
        let header_timeout = self.shared.config.header_timeout;
        if self.served == 0 {
            // The first request's head must be complete within the header timeout of the accept.
            let deadline = self.accepted_at + header_timeout;
            if self.buffer.is_empty() {
                expect_data(self.fill(deadline, true))?;
            }
            return Ok(deadline);
        }
        if self.buffer.is_empty() {
            let idle_deadline = Instant::now() + self.shared.config.keep_alive_timeout;
            expect_data(self.fill(idle_deadline, true))?;
        }
        Ok(Instant::now() + header_timeout)
    }

    fn read_head(&mut self, deadline: Instant) -> Result<Plan, Abort> {
        loop {
            let parsed = match parse_head(self.buffer.pending()) {
                Ok(Parsed::Complete(head)) => Some(Plan::new(&head, self.shared)),
                Ok(Parsed::Partial) => None,
                Err(error) => return Err(Abort::Respond { status: error.status(), detail: error.to_string() }),
            };
            if let Some(plan) = parsed {
                return Ok(plan);
            }
            self.fill_or_abort(deadline, "timed out reading the request head")?;
        }
    }

    fn discard_body(&mut self, plan: &Plan) -> Result<(), Abort> {
        if plan.body == BodyFraming::None {
            return Ok(());
        }
        if plan.expect_continue {
            self.stream.write_all(CONTINUE).map_err(|_| Abort::Silently)?;
        }
        let deadline = Instant::now() + self.shared.config.header_timeout;
        match plan.body {
            BodyFraming::None => Ok(()),
            BodyFraming::Length(length) => self.discard_length(length, deadline),
            BodyFraming::Chunked => self.discard_chunked(deadline),
        }
    }

    fn discard_length(&mut self, length: u64, deadline: Instant) -> Result<(), Abort> {
        let mut left = length;
        loop {
            let buffered = self.buffer.pending().len();
            // `taken` is at most `buffered`, a usize.
            let taken = left.min(buffered as u64);
            self.buffer.consume(taken as usize);
            left -= taken;
            if left == 0 {
                return Ok(());
            }
            self.fill_or_abort(deadline, "timed out reading the request body")?;
        }
    }

    fn discard_chunked(&mut self, deadline: Instant) -> Result<(), Abort> {
        let mut decoder = ChunkedDiscarder::new();
        loop {
            let used = decoder
                .advance(self.buffer.pending())
                .map_err(|error| Abort::Respond { status: error.status(), detail: error.to_string() })?;
            self.buffer.consume(used);
            if decoder.is_done() {
                return Ok(());
            }
            if self.buffer.is_full() {
                return Err(Abort::Respond { status: 400, detail: "malformed chunked body".into() });
            }
            self.fill_or_abort(deadline, "timed out reading the request body")?;
        }
    }

    /// Reads more of a request in progress: a timeout is answered 408, a closed connection ends silently.
    fn fill_or_abort(&mut self, deadline: Instant, timeout_detail: &str) -> Result<(), Abort> {
        match self.fill(deadline, false) {
            Fill::Data => Ok(()),
            Fill::Deadline => Err(Abort::Respond { status: 408, detail: timeout_detail.to_owned() }),
            Fill::Closed | Fill::Shutdown => Err(Abort::Silently),
        }
    }

    /// Reads once into the buffer, waiting at most until `deadline`. The wait is cut into heartbeat-long slices;
    /// between them the thread heartbeats and, when `idle`, gives up on shutdown.
    fn fill(&mut self, deadline: Instant, idle: bool) -> Fill {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Fill::Deadline;
            }
            if self.set_read_timeout(left.min(HEARTBEAT_INTERVAL)).is_err() {
                return Fill::Closed;
            }
            match self.buffer.read_from(&mut self.stream) {
                Ok(0) => return Fill::Closed,
                Ok(_) => return Fill::Data,
                Err(error) if is_timeout(&error) => {
                    self.shared.config.hooks.heartbeat();
                    if idle && self.shared.shutdown.is_cancelled() {
                        return Fill::Shutdown;
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Fill::Closed,
            }
        }
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.read_timeout != Some(timeout) {
            self.stream.set_read_timeout(Some(timeout))?;
            self.read_timeout = Some(timeout);
        }
        Ok(())
    }

    fn write_response(&mut self, response: &Response, head_only: bool, connection: ConnectionHeader) -> io::Result<()> {
        self.out.clear();
        self.encoder.encode(self.out, response.status, &response.body, head_only, connection);
        self.stream.write_all(self.out)?;
        self.served += 1;
        self.shared.config.hooks.request_served();
        Ok(())
    }

    /// Answers a request that cannot be served with `status` and closes the connection.
    fn refuse(&mut self, status: u16, detail: &str) {
        let response = Response::error(status, detail);
        if self.write_response(&response, false, ConnectionHeader::Close).is_ok() {
            self.linger_close();
        }
    }

    /// Closes after a served response. Pipelined bytes still buffered mean the client may be sending more:
    /// linger so its unread data does not turn into a reset that could destroy the last response.
    fn close(&mut self) {
        if !self.buffer.is_empty() {
            self.linger_close();
        }
    }

    /// Sends FIN, then reads and drops what the client still sends, for a bounded time and amount.
    fn linger_close(&mut self) {
        if self.stream.shutdown(std::net::Shutdown::Write).is_err() {
            return;
        }
        let deadline = Instant::now() + LINGER_TIME;
        let mut discarded = 0;
        let mut scratch = [0u8; 4096];
        while discarded < LINGER_BYTES {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.stream.read(&mut scratch) {
                Ok(0) => return,
                Ok(count) => discarded += count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}
