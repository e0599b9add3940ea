//! The endpoints' side of the HTTP/1.1 wire both server models speak: what to do with one parsed request
//! ([`plan`]: route it, keep the connection or not) and encoding a handler's answer ([`response`]). Parsing the
//! request head, discarding a body and the read buffer are server plumbing, in `server_kit::http1`. The sync model
//! drives them from a thread per connection, the async model from a task per connection; one parser means one
//! behaviour.

pub mod plan;
pub mod response;
