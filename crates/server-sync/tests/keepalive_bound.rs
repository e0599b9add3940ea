//! `max_keepalive_requests` over real sockets: the N-th response on a connection says `connection: close` and the
//! server closes it, pipelined requests past the bound go unanswered, 0 keeps the connection for as long as the
//! client likes, and with one thread a client waiting in the backlog gets its turn after the bound although the
//! first client keeps sending.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use endpoints::{AppConfig, UpstreamClient};
use server_kit::lifecycle::{Shutdown, WorkerHooks};
use server_sync::Config;

/// Long enough never to be reached by a working server; a broken one fails the test instead of hanging it.
const GENEROUS: Duration = Duration::from_secs(20);
const GET_HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n";

/// What the server did, in order, as its hooks saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Opened,
    Served,
    Closed,
}

/// Records the server's events; while `held`, the thread that wrote the first response waits in the hook until
/// the test releases it, so the test can line a client up in the backlog at a known point.
#[derive(Default)]
struct Hooks {
    events: Mutex<Vec<Event>>,
    held: Mutex<bool>,
    released: Condvar,
}

impl Hooks {
    fn holding() -> Self {
        Self { held: Mutex::new(true), ..Self::default() }
    }

    fn release(&self) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = false;
        self.released.notify_all();
    }

    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn push(&self, event: Event) {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(event);
    }
}

impl WorkerHooks for Hooks {
    fn request_served(&self) {
        self.push(Event::Served);
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let _held = self.released.wait_timeout_while(held, GENEROUS, |held| *held);
    }
    fn heartbeat(&self) {}
    fn connection_opened(&self) {
        self.push(Event::Opened);
    }
    fn connection_closed(&self) {
        self.push(Event::Closed);
    }
}

struct Server {
    addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<Result<(), server_sync::Error>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn start(max_keepalive_requests: u64, max_threads: usize, hooks: Arc<Hooks>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Nothing listens on port 1: the upstream is never called here.
    let mut config = Config::new(AppConfig::default(), UpstreamClient::new("http://127.0.0.1:1/", None).unwrap());
    config.max_keepalive_requests = max_keepalive_requests;
    config.max_threads = max_threads;
    config.hooks = hooks;
    let shutdown = Shutdown::new();
    let thread = {
        let shutdown = shutdown.clone();
        std::thread::spawn(move || server_sync::run(listener, config, shutdown))
    };
    Server { addr, shutdown, thread: Some(thread) }
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(GENEROUS)).unwrap();
    BufReader::new(stream)
}

/// Reads one response; returns its head (lowercase), or None when the server closed the connection first.
fn read_response(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("the server answers or closes in time") == 0 {
            assert!(head.is_empty(), "closed in the middle of a response head: {head}");
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .expect("every response has a content-length");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the whole body");
    Some(head)
}

fn says_close(head: &str) -> bool {
    head.contains("\r\nconnection: close\r\n")
}

/// After the last response: EOF, nothing more.
fn assert_closed(reader: &mut BufReader<TcpStream>) {
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).expect("closed by the server, not timed out");
    assert!(rest.is_empty(), "bytes after the last response: {}", String::from_utf8_lossy(&rest));
}

fn opened_count(events: &[Event]) -> usize {
    events.iter().filter(|&&event| event == Event::Opened).count()
}

#[test]
fn the_third_response_says_close_and_the_fourth_request_needs_a_new_connection() {
    let hooks = Arc::new(Hooks::default());
    let server = start(3, 4, Arc::clone(&hooks));
    let mut client = connect(server.addr);
    for number in 1..=3 {
        client.get_mut().write_all(GET_HEALTH).unwrap();
        let head = read_response(&mut client).expect("answered");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(says_close(&head), number == 3, "response {number}: {head}");
    }
    assert_closed(&mut client);

    let mut again = connect(server.addr);
    again.get_mut().write_all(GET_HEALTH).unwrap();
    let head = read_response(&mut again).expect("the fourth request is answered on a new connection");
    assert!(head.starts_with("http/1.1 200") && !says_close(&head), "{head}");
    assert_eq!(opened_count(&hooks.events()), 2);
}

#[test]
fn zero_keeps_one_connection_for_ten_requests() {
    let hooks = Arc::new(Hooks::default());
    let server = start(0, 4, Arc::clone(&hooks));
    let mut client = connect(server.addr);
    for number in 1..=10 {
        client.get_mut().write_all(GET_HEALTH).unwrap();
        let head = read_response(&mut client).expect("answered");
        assert!(head.starts_with("http/1.1 200") && !says_close(&head), "response {number}: {head}");
    }
    assert_eq!(opened_count(&hooks.events()), 1, "all ten went over one connection");
}

#[test]
fn a_pipelined_batch_across_the_bound_gets_exactly_the_bound_and_a_close() {
    let hooks = Arc::new(Hooks::default());
    let server = start(3, 4, Arc::clone(&hooks));
    let mut client = connect(server.addr);
    client.get_mut().write_all(&GET_HEALTH.repeat(5)).unwrap();
    let heads: Vec<String> = std::iter::from_fn(|| read_response(&mut client)).collect();
    assert_eq!(heads.len(), 3, "{heads:#?}");
    assert!(heads.iter().all(|head| head.starts_with("http/1.1 200")), "{heads:#?}");
    assert_eq!(heads.iter().map(|head| says_close(head)).collect::<Vec<_>>(), [false, false, true]);
    assert_closed(&mut client);
}

/// One thread; client A sends four requests at once, so its connection is never idle (an idle one would give the
/// thread up to the backlog anyway). Client B connects while A's first response is held, so it waits in the
/// backlog. Returns how many responses A got before B's connection was opened, and B's response head.
fn second_client_behind_a_busy_one(max_keepalive_requests: u64) -> (usize, String) {
    let hooks = Arc::new(Hooks::holding());
    let server = start(max_keepalive_requests, 1, Arc::clone(&hooks));
    let mut first = connect(server.addr);
    first.get_mut().write_all(&GET_HEALTH.repeat(4)).unwrap();
    let head = read_response(&mut first).expect("A's first response");
    assert!(!says_close(&head), "{head}");
    // The only thread is held in the hook after A's first response: B can only wait in the backlog.
    let mut second = connect(server.addr);
    second.get_mut().write_all(GET_HEALTH).unwrap();
    hooks.release();
    let first_answers = 1 + std::iter::from_fn(|| read_response(&mut first)).count();
    drop(first);
    let second_head = read_response(&mut second).expect("B is served");
    let events = hooks.events();
    let opened_b = events.iter().enumerate().filter(|(_, event)| **event == Event::Opened).nth(1);
    let (opened_b, _) = opened_b.expect("B's connection was opened");
    let served_before_b = events[..opened_b].iter().filter(|&&event| event == Event::Served).count();
    assert_eq!(served_before_b, first_answers, "{events:?}");
    (first_answers, second_head)
}

#[test]
fn a_client_in_the_backlog_is_served_after_the_busy_clients_second_request() {
    let (first_answers, second_head) = second_client_behind_a_busy_one(2);
    assert_eq!(first_answers, 2, "A sent four but the bound closes its connection after two");
    assert!(second_head.starts_with("http/1.1 200"), "{second_head}");
}

#[test]
fn without_the_bound_the_client_in_the_backlog_waits_for_all_the_busy_clients_requests() {
    let (first_answers, second_head) = second_client_behind_a_busy_one(0);
    assert_eq!(first_answers, 4, "A is served as long as it sends");
    assert!(second_head.starts_with("http/1.1 200"), "{second_head}");
}
