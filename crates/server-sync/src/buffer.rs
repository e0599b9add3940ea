//! The read buffer a connection thread reuses for every connection it serves: bytes read but not yet consumed,
//! so that whatever follows one request (a pipelined request) is the start of the next.

use std::io::{self, Read};

use server_kit::limits::MAX_HEADER_BYTES;

/// Room for the largest accepted head; a partial head that fills it is over the limit (431).
pub const READ_BUFFER_BYTES: usize = MAX_HEADER_BYTES;

#[derive(Debug)]
pub struct ReadBuffer {
    bytes: Box<[u8]>,
    /// Start of the unconsumed bytes.
    start: usize,
    /// End of the bytes read so far.
    end: usize,
}

impl Default for ReadBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl ReadBuffer {
    pub fn new() -> Self {
        Self { bytes: vec![0; READ_BUFFER_BYTES].into_boxed_slice(), start: 0, end: 0 }
    }

    /// Bytes read and not consumed yet.
    pub fn pending(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// No room left even after moving the pending bytes to the front.
    pub fn is_full(&self) -> bool {
        self.end - self.start == self.bytes.len()
    }

    pub fn consume(&mut self, count: usize) {
        self.start = (self.start + count).min(self.end);
        if self.start == self.end {
            self.clear();
        }
    }

    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// One `read` into the free space (after moving pending bytes to the front if needed); returns the bytes
    /// read, 0 meaning end of stream. Call only when not full.
    pub fn read_from(&mut self, source: &mut impl Read) -> io::Result<usize> {
        if self.end == self.bytes.len() {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let count = source.read(&mut self.bytes[self.end..])?;
        self.end += count;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumed_bytes_leave_the_rest_pending() {
        let mut buffer = ReadBuffer::new();
        let mut source: &[u8] = b"GET /a\r\n\r\nGET /b";
        buffer.read_from(&mut source).unwrap();
        buffer.consume(10);
        assert_eq!(buffer.pending(), b"GET /b");
        buffer.consume(6);
        assert!(buffer.is_empty());
    }

    #[test]
    fn compacts_when_the_tail_is_reached() {
        let mut buffer = ReadBuffer::new();
        let filler = vec![b'x'; READ_BUFFER_BYTES];
        buffer.read_from(&mut filler.as_slice()).unwrap();
        assert!(buffer.is_full());
        buffer.consume(READ_BUFFER_BYTES - 3);
        let mut more: &[u8] = b"yz";
        assert_eq!(buffer.read_from(&mut more).unwrap(), 2);
        assert_eq!(buffer.pending(), b"xxxyz");
    }
}
