//! Discarding a request body (the endpoints take none) out of the connection's read buffer, whatever its framing,
//! so that the bytes after it are the next request. Both models feed it each read until it says the body is done.

use crate::http1::buffer::ReadBuffer;
use crate::http1::chunked::{ChunkedDiscarder, ChunkedError};
use crate::http1::request::BodyFraming;

/// Where a body being discarded stands.
#[derive(Debug)]
pub enum BodyDiscarder {
    /// Bytes of a Content-Length body still to come (0: no body, or all of it consumed).
    Length(u64),
    Chunked(ChunkedDiscarder),
}

impl BodyDiscarder {
    pub fn new(framing: BodyFraming) -> Self {
        match framing {
            BodyFraming::None => Self::Length(0),
            BodyFraming::Length(length) => Self::Length(length),
            BodyFraming::Chunked => Self::Chunked(ChunkedDiscarder::new()),
        }
    }

    /// Consumes the body's bytes at the start of `buffer`, leaving whatever follows the body. True once the whole
    /// body is consumed; false means read more and call again.
    pub fn discard_from(&mut self, buffer: &mut ReadBuffer) -> Result<bool, ChunkedError> {
        match self {
            Self::Length(left) => {
                // `taken` is at most the buffered length, a usize.
                let taken = (*left).min(buffer.pending().len() as u64);
                buffer.consume(taken as usize);
                *left -= taken;
                Ok(*left == 0)
            }
            Self::Chunked(decoder) => {
                let used = decoder.advance(buffer.pending())?;
                buffer.consume(used);
                if decoder.is_done() {
                    return Ok(true);
                }
                // A chunk-size or trailer line as long as the whole buffer can never complete.
                if buffer.is_full() {
                    return Err(ChunkedError::Malformed);
                }
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer holding `bytes`.
    fn holding(bytes: &[u8]) -> ReadBuffer {
        let mut buffer = ReadBuffer::new();
        let mut source = bytes;
        buffer.read_from(&mut source).unwrap();
        buffer
    }

    #[test]
    fn a_length_body_is_consumed_across_reads_and_the_next_request_left() {
        let mut body = BodyDiscarder::new(BodyFraming::Length(5));
        let mut buffer = holding(b"hel");
        assert_eq!(body.discard_from(&mut buffer), Ok(false));
        assert!(buffer.is_empty());
        let mut buffer = holding(b"loGET /");
        assert_eq!(body.discard_from(&mut buffer), Ok(true));
        assert_eq!(buffer.pending(), b"GET /");
        assert_eq!(BodyDiscarder::new(BodyFraming::None).discard_from(&mut buffer), Ok(true));
        assert_eq!(buffer.pending(), b"GET /");
    }

    #[test]
    fn a_chunked_body_ends_at_its_last_chunk_and_an_endless_line_is_malformed() {
        let mut body = BodyDiscarder::new(BodyFraming::Chunked);
        let mut buffer = holding(b"3\r\nabc\r\n0\r\n\r\nGET /");
        assert_eq!(body.discard_from(&mut buffer), Ok(true));
        assert_eq!(buffer.pending(), b"GET /");
        let mut body = BodyDiscarder::new(BodyFraming::Chunked);
        let mut buffer = holding(b"3\r\nabc\r\n0\r\nX-Trailer: ");
        assert_eq!(body.discard_from(&mut buffer), Ok(false));
        let mut endless = holding(&vec![b'a'; crate::http1::buffer::READ_BUFFER_BYTES]);
        assert_eq!(body.discard_from(&mut endless), Err(ChunkedError::Malformed));
    }
}
