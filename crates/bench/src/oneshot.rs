//! One-shot HTTP GETs on a fresh connection, read until the server closes it: the readiness poll of external
//! targets (the driver's process module) and the probes that calibrate `cpu_work` ([`crate::cpu_work`]). The request is
//! HTTP/1.0, so every server answers with a plain body (no chunked encoding) and closes the connection after it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Largest answer read; the endpoints answer with a few dozen bytes of JSON.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// A server's answer: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("{0} is not an http:// URL with a host")]
    Url(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the answer is not HTTP: {0}")]
    Malformed(String),
    #[error("the answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

/// `GET url` with `timeout` for the connect and for the whole answer.
pub fn get(url: &str, timeout: Duration) -> Result<Answer, GetError> {
    let parsed = url::Url::parse(url).map_err(|_| GetError::Url(url.to_owned()))?;
    let host = parsed.host_str().ok_or_else(|| GetError::Url(url.to_owned()))?;
    let addr = socket_addr(url).ok_or_else(|| GetError::Url(url.to_owned()))?;
    let mut target = parsed.path().to_owned();
    if let Some(query) = parsed.query() {
        target.push('?');
        target.push_str(query);
    }
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    // One write: `write!` would send each formatted piece in its own syscall (and segment).
    stream.write_all(format!("GET {target} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())?;
    let raw = read_until_closed(&mut stream, deadline, timeout)?;
    parse(&raw)
}

fn read_until_closed(stream: &mut TcpStream, deadline: Instant, timeout: Duration) -> Result<Vec<u8>, GetError> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(GetError::Timeout(timeout));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(raw),
            Ok(read) => {
                raw.extend_from_slice(&buffer[..read]);
                if raw.len() > MAX_ANSWER_BYTES {
                    return Err(GetError::TooLarge);
                }
            }
            Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(GetError::Timeout(timeout));
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error.into()),
        }
    }
}

fn parse(raw: &[u8]) -> Result<Answer, GetError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(raw) {
        Ok(httparse::Status::Complete(head_len)) => {
            let status = response.code.ok_or_else(|| GetError::Malformed("no status code".into()))?;
            Ok(Answer { status, body: raw[head_len..].to_vec() })
        }
        Ok(httparse::Status::Partial) => Err(GetError::Malformed(format!("the head ends early ({} bytes)", raw.len()))),
        Err(error) => Err(GetError::Malformed(error.to_string())),
    }
}

/// The socket address a URL points at.
pub fn socket_addr(url: &str) -> Option<SocketAddr> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    (host.as_str(), parsed.port_or_known_default()?).to_socket_addrs().ok()?.next()
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// A server that answers one connection with `answer` and closes it.
    fn answer_once(answer: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|read| read == 1) {
                    request.push(byte[0]);
                }
                let _ = stream.write_all(answer);
            }
        });
        format!("http://{addr}/cpu-intensive?iterations=5")
    }

    #[test]
    fn reads_status_and_body_until_the_server_closes() {
        let url = answer_once(b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{\"duration\":0.002}");
        let answer = get(&url, Duration::from_secs(5)).expect("an answer");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, b"{\"duration\":0.002}");
    }

    #[test]
    fn garbage_and_silence_are_errors_not_panics() {
        let url = answer_once(b"SSH-2.0-OpenSSH\r\n");
        let answer = get(&url, Duration::from_secs(5));
        assert!(matches!(answer, Err(GetError::Malformed(_))), "{answer:?}");
        let url = answer_once(b"");
        assert!(matches!(get(&url, Duration::from_secs(5)), Err(GetError::Malformed(_))));
        assert!(matches!(get("ftp://x", Duration::from_secs(1)), Err(GetError::Url(_))));
    }
}
