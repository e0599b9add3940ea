//! A tiny HTTP/1.1 server for the load generator's flag tests: it records every request it receives (head, body,
//! which connection) and answers `/status/NNN` with that status, anything else with 200. Real sockets, real
//! bytes: what `rustcorn load` sent is what the test reads back.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Echoed {
    /// Which accepted connection carried it (0, 1, ...).
    pub connection: usize,
    /// The request line and headers, CRLFs included.
    pub head: String,
    pub body: Vec<u8>,
}

pub struct EchoServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Echoed>>>,
    connections: Arc<AtomicUsize>,
}

impl EchoServer {
    /// Listens on a free loopback port; threads serve until the test process ends.
    pub fn start() -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the echo server");
        let addr = listener.local_addr().expect("its address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (sink, counter) = (Arc::clone(&received), Arc::clone(&connections));
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let connection = counter.fetch_add(1, Ordering::SeqCst);
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || serve(stream, connection, &sink));
            }
        });
        EchoServer { addr, received, connections }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Echoed> {
        self.received.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn serve(mut stream: TcpStream, connection: usize, sink: &Mutex<Vec<Echoed>>) {
    let mut buffer = Vec::new();
    loop {
        let Some(head_end) = read_until_head_end(&mut stream, &mut buffer) else { return };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let length = header(&head, "content-length").and_then(|value| value.parse::<usize>().ok()).unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            }
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        // HTTP/1.0 closes after the response unless it asks to keep alive (the bench driver's readiness poll
        // is an HTTP/1.0 GET that reads until the close).
        let asked = header(&head, "connection").map(str::to_ascii_lowercase);
        let http10 = head.lines().next().is_some_and(|line| line.ends_with("HTTP/1.0"));
        let close = asked.as_deref() == Some("close") || (http10 && asked.as_deref() != Some("keep-alive"));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|path| path.strip_prefix("/status/"))
            .and_then(|code| code.parse::<u16>().ok())
            .unwrap_or(200);
        sink.lock().unwrap().push(Echoed { connection, head, body });
        let reply = format!(
            "HTTP/1.1 {status} Echo\r\nContent-Length: 4\r\n{}\r\necho",
            if close { "Connection: close\r\n" } else { "" }
        );
        if stream.write_all(reply.as_bytes()).is_err() || close {
            return;
        }
    }
}

/// Reads until `buffer` holds a whole head; its length including the blank line, or None at EOF.
fn read_until_head_end(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            return Some(at + 4);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
    }
}

/// The value of header `name` (case-insensitive) in `head`.
pub fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}
