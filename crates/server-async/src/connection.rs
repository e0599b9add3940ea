//! One connection of the async model, served by its own task on the HTTP/1.1 path both models share
//! (`endpoints::http1`): read a head, discard any body, run the request, write the response, and again for the next
//! (possibly pipelined) request, until keep-alive ends, the client leaves, a limit or a timeout is hit, or a
//! graceful stop asks it to close after its response. Pipelined responses are gathered and written together.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use endpoints::http1::plan::{RequestPlan, BODY_TIMEOUT_DETAIL, HEAD_TIMEOUT_DETAIL};
use endpoints::http1::response::{ConnectionHeader, ResponseEncoder, CONTINUE};
use endpoints::Response;
use server_kit::http1::body::BodyDiscarder;
use server_kit::http1::buffer::ReadBuffer;
use server_kit::http1::request::{parse_head, BodyFraming, Parsed};
use server_kit::lifecycle::WorkerHooks;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::handler::Handler;
use crate::state::ConnState;

/// Read room a connection allocates at its first read; it grows to the largest head only for a large one, so a
/// flood of idle connections holds little memory.
const INITIAL_READ_BYTES: usize = 1024;
/// A client that stops reading its responses cannot hold a connection for longer than this per write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After a server-side close, how long and how much unread input is drained before the socket is dropped, so
/// that the kernel does not answer that data with a reset that destroys the response in flight.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 2 * 1024 * 1024;
/// Responses to pipelined requests are gathered into one write up to this much.
const MAX_GATHERED_BYTES: usize = 64 * 1024;

/// What every connection task of one server shares.
pub(crate) struct Shared {
    pub(crate) handler: Handler,
    pub(crate) hooks: Arc<dyn WorkerHooks>,
    /// Time a client has for a complete request head (and, once the head is read, for its body).
    pub(crate) header_timeout: Duration,
    pub(crate) worker_pid: u32,
}

thread_local! {
    /// One encoder per runtime thread: its cached `date` text then serves every connection on that thread.
    static ENCODER: std::cell::RefCell<Option<ResponseEncoder>> = const { std::cell::RefCell::new(None) };
}

/// Serves `stream` until it is done with; never panics on what the client sends.
pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>, state: Arc<ConnState>) {
    let accepted_at = Instant::now();
    let timer = tokio::time::sleep_until(accepted_at + shared.header_timeout);
    tokio::pin!(timer);
    let mut connection = Connection {
        stream,
        shared: &shared,
        state: &state,
        buffer: ReadBuffer::growing(INITIAL_READ_BYTES),
        out: Vec::new(),
        served: 0,
        accepted_at,
        timer,
    };
    connection.serve_requests().await;
}

/// One connection counted open with the hooks (the prefork master's balanced accept), from the accept on: the
/// accept loop takes every waiting connection before a new task first runs, so counting there would let one
/// worker take a whole burst. Dropping it, however the connection ended, counts it closed.
pub(crate) struct OpenConnection(Arc<dyn WorkerHooks>);

impl OpenConnection {
    pub(crate) fn new(hooks: Arc<dyn WorkerHooks>) -> Self {
        hooks.connection_opened();
        Self(hooks)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connection_closed();
    }
}

/// How a read for more bytes ended.
enum Fill {
    Data,
    /// The client closed the connection, or it broke.
    Closed,
    /// The deadline passed without a byte.
    Deadline,
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

struct Connection<'a> {
    stream: TcpStream,
    shared: &'a Shared,
    state: &'a ConnState,
    buffer: ReadBuffer,
    /// Responses encoded and not written yet.
    out: Vec<u8>,
    /// Responses encoded on this connection so far.
    served: u64,
    accepted_at: Instant,
    /// The one timer of the connection's reads (see [`Connection::read_until`]).
    timer: Pin<&'a mut Sleep>,
}

impl Connection<'_> {
    async fn serve_requests(&mut self) {
        loop {
            match self.serve_one().await {
                Ok(true) => {}
                Ok(false) => return self.close().await,
                Err(Abort::Silently) => return,
                Err(Abort::Respond { status, detail }) => return self.refuse(status, &detail).await,
            }
        }
    }

    /// Serves the next request; `Ok(true)` when the connection stays open for another.
    async fn serve_one(&mut self) -> Result<bool, Abort> {
        let head_deadline = self.wait_for_request().await?;
        let plan = self.read_head(head_deadline).await?;
        self.buffer.consume(plan.head_len);
        self.discard_body(&plan).await?;
        let response = self.respond(&plan.answer).await;
        let keep_open = plan.keep_alive && !self.state.closing();
        self.encode(&response, plan.head_only, plan.connection_header(keep_open));
        self.state.set_idle();
        // Pipelined requests already read are answered before their responses go out together.
        if !keep_open || self.buffer.is_empty() || self.out.len() >= MAX_GATHERED_BYTES {
            self.flush().await.map_err(|_| Abort::Silently)?;
        }
        Ok(keep_open)
    }

    /// Waits until the next request's first byte is buffered and returns the deadline for its whole head: the
    /// header timeout from the accept for the first request; for later ones, from their first byte, which is
    /// `None` here: the clock is only read if the head is not complete in what was read. A kept-alive connection
    /// waits as long for its next request.
    async fn wait_for_request(&mut self) -> Result<Option<Instant>, Abort> {
        let header_timeout = self.shared.header_timeout;
        let first_deadline = self.accepted_at + header_timeout;
        if self.buffer.is_empty() {
            let idle_deadline = if self.served == 0 { first_deadline } else { Instant::now() + header_timeout };
            match self.fill(idle_deadline).await {
                Fill::Data => {}
                // No request was started, so there is nothing to answer.
                Fill::Closed | Fill::Deadline => return Err(Abort::Silently),
            }
        } else {
            self.state.receiving();
        }
        Ok((self.served == 0).then_some(first_deadline))
    }

    async fn read_head(&mut self, mut deadline: Option<Instant>) -> Result<RequestPlan, Abort> {
        loop {
            match parse_head(self.buffer.pending()) {
                Ok(Parsed::Complete(head)) => return Ok(RequestPlan::new(&head, &self.shared.handler.app)),
                Ok(Parsed::Partial) => {}
                Err(error) => return Err(Abort::Respond { status: error.status(), detail: error.to_string() }),
            }
            let header_timeout = self.shared.header_timeout;
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + header_timeout);
            self.fill_or_abort(deadline, HEAD_TIMEOUT_DETAIL).await?;
        }
    }

    async fn discard_body(&mut self, plan: &RequestPlan) -> Result<(), Abort> {
        if plan.body == BodyFraming::None {
            return Ok(());
        }
        if plan.expect_continue {
            self.out.extend_from_slice(CONTINUE);
            self.flush().await.map_err(|_| Abort::Silently)?;
        }
        let deadline = Instant::now() + self.shared.header_timeout;
        let mut body = BodyDiscarder::new(plan.body);
        while !body
            .discard_from(&mut self.buffer)
            .map_err(|error| Abort::Respond { status: error.status(), detail: error.to_string() })?
        {
            self.fill_or_abort(deadline, BODY_TIMEOUT_DETAIL).await?;
        }
        Ok(())
    }

    /// The response to a complete request: 503 beyond `--limit-concurrency`, else the route's or the refusal.
    async fn respond(&mut self, answer: &Result<endpoints::Route, Response>) -> Response {
        let handler = &self.shared.handler;
        let Some(_slot) = handler.admit() else {
            return Response::error(503, "Service Unavailable: too many requests in flight");
        };
        self.state.set_processing();
        match answer {
            Ok(route) => {
                if !Handler::is_immediate(*route) && self.flush().await.is_err() {
                    return Response::error(500, "the connection broke");
                }
                handler.run(*route).await
            }
            Err(refusal) => refusal.clone(),
        }
    }

    /// Reads more of a request in progress: a timeout is answered 408, a closed connection ends silently.
    async fn fill_or_abort(&mut self, deadline: Instant, timeout_detail: &str) -> Result<(), Abort> {
        match self.fill(deadline).await {
            Fill::Data => Ok(()),
            Fill::Deadline => Err(Abort::Respond { status: 408, detail: timeout_detail.to_owned() }),
            Fill::Closed => Err(Abort::Silently),
        }
    }

    /// Writes what is gathered, then reads once into the buffer, waiting at most until `deadline`.
    async fn fill(&mut self, deadline: Instant) -> Fill {
        if self.flush().await.is_err() {
            return Fill::Closed;
        }
        loop {
            match self.read_until(deadline).await {
                None => return Fill::Deadline,
                Some(Ok(0)) => return Fill::Closed,
                Some(Ok(count)) => {
                    self.buffer.filled(count);
                    self.state.receiving();
                    return Fill::Data;
                }
                Some(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
                Some(Err(_)) => return Fill::Closed,
            }
        }
    }

    /// Reads once into the buffer's spare room, or `None` once `deadline` has passed. The connection's timer stays
    /// armed from one read to the next and is moved only when it fires before the deadline (which has moved on
    /// since it was armed) or when the deadline is earlier than it: a request that arrives in time, the common
    /// case, costs no timer operation (a `timeout_at` per read registered and removed one each time).
    async fn read_until(&mut self, deadline: Instant) -> Option<io::Result<usize>> {
        if self.timer.deadline() > deadline {
            self.timer.as_mut().reset(deadline);
        }
        loop {
            tokio::select! {
                biased;
                read = self.stream.read(self.buffer.spare()) => return Some(read),
                () = self.timer.as_mut() => {
                    if self.timer.deadline() >= deadline {
                        return None;
                    }
                    self.timer.as_mut().reset(deadline);
                }
            }
        }
    }

    fn encode(&mut self, response: &Response, head_only: bool, connection: ConnectionHeader) {
        ENCODER.with_borrow_mut(|encoder| {
            let encoder = encoder.get_or_insert_with(|| ResponseEncoder::new(self.shared.worker_pid));
            encoder.encode(&mut self.out, response.status, &response.body, head_only, connection);
        });
        self.served += 1;
        self.shared.hooks.request_served();
    }

    /// Writes what is gathered. The socket usually takes it all at once; only a rest that has to wait for room
    /// reads the clock and arms the write timeout.
    async fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = match self.stream.try_write(&self.out) {
            Ok(count) if count == self.out.len() => Ok(()),
            Ok(count) => self.write_rest(count).await,
            Err(error) if matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                self.write_rest(0).await
            }
            Err(error) => Err(error),
        };
        self.out.clear();
        result
    }

    /// Writes what is gathered from `from` on, waiting for room at most the write timeout.
    async fn write_rest(&mut self, from: usize) -> io::Result<()> {
        tokio::time::timeout(WRITE_TIMEOUT, self.stream.write_all(&self.out[from..]))
            .await
            .unwrap_or_else(|_elapsed| Err(io::ErrorKind::TimedOut.into()))
    }

    /// Answers a request that cannot be served with `status` and closes the connection.
    async fn refuse(&mut self, status: u16, detail: &str) {
        self.encode(&Response::error(status, detail), false, ConnectionHeader::Close);
        if self.flush().await.is_ok() {
            self.linger_close().await;
        }
    }

    /// Closes after a served response. Pipelined bytes still buffered mean the client may be sending more:
    /// linger so its unread data does not turn into a reset that could destroy the last response.
    async fn close(&mut self) {
        if !self.buffer.is_empty() {
            self.linger_close().await;
        }
    }

    /// Sends FIN, then reads and drops what the client still sends, for a bounded time and amount.
    async fn linger_close(&mut self) {
        if self.stream.shutdown().await.is_err() {
            return;
        }
        let deadline = Instant::now() + LINGER_TIME;
        let mut discarded = 0;
        while discarded < LINGER_BYTES {
            // Into the read buffer: a scratch array here would make every connection's future that much larger.
            self.buffer.clear();
            match self.read_until(deadline).await {
                Some(Ok(count)) if count > 0 => discarded += count,
                Some(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
                _ => return,
            }
        }
    }
}
