//! Request limits shared by every server model, so that malformed input gets the same status from each.

use std::time::Duration;

/// Largest request head (request line + headers) accepted; beyond it the answer is 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header fields accepted; beyond it the answer is 431.
pub const MAX_HEADERS: usize = 100;
/// Largest request body accepted (the endpoints take none); beyond it the answer is 413.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;
/// Default time a client has to send a complete request head before the connection is closed.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
