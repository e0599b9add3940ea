//! A decoder for `Transfer-Encoding: chunked` request bodies that discards the data (the endpoints take no body)
//! while enforcing `MAX_BODY_BYTES`. The connection loop feeds it whatever bytes it has buffered.

use crate::limits::{MAX_BODY_BYTES, MAX_HEADER_BYTES};

/// Where the decoder is in the chunked framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line (hex size, optional extensions, CRLF).
    Size,
    /// Inside chunk data, this many bytes still to skip.
    Data(u64),
    /// Expecting the CRLF that ends a chunk's data.
    DataEnd,
    /// After the last (zero-size) chunk: trailer lines until an empty one.
    Trailers,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChunkedError {
    #[error("malformed chunked body")]
    Malformed,
    #[error("chunked body larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
}

impl ChunkedError {
    pub fn status(&self) -> u16 {
        match self {
            ChunkedError::Malformed => 400,
            ChunkedError::TooLarge => 413,
        }
    }
}

#[derive(Debug)]
pub struct ChunkedDiscarder {
    state: State,
    /// Decoded body bytes so far, checked against `MAX_BODY_BYTES`.
    body_bytes: u64,
    /// Trailer bytes so far, checked against `MAX_HEADER_BYTES`.
    trailer_bytes: usize,
}

impl Default for ChunkedDiscarder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDiscarder {
    pub fn new() -> Self {
        Self { state: State::Size, body_bytes: 0, trailer_bytes: 0 }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes as much of `input` as the framing allows and returns how many bytes it used. Stops at the end
    /// of the body, so bytes after it (a pipelined request) are left for the caller. Using fewer bytes than given
    /// without being done means an incomplete line: call again with more.
    pub fn advance(&mut self, input: &[u8]) -> Result<usize, ChunkedError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            let step = match self.state {
                State::Done => return Ok(used),
                State::Size => self.size_line(rest)?,
                State::Data(remaining) => self.data(rest, remaining),
                State::DataEnd => self.data_end(rest)?,
                State::Trailers => self.trailer_line(rest)?,
            };
            match step {
                Some(consumed) => used += consumed,
                None => return Ok(used),
            }
        }
    }

    fn size_line(&mut self, rest: &[u8]) -> Result<Option<usize>, ChunkedError> {
        // httparse reads an empty line as size 0, so insist on a leading hex digit ourselves.
        match rest.first() {
            None => return Ok(None),
            Some(byte) if !byte.is_ascii_hexdigit() => return Err(ChunkedError::Malformed),
            Some(_) => {}
        }
        match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Complete((consumed, 0))) => {
                self.state = State::Trailers;
                Ok(Some(consumed))
            }
            Ok(httparse::Status::Complete((consumed, size))) => {
                self.body_bytes = self.body_bytes.saturating_add(size);
                if self.body_bytes > MAX_BODY_BYTES {
                    return Err(ChunkedError::TooLarge);
                }
                self.state = State::Data(size);
                Ok(Some(consumed))
            }
            Ok(httparse::Status::Partial) if rest.len() >= MAX_HEADER_BYTES => Err(ChunkedError::Malformed),
            Ok(httparse::Status::Partial) => Ok(None),
            Err(httparse::InvalidChunkSize) => Err(ChunkedError::Malformed),
        }
    }

    fn data(&mut self, rest: &[u8], remaining: u64) -> Option<usize> {
        if rest.is_empty() {
            return None;
        }
        let skipped = remaining.min(rest.len() as u64);
        self.state = if skipped == remaining { State::DataEnd } else { State::Data(remaining - skipped) };
        // `skipped` is at most rest.len(), so it fits in usize.
        Some(skipped as usize)
    }

    fn data_end(&mut self, rest: &[u8]) -> Result<Option<usize>, ChunkedError> {
        match rest {
            [] | [b'\r'] => Ok(None),
            [b'\r', b'\n', ..] => {
                self.state = State::Size;
                Ok(Some(2))
            }
            _ => Err(ChunkedError::Malformed),
        }
    }

    fn trailer_line(&mut self, rest: &[u8]) -> Result<Option<usize>, ChunkedError> {
        let Some(newline) = rest.iter().position(|&byte| byte == b'\n') else {
            if self.trailer_bytes + rest.len() > MAX_HEADER_BYTES {
                return Err(ChunkedError::Malformed);
            }
            return Ok(None);
        };
        let line = &rest[..newline];
        if line != b"\r" && !line.is_empty() {
            self.trailer_bytes += newline + 1;
            if self.trailer_bytes > MAX_HEADER_BYTES {
                return Err(ChunkedError::Malformed);
            }
            return Ok(Some(newline + 1));
        }
        if line.is_empty() {
            // A bare LF ends the trailers only after a CR, as HTTP/1.1 requires CRLF line endings.
            return Err(ChunkedError::Malformed);
        }
        self.state = State::Done;
        Ok(Some(newline + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `body` in pieces of `step` bytes the way a connection would (keeping unused bytes for the next
    /// round) and returns the bytes left over after the body.
    fn discard_in_steps(body: &[u8], step: usize) -> Result<Vec<u8>, ChunkedError> {
        let mut decoder = ChunkedDiscarder::new();
        let mut pending = Vec::new();
        for piece in body.chunks(step) {
            pending.extend_from_slice(piece);
            let used = decoder.advance(&pending)?;
            pending.drain(..used);
            if decoder.is_done() {
                break;
            }
        }
        assert!(decoder.is_done(), "body not finished");
        Ok(pending)
    }

    #[test]
    fn decodes_whole_and_in_single_bytes() {
        let body = b"4\r\nRust\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n";
        for step in [1, 2, 3, 7, body.len()] {
            assert_eq!(discard_in_steps(body, step), Ok(Vec::new()), "step {step}");
        }
    }

    #[test]
    fn leaves_the_next_request_alone() {
        let mut buf = b"3\r\nabc\r\n0\r\n\r\n".to_vec();
        buf.extend_from_slice(b"GET /health HTTP/1.1\r\n\r\n");
        let mut decoder = ChunkedDiscarder::new();
        let used = decoder.advance(&buf).unwrap();
        assert!(decoder.is_done());
        assert_eq!(&buf[used..], b"GET /health HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn malformed_framing_is_refused() {
        for bad in [&b"\r\n"[..], b"zz\r\n", b"3\r\nabcXY", b"0\r\n\n"] {
            let mut decoder = ChunkedDiscarder::new();
            assert_eq!(decoder.advance(bad), Err(ChunkedError::Malformed), "{bad:?}");
        }
        assert_eq!(ChunkedError::Malformed.status(), 400);
    }

    #[test]
    fn enforces_the_body_limit_from_the_sizes_alone() {
        let mut decoder = ChunkedDiscarder::new();
        let size_line = format!("{:x}\r\n", MAX_BODY_BYTES + 1);
        assert_eq!(decoder.advance(size_line.as_bytes()), Err(ChunkedError::TooLarge));

        let mut decoder = ChunkedDiscarder::new();
        let half = format!("{:x}\r\n", MAX_BODY_BYTES / 2 + 1);
        let used = decoder.advance(half.as_bytes()).unwrap();
        assert_eq!(used, half.len());
        let mut second = vec![b'a'; (MAX_BODY_BYTES / 2 + 1) as usize];
        second.extend_from_slice(b"\r\n");
        second.extend_from_slice(half.as_bytes());
        assert_eq!(decoder.advance(&second), Err(ChunkedError::TooLarge));
        assert_eq!(ChunkedError::TooLarge.status(), 413);
    }
}
