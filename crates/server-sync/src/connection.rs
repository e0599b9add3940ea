//! Serving one accepted connection on its thread: read a head, discard any body, run the handler, write the
//! response, and again for the next (possibly pipelined) request, until keep-alive ends (by the client, or after
//! the connection's last allowed request), the client leaves, a limit is hit, shutdown arrives before a request is complete, or the connection sits idle while every thread is
//! taken and other connections wait (see [`Connection::fill`]).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use endpoints::Response;
use server_kit::lifecycle::HEARTBEAT_INTERVAL;
use server_kit::listener::wait_for_connection;

use endpoints::http1::plan::{RequestPlan, BODY_TIMEOUT_DETAIL, HEAD_TIMEOUT_DETAIL};
use endpoints::http1::response::{ConnectionHeader, ResponseEncoder, CONTINUE};
use server_kit::http1::body::BodyDiscarder;
use server_kit::http1::buffer::ReadBuffer;
use server_kit::http1::request::{parse_head, BodyFraming, Parsed};

use crate::handler;
use crate::{Config, Shutdown};

/// A client that stops reading its responses cannot hold a thread for longer than this per write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After an error response, how long the server keeps reading (and dropping) what the client still sends before
/// closing, so that the kernel does not answer that data with a reset that destroys the response in flight.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1024 * 1024;
/// While every thread holds a connection, an idle one (nothing sent yet, or between two requests) is looked at
/// this often, and gives its thread up when connections wait in the backlog: a flood of silent sockets then costs
/// each thread about this long per socket instead of the whole header or keep-alive timeout. Like Apache's event
/// MPM, which closes kept-alive connections when it runs out of workers; a client that did send its request has it
/// waiting in the socket by the time it is accepted, so it is served, not dropped.
const SATURATED_IDLE_SLICE: Duration = Duration::from_millis(10);

/// What every connection thread shares.
pub(crate) struct ServerState {
    pub config: Config,
    pub shutdown: Shutdown,
    /// Cancelled when the graceful timeout runs out: the work still running (the CPU loop) gives up.
    pub abandon: Shutdown,
    /// Held by the one accept thread waiting in accept (see `server::take_turn`).
    pub accept_turn: Mutex<()>,
    pid: u32,
    /// Threads holding a connection right now.
    busy: AtomicUsize,
    /// A clone of the listening socket, looked at (never accepted from) to see whether connections wait.
    listener: TcpListener,
}

impl ServerState {
    pub fn new(config: Config, shutdown: Shutdown, listener: TcpListener) -> Self {
        Self {
            config,
            shutdown,
            abandon: Shutdown::new(),
            accept_turn: Mutex::new(()),
            pid: std::process::id(),
            busy: AtomicUsize::new(0),
            listener,
        }
    }

    /// Counts the calling thread as holding a connection until the guard is dropped.
    pub fn enter(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(&self.busy)
    }

    /// Every thread holds a connection: a new one can only wait in the backlog.
    fn saturated(&self) -> bool {
        self.busy.load(Ordering::Relaxed) >= self.config.max_threads.max(1)
    }

    /// Connections wait in the listen backlog (the listening socket is readable).
    fn backlog_waiting(&self) -> bool {
        wait_for_connection(&self.listener, Duration::ZERO).unwrap_or(false)
    }
}

/// A thread's place in [`ServerState`]'s busy count.
pub(crate) struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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
pub(crate) fn serve(stream: TcpStream, shared: &ServerState, state: &mut ThreadState) {
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

/// How a read for more bytes ended.
enum Fill {
    Data,
    /// The client closed the connection, or it broke.
    Closed,
    /// The deadline passed without a byte.
    Deadline,
    /// Shutdown was requested while the connection had no complete request.
    Shutdown,
    /// The connection was idle while every thread was taken and others waited: it gives its thread up.
    Yield,
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
        Fill::Closed | Fill::Deadline | Fill::Shutdown | Fill::Yield => Err(Abort::Silently),
    }
}

struct Connection<'a> {
    stream: TcpStream,
    shared: &'a ServerState,
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
        let response = match &plan.answer {
            Ok(route) => handler::respond(*route, &self.shared.config.upstream, &self.shared.abandon),
            Err(refusal) => refusal.clone(),
        };
        let keep_open = plan.keep_alive
            && self.shared.config.keep_alive
            && !self.is_last_allowed_request()
            && !self.shared.shutdown.is_cancelled();
        let connection = plan.connection_header(keep_open);
        self.write_response(&response, plan.head_only, connection).map_err(|_| Abort::Silently)?;
        self.shared.config.hooks.heartbeat();
        Ok(keep_open)
    }

    /// The response about to be written is the connection's last under `max_keepalive_requests` (0: no bound).
    fn is_last_allowed_request(&self) -> bool {
        let bound = self.shared.config.max_keepalive_requests;
        bound != 0 && self.served + 1 >= bound
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

    fn read_head(&mut self, deadline: Instant) -> Result<RequestPlan, Abort> {
        loop {
            let parsed = match parse_head(self.buffer.pending()) {
                Ok(Parsed::Complete(head)) => Some(RequestPlan::new(&head, &self.shared.config.app)),
                Ok(Parsed::Partial) => None,
                Err(error) => return Err(Abort::Respond { status: error.status(), detail: error.to_string() }),
            };
            if let Some(plan) = parsed {
                return Ok(plan);
            }
            self.fill_or_abort(deadline, HEAD_TIMEOUT_DETAIL)?;
        }
    }

    fn discard_body(&mut self, plan: &RequestPlan) -> Result<(), Abort> {
        if plan.body == BodyFraming::None {
            return Ok(());
        }
        if plan.expect_continue {
            self.stream.write_all(CONTINUE).map_err(|_| Abort::Silently)?;
        }
        let deadline = Instant::now() + self.shared.config.header_timeout;
        let mut body = BodyDiscarder::new(plan.body);
        while !body
            .discard_from(self.buffer)
            .map_err(|error| Abort::Respond { status: error.status(), detail: error.to_string() })?
        {
            self.fill_or_abort(deadline, BODY_TIMEOUT_DETAIL)?;
        }
        Ok(())
    }

    /// Reads more of a request in progress: a timeout is answered 408, a closed connection ends silently.
    fn fill_or_abort(&mut self, deadline: Instant, timeout_detail: &str) -> Result<(), Abort> {
        match self.fill(deadline, false) {
            Fill::Data => Ok(()),
            Fill::Deadline => Err(Abort::Respond { status: 408, detail: timeout_detail.to_owned() }),
            Fill::Closed | Fill::Shutdown | Fill::Yield => Err(Abort::Silently),
        }
    }

    /// Reads once into the buffer, waiting at most until `deadline`. The wait is cut into heartbeat-long slices;
    /// between them the thread heartbeats and gives up on shutdown: only a complete request is worth finishing
    /// then, so an idle or half-received connection is closed at once. An `idle` wait while every thread is taken
    /// uses short slices and yields the thread to a connection waiting in the backlog.
    fn fill(&mut self, deadline: Instant, idle: bool) -> Fill {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Fill::Deadline;
            }
            let saturated = idle && self.shared.saturated();
            let slice = if saturated { SATURATED_IDLE_SLICE } else { HEARTBEAT_INTERVAL };
            if self.set_read_timeout(left.min(slice)).is_err() {
                return Fill::Closed;
            }
            match self.buffer.read_from(&mut self.stream) {
                Ok(0) => return Fill::Closed,
                Ok(_) => return Fill::Data,
                Err(error) if is_timeout(&error) => {
                    self.shared.config.hooks.heartbeat();
                    if self.shared.shutdown.is_cancelled() {
                        return Fill::Shutdown;
                    }
                    if saturated && self.shared.backlog_waiting() {
                        return Fill::Yield;
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

/// A read or accept that ran out its socket timeout (the kernel reports either kind).
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}
