//! A streaming decoder for `Transfer-Encoding: chunked` bodies: fed any split of the bytes, it finds where the body
//! ends and counts the data bytes, without copying them. Chunk-size lines are read by `httparse::parse_chunk_size`;
//! only a size line split across reads is copied, into a small buffer. Used by [`super::Connection`].

/// Where the decoder is inside the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line (hex size, optional extensions, line end).
    Size,
    Data {
        remaining: u64,
    },
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    TrailerLine,
    FinalLf,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed chunked body: {0}")]
pub struct ChunkedError(&'static str);

/// What one [`ChunkedDecoder::feed`] call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the input that belong to the body (all of them unless `done`).
    pub consumed: usize,
    /// Chunk data bytes in the consumed input.
    pub data_bytes: u64,
    /// The final empty line was reached; input past `consumed` belongs to the next response.
    pub done: bool,
}

#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// The start of a chunk-size line whose end has not arrived yet.
    partial_line: Vec<u8>,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder { state: State::Size, partial_line: Vec::new() }
    }
}

/// Longest chunk-size line accepted, extensions included: a server's size line is a few bytes, so this only stops
/// an endless line from growing the buffer.
const MAX_SIZE_LINE: usize = 4096;

impl ChunkedDecoder {
    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, ChunkedError> {
        let mut position = 0;
        let mut data_bytes = 0;
        while position < input.len() {
            match self.state {
                State::Done => break,
                State::Data { remaining } => {
                    let take = remaining.min((input.len() - position) as u64);
                    position += take as usize;
                    data_bytes += take;
                    self.state =
                        if take == remaining { State::DataCr } else { State::Data { remaining: remaining - take } };
                }
                State::Size => position += self.size_line(&input[position..])?,
                _ => {
                    self.state = step(self.state, input[position])?;
                    position += 1;
                }
            }
        }
        Ok(Progress { consumed: position, data_bytes, done: self.state == State::Done })
    }

    /// Reads (the next part of) a chunk-size line from `rest` and returns how many bytes it took; at the line's
    /// end the state moves on to the data or the trailers.
    fn size_line(&mut self, rest: &[u8]) -> Result<usize, ChunkedError> {
        let newline = rest.iter().position(|&byte| byte == b'\n');
        let taken = newline.map_or(rest.len(), |at| at + 1);
        // The common case, a whole line in one read, is parsed in place.
        let line = if self.partial_line.is_empty() && newline.is_some() {
            &rest[..taken]
        } else {
            if self.partial_line.len() + taken > MAX_SIZE_LINE {
                return Err(ChunkedError("chunk size line too long"));
            }
            self.partial_line.extend_from_slice(&rest[..taken]);
            &self.partial_line[..]
        };
        let size = parse_size_line(line, newline.is_some())?;
        if let Some(size) = size {
            self.partial_line.clear();
            self.state = if size == 0 { State::TrailerStart } else { State::Data { remaining: size } };
        }
        Ok(taken)
    }
}

/// The size in a chunk-size line, or `None` while the line is unfinished (`complete` says whether it ends in LF).
/// A bare LF line end is accepted, as servers' size lines are read leniently by HTTP clients.
fn parse_size_line(line: &[u8], complete: bool) -> Result<Option<u64>, ChunkedError> {
    // httparse reads an empty line as size 0, so insist on a leading hex digit.
    match line.first() {
        Some(byte) if !byte.is_ascii_hexdigit() => return Err(ChunkedError("missing chunk size")),
        _ => {}
    }
    let bare_lf = complete && !line.ends_with(b"\r\n");
    let parsed = if bare_lf {
        let mut with_crlf = line[..line.len() - 1].to_vec();
        with_crlf.extend_from_slice(b"\r\n");
        httparse::parse_chunk_size(&with_crlf)
    } else {
        httparse::parse_chunk_size(line)
    };
    match parsed {
        Ok(httparse::Status::Complete((_, size))) => Ok(Some(size)),
        // httparse takes an LF inside an extension as part of it; here the first LF ends the line.
        Ok(httparse::Status::Partial) if complete => Err(ChunkedError("bad chunk size line")),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::InvalidChunkSize) => Err(ChunkedError("bad chunk size line")),
    }
}

/// One byte of the framing after chunk data and of the trailers.
fn step(state: State, byte: u8) -> Result<State, ChunkedError> {
    let next = match state {
        State::DataCr => match byte {
            b'\r' => State::DataLf,
            b'\n' => State::Size,
            _ => return Err(ChunkedError("chunk data longer than its size")),
        },
        State::DataLf => match byte {
            b'\n' => State::Size,
            _ => return Err(ChunkedError("CR without LF after chunk data")),
        },
        State::TrailerStart => match byte {
            b'\r' => State::FinalLf,
            b'\n' => State::Done,
            _ => State::TrailerLine,
        },
        State::TrailerLine => match byte {
            b'\n' => State::TrailerStart,
            _ => State::TrailerLine,
        },
        State::FinalLf => match byte {
            b'\n' => State::Done,
            _ => return Err(ChunkedError("CR without LF at the end of the body")),
        },
        State::Size | State::Data { .. } | State::Done => state,
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `piece` bytes; returns (data bytes, consumed bytes) once done.
    fn decode_in_pieces(input: &[u8], piece: usize) -> Result<(u64, usize), ChunkedError> {
        let mut decoder = ChunkedDecoder::default();
        let (mut data, mut consumed) = (0, 0);
        for chunk in input.chunks(piece) {
            let progress = decoder.feed(chunk)?;
            data += progress.data_bytes;
            consumed += progress.consumed;
            if progress.done {
                return Ok((data, consumed));
            }
        }
        Err(ChunkedError("input ended before the body"))
    }

    #[test]
    fn decodes_every_split_of_a_body_with_extensions_and_trailers() {
        let body = b"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\nNEXT";
        for piece in 1..=body.len() {
            assert_eq!(decode_in_pieces(body, piece), Ok((15, body.len() - 4)), "piece {piece}");
        }
    }

    #[test]
    fn empty_body_and_bare_lf_line_endings() {
        assert_eq!(decode_in_pieces(b"0\r\n\r\n", 1), Ok((0, 5)));
        assert_eq!(decode_in_pieces(b"3\nabc\n0\n\n", 2), Ok((3, 9)));
    }

    #[test]
    fn rejects_malformed_framing() {
        for bad in [&b"\r\n"[..], b"zz\r\n", b"3\r\nabcd\r\n0\r\n\r\n", b"3\rx", b"11111111111111111\r\n"] {
            assert!(decode_in_pieces(bad, 1).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_bad_size_line_is_refused_before_its_end_and_an_endless_one_is_cut_off() {
        let mut decoder = ChunkedDecoder::default();
        assert!(decoder.feed(b"3\rx").is_err(), "CR must be followed by LF");
        let mut decoder = ChunkedDecoder::default();
        let mut line = b"5;".to_vec();
        line.resize(MAX_SIZE_LINE, b'x');
        assert_eq!(decoder.feed(&line).map(|progress| progress.consumed), Ok(MAX_SIZE_LINE));
        assert!(decoder.feed(b"x").is_err());
    }

    #[test]
    fn random_input_never_panics() {
        // A small deterministic fuzz: xorshift bytes biased towards framing characters.
        let alphabet = b"0123456789abcdefABCDEF;\r\n \tZ=";
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let mut decoder = ChunkedDecoder::default();
            if let Ok(progress) = decoder.feed(&input) {
                assert!(progress.consumed <= input.len());
            }
        }
    }
}
