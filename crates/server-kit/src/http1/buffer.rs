//! The read buffer a connection reuses for every request it reads: bytes read but not yet consumed, so that
//! whatever follows one request (a pipelined request) is the start of the next. A sync thread keeps one full-size
//! buffer for every connection it serves; an async connection starts small and grows only for a large head, so
//! thousands of open connections do not each hold the largest head's room.

use std::io::{self, Read};

use crate::limits::MAX_HEADER_BYTES;

/// Room for the largest accepted head; a partial head that fills it is over the limit (431).
pub const READ_BUFFER_BYTES: usize = MAX_HEADER_BYTES;

#[derive(Debug)]
pub struct ReadBuffer {
    /// Allocated room; grows (by doubling) up to [`READ_BUFFER_BYTES`] when the pending bytes fill it.
    bytes: Vec<u8>,
    /// Room allocated at the first read.
    initial: usize,
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
    /// A buffer with room for the largest head from the start.
    pub fn new() -> Self {
        Self { bytes: vec![0; READ_BUFFER_BYTES], initial: READ_BUFFER_BYTES, start: 0, end: 0 }
    }

    /// A buffer that allocates nothing until its first read, then `initial` bytes (at most the full size).
    pub fn growing(initial: usize) -> Self {
        Self { bytes: Vec::new(), initial: initial.clamp(1, READ_BUFFER_BYTES), start: 0, end: 0 }
    }

    /// Bytes read and not consumed yet.
    pub fn pending(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// No room left: the pending bytes take the whole full-size buffer.
    pub fn is_full(&self) -> bool {
        self.end - self.start >= READ_BUFFER_BYTES
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

    /// The free room to read into, after moving pending bytes to the front or growing if needed. Empty only
    /// when the buffer [`is_full`](Self::is_full). Report what was read into it with [`filled`](Self::filled).
    pub fn spare(&mut self) -> &mut [u8] {
        if self.end == self.bytes.len() {
            if self.start > 0 {
                self.bytes.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.bytes.len() < READ_BUFFER_BYTES {
                let room = (self.bytes.len() * 2).clamp(self.initial, READ_BUFFER_BYTES);
                self.bytes.resize(room, 0);
            }
        }
        &mut self.bytes[self.end..]
    }

    /// Counts `count` bytes just read into [`spare`](Self::spare) as pending.
    pub fn filled(&mut self, count: usize) {
        self.end = (self.end + count).min(self.bytes.len());
    }

    /// One `read` into the free space; returns the bytes read, 0 meaning end of stream. Call only when not full.
    pub fn read_from(&mut self, source: &mut impl Read) -> io::Result<usize> {
        let count = source.read(self.spare())?;
        self.filled(count);
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

    #[test]
    fn a_growing_buffer_allocates_late_and_grows_to_the_full_size_only() {
        let mut buffer = ReadBuffer::growing(1024);
        assert_eq!(buffer.bytes.capacity(), 0, "nothing before the first read");
        let filler = vec![b'x'; READ_BUFFER_BYTES * 2];
        let mut source = filler.as_slice();
        assert_eq!(buffer.read_from(&mut source).unwrap(), 1024);
        while !buffer.is_full() {
            buffer.read_from(&mut source).unwrap();
        }
        assert_eq!(buffer.pending().len(), READ_BUFFER_BYTES);
        assert_eq!(buffer.bytes.len(), READ_BUFFER_BYTES, "never past the largest head");
        assert!(buffer.spare().is_empty());
    }
}
