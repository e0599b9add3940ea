//! The HTTP/1.1 request side both server models speak, on `httparse`: parsing a request head with the shared
//! limits and framing rules ([`request`]), discarding a body ([`body`], [`chunked`]) and the reusable read buffer
//! that keeps pipelined bytes for the next request ([`buffer`]). Routing and writing the answer are the endpoints'.

pub mod body;
pub mod buffer;
pub mod chunked;
pub mod request;
