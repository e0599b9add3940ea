//! A streaming decoder for `Transfer-Encoding: chunked` bodies: fed any split of the bytes, it finds where the body
//! ends and counts the data bytes, without copying them. Used by [`super::Connection`].

/// Where the decoder is inside the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size; `digits` counts them so an empty size line is an error.
    Size {
        size: u64,
        digits: u8,
    },
    /// Skipping a chunk extension (`;name=value`) or whitespace up to the end of the size line.
    Extension {
        size: u64,
    },
    /// Saw CR after the size line; LF must follow.
    SizeLf {
        size: u64,
    },
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
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder { state: State::Size { size: 0, digits: 0 } }
    }
}

/// Longest chunk size accepted, in hex digits (16 digits = u64).
const MAX_SIZE_DIGITS: u8 = 16;

impl ChunkedDecoder {
    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, ChunkedError> {
        let mut position = 0;
        let mut data_bytes = 0;
        while position < input.len() {
            if let State::Done = self.state {
                break;
            }
            if let State::Data { remaining } = self.state {
                let take = remaining.min((input.len() - position) as u64);
                position += take as usize;
                data_bytes += take;
                self.state =
                    if take == remaining { State::DataCr } else { State::Data { remaining: remaining - take } };
                continue;
            }
            self.state = step(self.state, input[position])?;
            position += 1;
        }
        Ok(Progress { consumed: position, data_bytes, done: self.state == State::Done })
    }
}

/// One byte of framing (everything but chunk data).
fn step(state: State, byte: u8) -> Result<State, ChunkedError> {
    let next = match state {
        State::Size { size, digits } => match byte {
            b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                if digits == MAX_SIZE_DIGITS {
                    return Err(ChunkedError("chunk size too large"));
                }
                let value = (byte as char).to_digit(16).unwrap_or(0) as u64;
                State::Size { size: size << 4 | value, digits: digits + 1 }
            }
            _ if digits == 0 => return Err(ChunkedError("missing chunk size")),
            b';' | b' ' | b'\t' => State::Extension { size },
            b'\r' => State::SizeLf { size },
            b'\n' => end_of_size_line(size),
            _ => return Err(ChunkedError("bad character in chunk size")),
        },
        State::Extension { size } => match byte {
            b'\r' => State::SizeLf { size },
            b'\n' => end_of_size_line(size),
            _ => State::Extension { size },
        },
        State::SizeLf { size } => match byte {
            b'\n' => end_of_size_line(size),
            _ => return Err(ChunkedError("CR without LF after chunk size")),
        },
        State::DataCr => match byte {
            b'\r' => State::DataLf,
            b'\n' => State::Size { size: 0, digits: 0 },
            _ => return Err(ChunkedError("chunk data longer than its size")),
        },
        State::DataLf => match byte {
            b'\n' => State::Size { size: 0, digits: 0 },
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
        State::Data { .. } | State::Done => state,
    };
    Ok(next)
}

fn end_of_size_line(size: u64) -> State {
    if size == 0 {
        State::TrailerStart
    } else {
        State::Data { remaining: size }
    }
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
