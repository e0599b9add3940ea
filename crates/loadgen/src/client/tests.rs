//! The client against hyper's server (content-length and chunked bodies, keep-alive) and against scripted raw
//! servers for the framings and failures hyper does not produce on demand.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// A body hyper must send chunked: its size is unknown up front.
struct Pieces(VecDeque<Bytes>);

impl Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|piece| Ok(Frame::data(piece))))
    }
}

type AnyBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn respond(request: hyper::Request<hyper::body::Incoming>) -> Result<hyper::Response<AnyBody>, Infallible> {
    use http_body_util::BodyExt;
    let path = request.uri().path().to_owned();
    let size = |prefix: &str| path.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
    let response = if let Some(n) = size("/fixed/") {
        hyper::Response::new(Full::new(Bytes::from(vec![b'x'; n])).boxed())
    } else if let Some(n) = size("/chunked/") {
        let pieces = (0..n).map(|i| Bytes::from(vec![b'y'; i % 7 + 1])).collect();
        hyper::Response::new(Pieces(pieces).boxed())
    } else {
        let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"{\"error\":1}")).boxed());
        *response.status_mut() = hyper::StatusCode::NOT_FOUND;
        response
    };
    Ok(response)
}

/// hyper's HTTP/1.1 server on 127.0.0.1:0; counts accepted connections.
async fn hyper_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(respond))
                    .await;
            });
        }
    });
    (addr, connections)
}

/// A raw server that answers each accepted connection's first request with `script`, written in pieces of
/// `piece` bytes, then closes; counts connections.
async fn scripted_server(script: &'static [u8], piece: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            stream.set_nodelay(true).unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            for part in script.chunks(piece) {
                if stream.write_all(part).await.is_err() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
    });
    (addr, connections)
}

fn get(path: &str, addr: SocketAddr) -> Vec<u8> {
    crate::RequestShape::default().encode(path, &addr.to_string())
}

#[tokio::test]
async fn keeps_one_connection_alive_across_fixed_and_chunked_bodies_from_hyper() {
    let (addr, connections) = hyper_server().await;
    let mut connection = Connection::new(addr, true);
    for round in 0..50usize {
        let fixed = connection.exchange(&get(&format!("/fixed/{}", round * 997), addr)).await.unwrap();
        assert_eq!(fixed, Response { status: 200, body_bytes: (round * 997) as u64, worker_pid: None });
        let chunked = connection.exchange(&get(&format!("/chunked/{round}"), addr)).await.unwrap();
        let expected: u64 = (0..round).map(|i| (i % 7 + 1) as u64).sum();
        assert_eq!(chunked, Response { status: 200, body_bytes: expected, worker_pid: None });
    }
    let missing = connection.exchange(&get("/nope", addr)).await.unwrap();
    assert_eq!(missing, Response { status: 404, body_bytes: 11, worker_pid: None });
    assert_eq!(connections.load(Ordering::SeqCst), 1, "every request reused the keep-alive connection");
}

#[tokio::test]
async fn reads_a_large_body_spanning_many_reads() {
    let (addr, _) = hyper_server().await;
    let mut connection = Connection::new(addr, true);
    let response = connection.exchange(&get("/fixed/1000000", addr)).await.unwrap();
    assert_eq!(response.body_bytes, 1_000_000);
}

#[tokio::test]
async fn byte_by_byte_chunked_response_with_interim_100_and_the_worker_pid() {
    let script = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Worker-Pid: 4242\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let (addr, _) = scripted_server(script, 1).await;
    let response = Connection::new(addr, true).exchange(&get("/", addr)).await.unwrap();
    assert_eq!(response, Response { status: 200, body_bytes: 3, worker_pid: Some(4242) });
}

#[tokio::test]
async fn body_until_close_and_connection_close_reconnect() {
    let (addr, connections) = scripted_server(b"HTTP/1.1 200 OK\r\n\r\nall of this", 4).await;
    let mut connection = Connection::new(addr, true);
    for _ in 0..3 {
        assert_eq!(connection.exchange(&get("/", addr)).await.unwrap().body_bytes, 11);
    }
    assert_eq!(connections.load(Ordering::SeqCst), 3, "a body delimited by close cannot be reused");
}

#[tokio::test]
async fn stale_keep_alive_connection_is_retried_once() {
    // The script promises keep-alive, but the server closes after each response: the next request on the same
    // connection meets EOF before any byte and must go out again on a fresh connection.
    let (addr, connections) = scripted_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 64).await;
    let mut connection = Connection::new(addr, true);
    for _ in 0..3 {
        assert_eq!(connection.exchange(&get("/", addr)).await.unwrap().status, 200);
    }
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn truncated_and_malformed_responses_are_errors() {
    let (addr, _) = scripted_server(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 64).await;
    assert!(matches!(Connection::new(addr, true).exchange(&get("/", addr)).await, Err(ExchangeError::Closed)));
    let (addr, _) = scripted_server(b"NOT HTTP AT ALL\r\n\r\n", 64).await;
    assert!(matches!(Connection::new(addr, true).exchange(&get("/", addr)).await, Err(ExchangeError::Head(_))));
    let (addr, _) = scripted_server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 64).await;
    assert!(matches!(Connection::new(addr, true).exchange(&get("/", addr)).await, Err(ExchangeError::Chunked(_))));
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    assert!(matches!(Connection::new(addr, true).exchange(&get("/", addr)).await, Err(ExchangeError::Connect(_))));
}

#[test]
fn head_parsing_reads_framing_and_keep_alive() {
    let head = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n").unwrap().unwrap();
    assert_eq!((head.framing, head.keep_alive), (Framing::Length(5), true));
    let head = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n").unwrap().unwrap();
    assert!(!head.keep_alive);
    let head = parse_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!((head.framing, head.keep_alive), (Framing::Chunked, false));
    let head = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap().unwrap();
    assert_eq!(head.framing, Framing::Length(0));
    assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap().is_none());
    assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").is_err());
}
