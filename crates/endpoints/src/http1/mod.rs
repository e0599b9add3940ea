//! The HTTP/1.1 wire both server models speak, on `httparse`: parsing a request head with the shared limits and
//! framing rules ([`request`]), discarding a body ([`body`], [`chunked`]), the reusable read buffer that keeps
//! pipelined bytes for the next request ([`buffer`]), what to do with one request ([`plan`]) and encoding a
//! response ([`response`]). The sync model drives them from a thread per connection, the async model from a task
//! per connection; one parser means one behaviour.

pub mod body;
pub mod buffer;
pub mod chunked;
pub mod plan;
pub mod request;
pub mod response;
