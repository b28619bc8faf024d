//! `:framing`: cutting a stream's bytes into whole messages, so that a filter gets exactly
//! one message per call (a netproc extension; docs/DIFFERENCES.md, "Extensions").
//!
//! [`Framer`] is pure: bytes go in with [`Framer::push`], whole messages come out of
//! [`Framer::next_message`], in order, with no I/O. It frames *bytes*, before decoding, so
//! a `Content-Length` or a length prefix counts bytes as the peer sent them; delivery.rs
//! then decodes each message on its own (docs/ARCHITECTURE.md).
//!
//! The framings:
//! - `line`: a message ends at LF; the LF, and a CR just before it, are not part of it.
//! - `content-length`: LSP and DAP messages, a header block ending in an empty line
//!   (`CR LF CR LF`) and then exactly `Content-Length` bytes of body. Header fields may come
//!   in any order and `Content-Type` (or any other field) is allowed and ignored; bytes
//!   before the header's first `Content-` are skipped, as Neovim's LSP client skips them
//!   (a server that prints a log line before its first message); names are case-blind.
//! - `(length-prefix N)`: an N-byte big-endian length (1 ≤ N ≤ 8), then that many bytes.
//!
//! A message longer than the maximum (`:framing-max`) is an error as soon as its length is
//! known (a header or prefix saying so, or a line that has gone past it), so what a framer
//! holds stays bounded by the maximum plus one read.

use super::error::{Error, Result};
use super::value::Value;

/// The default `:framing-max`: the longest message, in bytes, a framer accepts. 64 MiB,
/// the size of the default send queue (`DEFAULT_SEND_QUEUE_MAX`): a peer can make netproc
/// hold no more for one message than a host can queue for it.
pub const DEFAULT_FRAMING_MAX: u64 = 64 << 20;

/// The longest `content-length` header block, skipped bytes included. LSP headers are
/// some 30 bytes; without a limit, a peer that never sends the empty line would make the
/// framer hold everything it sends.
pub const HEADER_MAX: usize = 64 << 10;

/// How a stream is cut into messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `line`.
    Line,
    /// `content-length`.
    ContentLength,
    /// `(length-prefix N)`: N bytes of big-endian length.
    LengthPrefix(u8),
}

impl Framing {
    /// Read `:framing`'s value: nil for none, `line`, `content-length` or
    /// `(length-prefix N)`; anything else is `(error "Bad option value for :framing" VALUE)`.
    pub fn from_value(value: &Value) -> Result<Option<Framing>> {
        if value.is_nil() {
            return Ok(None);
        }
        let framing = match value {
            Value::Symbol(name) if name == "line" => Some(Framing::Line),
            Value::Symbol(name) if name == "content-length" => Some(Framing::ContentLength),
            Value::List(items) if items.len() == 2 && items[0].is_symbol("length-prefix") => match items[1] {
                Value::Int(width @ 1..=8) => Some(Framing::LengthPrefix(width as u8)),
                _ => None,
            },
            _ => None,
        };
        framing.map(Some).ok_or_else(|| {
            Error::new(
                super::error::Symbol::Error,
                vec![Value::string("Bad option value for :framing"), value.clone()],
            )
        })
    }

    /// Read `:framing-max`'s value: nil for the default, else a natural number of bytes.
    pub fn max_from_value(value: &Value) -> Result<u64> {
        match value {
            Value::Nil => Ok(DEFAULT_FRAMING_MAX),
            Value::Int(max) if *max >= 0 => Ok(*max as u64),
            other => Err(Error::wrong_type("natnump", other)),
        }
    }
}

/// Why a stream cannot be framed: the process fails with this as its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramingError {
    /// A message longer than the maximum: its length when the header or prefix said it,
    /// None for a line still without its end.
    TooLarge { length: Option<u64>, max: u64 },
    /// A `content-length` header netproc cannot read; what is wrong with it.
    BadHeader(String),
}

impl FramingError {
    /// The reason, as the sentinel's `"failed with code REASON\n"` and
    /// `process-exit-status` show it.
    pub fn reason(&self) -> String {
        match self {
            FramingError::TooLarge { length: Some(length), max } => {
                format!("message too large: {length} bytes, :framing-max is {max}")
            }
            FramingError::TooLarge { length: None, max } => {
                format!("message too large: over {max} bytes, :framing-max is {max}")
            }
            FramingError::BadHeader(what) => format!("bad message header: {what}"),
        }
    }
}

/// Where the next message lies, relative to the first byte not yet delivered.
#[derive(Clone, Copy, Debug)]
struct Frame {
    body_start: usize,
    body_end: usize,
    /// Where the message and what frames it (a line's end) end.
    frame_end: usize,
}

/// The framing state of one stream: the bytes not yet delivered as messages.
#[derive(Debug)]
pub struct Framer {
    framing: Framing,
    max: u64,
    buffer: Vec<u8>,
    /// The first byte of `buffer` not yet delivered.
    start: usize,
    /// How far past `start` a search for a line's end or a header's end has looked, so
    /// that a long message arriving in many reads is searched once.
    scanned: usize,
    /// The next message's place, once its header or prefix is read.
    next: Option<Frame>,
    /// Once the stream cannot be framed, it stays so.
    failed: Option<FramingError>,
}

impl Framer {
    /// An empty framer.
    pub fn new(framing: Framing, max: u64) -> Framer {
        Framer { framing, max, buffer: Vec::new(), start: 0, scanned: 0, next: None, failed: None }
    }

    /// How the framer cuts.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The longest message it accepts.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// A new maximum, for the messages not yet delivered (`set-network-process-option`).
    pub fn set_max(&mut self, max: u64) {
        self.max = max;
        self.next = None;
        self.scanned = 0;
        if matches!(self.failed, Some(FramingError::TooLarge { .. })) {
            self.failed = None;
        }
    }

    /// How many bytes it holds that no message has taken yet.
    pub fn held(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Append bytes as read.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            // What was delivered goes before the buffer grows: a long run of small
            // messages then keeps the buffer at about one read.
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Whether [`Framer::next_message`] has something to give: a whole message, or the
    /// error that ends the stream.
    pub fn ready(&mut self) -> bool {
        match self.frame() {
            Err(_) => true,
            Ok(Some(frame)) => frame.frame_end <= self.held(),
            Ok(None) => false,
        }
    }

    /// The next whole message, if one is there; or why the stream cannot be framed.
    pub fn next_message(&mut self) -> Option<std::result::Result<Vec<u8>, FramingError>> {
        let frame = match self.frame() {
            Err(error) => return Some(Err(error)),
            Ok(None) => return None,
            Ok(Some(frame)) if frame.frame_end > self.held() => return None,
            Ok(Some(frame)) => frame,
        };
        let message = self.buffer[self.start + frame.body_start..self.start + frame.body_end].to_vec();
        self.start += frame.frame_end;
        self.next = None;
        self.scanned = 0;
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        Some(Ok(message))
    }

    /// Everything held that no message has taken, leaving the framer empty: at the end of
    /// the stream (a last line without its LF), or when the framing changes.
    pub fn take_rest(&mut self) -> Vec<u8> {
        let rest = self.buffer.split_off(self.start);
        self.buffer = Vec::new();
        self.start = 0;
        self.scanned = 0;
        self.next = None;
        rest
    }

    /// The next message's place, found once per message.
    fn frame(&mut self) -> std::result::Result<Option<Frame>, FramingError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.next.is_none() {
            let found = match self.framing {
                Framing::Line => self.find_line(),
                Framing::ContentLength => self.find_content_length(),
                Framing::LengthPrefix(width) => self.find_length_prefix(width as usize),
            };
            match found {
                Ok(frame) => self.next = frame,
                Err(error) => {
                    self.failed = Some(error.clone());
                    return Err(error);
                }
            }
        }
        Ok(self.next)
    }

    fn too_large(&self, length: u64) -> std::result::Result<(), FramingError> {
        if length > self.max {
            Err(FramingError::TooLarge { length: Some(length), max: self.max })
        } else {
            Ok(())
        }
    }

    fn find_line(&mut self) -> std::result::Result<Option<Frame>, FramingError> {
        let data = &self.buffer[self.start..];
        let Some(offset) = data[self.scanned..].iter().position(|&byte| byte == b'\n') else {
            self.scanned = data.len();
            // A CR at the end may still be the start of a CR LF, which is not counted.
            let counted = data.len() - usize::from(data.last() == Some(&b'\r'));
            if counted as u64 > self.max {
                return Err(FramingError::TooLarge { length: None, max: self.max });
            }
            return Ok(None);
        };
        let newline = self.scanned + offset;
        let body_end = if newline > 0 && data[newline - 1] == b'\r' { newline - 1 } else { newline };
        self.too_large(body_end as u64)?;
        Ok(Some(Frame { body_start: 0, body_end, frame_end: newline + 1 }))
    }

    fn find_content_length(&mut self) -> std::result::Result<Option<Frame>, FramingError> {
        const END: &[u8] = b"\r\n\r\n";
        let data = &self.buffer[self.start..];
        // The empty line may straddle the previous search's end.
        let from = self.scanned.saturating_sub(END.len() - 1);
        let Some(offset) = find(&data[from..], END) else {
            self.scanned = data.len();
            if data.len() > HEADER_MAX {
                return Err(FramingError::BadHeader(format!("no end of header in {HEADER_MAX} bytes")));
            }
            return Ok(None);
        };
        let header_end = from + offset;
        if header_end > HEADER_MAX {
            return Err(FramingError::BadHeader(format!("no end of header in {HEADER_MAX} bytes")));
        }
        let header = &data[..header_end];
        let length = match find_ignoring_case(header, b"content-") {
            Some(first_field) => content_length(&header[first_field..])?,
            None => None,
        };
        let Some(length) = length else {
            return Err(FramingError::BadHeader(format!("no Content-Length in {}", shown(header))));
        };
        self.too_large(length)?;
        let body_start = header_end + END.len();
        let body_end = body_start.saturating_add(length as usize);
        Ok(Some(Frame { body_start, body_end, frame_end: body_end }))
    }

    fn find_length_prefix(&mut self, width: usize) -> std::result::Result<Option<Frame>, FramingError> {
        let data = &self.buffer[self.start..];
        if data.len() < width {
            return Ok(None);
        }
        let length = data[..width].iter().fold(0u64, |length, &byte| (length << 8) | u64::from(byte));
        self.too_large(length)?;
        let body_end = width.saturating_add(length as usize);
        Ok(Some(Frame { body_start: width, body_end, frame_end: body_end }))
    }
}

/// The value of the last `Content-Length` field of a header block (CR LF separated
/// `Name: value` lines), as Neovim reads it: a line that is no field is an error.
fn content_length(header: &[u8]) -> std::result::Result<Option<u64>, FramingError> {
    let mut length = None;
    for line in header.split(|&byte| byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line).trim_ascii();
        if line.is_empty() {
            continue;
        }
        let field = line.iter().position(|&byte| byte == b':').map(|colon| line.split_at(colon));
        let Some((name, value)) = field.filter(|(name, _)| is_field_name(name.trim_ascii())) else {
            return Err(FramingError::BadHeader(format!("invalid header line {}", shown(line))));
        };
        if name.trim_ascii().eq_ignore_ascii_case(b"content-length") {
            let digits = value[1..].trim_ascii();
            let parsed = std::str::from_utf8(digits)
                .ok()
                .filter(|text| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()))
                .and_then(|text| text.parse::<u64>().ok());
            match parsed {
                Some(parsed) => length = Some(parsed),
                None => {
                    return Err(FramingError::BadHeader(format!("invalid Content-Length {}", shown(digits))))
                }
            }
        }
    }
    Ok(length)
}

/// A header field's name: printable ASCII without spaces.
fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|byte| byte.is_ascii_graphic())
}

/// Bytes of a header for a message: quoted, escaped, cut at 80 bytes.
fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(80)];
    let more = if cut.len() < bytes.len() { "..." } else { "" };
    format!("\"{}{more}\"", cut.escape_ascii())
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// Where `needle` (lower case) first occurs in `haystack`, ignoring ASCII case.
fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(framer: &mut Framer) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| framer.next_message().map(|message| message.unwrap())).collect()
    }

    fn framer(framing: Framing) -> Framer {
        Framer::new(framing, DEFAULT_FRAMING_MAX)
    }

    #[test]
    fn lines_lose_their_ends_and_keep_the_rest() {
        let mut lines = framer(Framing::Line);
        lines.push(b"one\r\ntwo\n\nthree\r");
        assert_eq!(all(&mut lines), [&b"one"[..], b"two", b""]);
        assert!(!lines.ready());
        lines.push(b"\nfour");
        assert_eq!(all(&mut lines), [b"three"]);
        assert_eq!(lines.take_rest(), b"four");
        assert_eq!(lines.held(), 0);
    }

    #[test]
    fn content_length_reads_lsp_and_dap_headers() {
        let mut lsp = framer(Framing::ContentLength);
        lsp.push(b"Content-Length: 2\r\n\r\n{}");
        lsp.push(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length:3\r\n\r\n[1]");
        // Bytes before the header are skipped, as Neovim skips them.
        lsp.push(b"log line\nContent-Length: 1\r\n\r\nx");
        lsp.push(b"Content-Length: 0\r\n\r\n");
        assert_eq!(all(&mut lsp), [&b"{}"[..], b"[1]", b"x", b""]);
    }

    #[test]
    fn content_length_waits_for_the_whole_body() {
        let mut lsp = framer(Framing::ContentLength);
        let message = b"Content-Length: 10\r\n\r\n0123456789";
        for byte in message {
            assert!(lsp.next_message().is_none());
            lsp.push(&[*byte]);
        }
        assert_eq!(all(&mut lsp), [b"0123456789"]);
    }

    #[test]
    fn bad_headers_fail_the_stream() {
        let reason = |input: &[u8]| {
            let mut lsp = framer(Framing::ContentLength);
            lsp.push(input);
            lsp.next_message().unwrap().unwrap_err().reason()
        };
        assert_eq!(
            reason(b"Content-Type: x\r\n\r\n{}"),
            "bad message header: no Content-Length in \"Content-Type: x\""
        );
        assert_eq!(
            reason(b"Content-Length: 1x\r\n\r\n"),
            "bad message header: invalid Content-Length \"1x\""
        );
        assert_eq!(
            reason(b"Content-Length: 1\r\nnonsense\r\n\r\n"),
            "bad message header: invalid header line \"nonsense\""
        );
        let mut endless = framer(Framing::ContentLength);
        endless.push(&vec![b'a'; HEADER_MAX + 1]);
        assert_eq!(
            endless.next_message().unwrap().unwrap_err().reason(),
            "bad message header: no end of header in 65536 bytes"
        );
    }

    #[test]
    fn length_prefixes_are_big_endian() {
        let mut two = framer(Framing::LengthPrefix(2));
        two.push(&[0, 3, b'a', b'b', b'c', 0, 0, 1]);
        assert_eq!(all(&mut two), [&b"abc"[..], b""]);
        assert_eq!(two.held(), 1);
        let mut eight = framer(Framing::LengthPrefix(8));
        eight.push(&[0, 0, 0, 0, 0, 0, 1, 0]);
        eight.push(&[7; 256]);
        assert_eq!(all(&mut eight), [vec![7; 256]]);
    }

    #[test]
    fn messages_over_the_maximum_fail_once_their_length_is_known() {
        let mut lsp = Framer::new(Framing::ContentLength, 4);
        lsp.push(b"Content-Length: 4\r\n\r\nabcdContent-Length: 5\r\n\r\n");
        assert_eq!(lsp.next_message().unwrap().unwrap(), b"abcd");
        let error = lsp.next_message().unwrap().unwrap_err();
        assert_eq!(error.reason(), "message too large: 5 bytes, :framing-max is 4");
        assert!(lsp.ready(), "the failure stays");

        let mut lines = Framer::new(Framing::Line, 3);
        lines.push(b"abc\r");
        assert!(!lines.ready(), "a CR that may start the line's end is not counted");
        lines.push(b"\nabcd");
        assert_eq!(lines.next_message().unwrap().unwrap(), b"abc");
        assert_eq!(
            lines.next_message().unwrap().unwrap_err().reason(),
            "message too large: over 3 bytes, :framing-max is 3"
        );

        let mut prefixed = Framer::new(Framing::LengthPrefix(4), 10);
        prefixed.push(&[0, 0, 0, 11]);
        assert_eq!(
            prefixed.next_message().unwrap().unwrap_err(),
            FramingError::TooLarge { length: Some(11), max: 10 }
        );
    }

    /// A seeded generator (SplitMix64), so that a failure can be replayed.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    /// `count` messages and the stream that carries them in `framing`: lines with LF or
    /// CR LF ends, LSP headers in either field order, with and without bytes to skip
    /// before them, length prefixes; bodies of every byte value a framing allows.
    fn messages_and_stream(framing: Framing, count: usize, random: &mut Random) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut messages = Vec::with_capacity(count);
        let mut stream = Vec::new();
        for _ in 0..count {
            // A one-byte prefix says at most 255.
            let longest = if framing == Framing::LengthPrefix(1) { 256 } else { 300 };
            let length = if random.below(10) == 0 { 0 } else { random.below(longest) };
            let mut body: Vec<u8> = (0..length).map(|_| random.next() as u8).collect();
            match framing {
                Framing::Line => {
                    body.retain(|&byte| byte != b'\n' && byte != b'\r');
                    stream.extend_from_slice(&body);
                    stream.extend_from_slice(if random.below(2) == 0 { b"\n" } else { b"\r\n" });
                }
                Framing::ContentLength => {
                    if random.below(20) == 0 {
                        stream.extend_from_slice(b"12 skipped 34\n");
                    }
                    let header = match random.below(3) {
                        0 => format!("Content-Length: {}\r\n\r\n", body.len()),
                        1 => format!(
                            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        ),
                        _ => format!("content-length:{}\r\nContent-Type: x\r\n\r\n", body.len()),
                    };
                    stream.extend_from_slice(header.as_bytes());
                    stream.extend_from_slice(&body);
                }
                Framing::LengthPrefix(width) => {
                    let prefix = (body.len() as u64).to_be_bytes();
                    stream.extend_from_slice(&prefix[8 - width as usize..]);
                    stream.extend_from_slice(&body);
                }
            }
            messages.push(body);
        }
        (messages, stream)
    }

    fn frame_in_chunks(framing: Framing, stream: &[u8], chunks: impl Iterator<Item = usize>) -> Vec<Vec<u8>> {
        let mut framer = framer(framing);
        let mut out = Vec::new();
        let mut at = 0;
        for size in chunks {
            let end = (at + size).min(stream.len());
            framer.push(&stream[at..end]);
            at = end;
            out.extend(all(&mut framer));
            if at == stream.len() {
                break;
            }
        }
        assert_eq!(at, stream.len());
        assert_eq!(framer.held(), 0, "nothing is left over");
        out
    }

    /// 10,000 messages of each framing, split at every byte boundary (one byte per push),
    /// then coalesced at random (pushes of 1 byte to 64 KiB, many messages each): nothing
    /// lost, merged or reordered.
    #[test]
    fn ten_thousand_messages_survive_every_split() {
        for framing in
            [Framing::Line, Framing::ContentLength, Framing::LengthPrefix(4), Framing::LengthPrefix(1)]
        {
            let mut random = Random(0x5eed_0000 + framing_seed(framing));
            let (messages, stream) = messages_and_stream(framing, 10_000, &mut random);
            let bytewise = frame_in_chunks(framing, &stream, std::iter::repeat(1));
            assert!(bytewise == messages, "{framing:?}: byte by byte");
            for round in 0..3 {
                let sizes = std::iter::from_fn(|| {
                    Some(match random.below(3) {
                        0 => 1 + random.below(16),
                        1 => 1 + random.below(4096),
                        _ => 1 + random.below(65536),
                    })
                });
                let coalesced = frame_in_chunks(framing, &stream, sizes);
                assert!(coalesced == messages, "{framing:?}: coalesced, round {round}");
            }
        }
    }

    fn framing_seed(framing: Framing) -> u64 {
        match framing {
            Framing::Line => 1,
            Framing::ContentLength => 2,
            Framing::LengthPrefix(width) => 10 + u64::from(width),
        }
    }

    #[test]
    fn framing_values() {
        let list = |width| Value::list(vec![Value::symbol("length-prefix"), Value::Int(width)]);
        assert_eq!(Framing::from_value(&Value::Nil).unwrap(), None);
        assert_eq!(Framing::from_value(&Value::symbol("line")).unwrap(), Some(Framing::Line));
        assert_eq!(Framing::from_value(&list(4)).unwrap(), Some(Framing::LengthPrefix(4)));
        let error = Framing::from_value(&list(9)).unwrap_err();
        assert_eq!(error.message(), "Bad option value for :framing: (length-prefix 9)");
        assert!(Framing::from_value(&Value::symbol("lines")).is_err());
        assert_eq!(Framing::max_from_value(&Value::Nil).unwrap(), DEFAULT_FRAMING_MAX);
        assert_eq!(
            Framing::max_from_value(&Value::Int(-1)).unwrap_err().message(),
            "Wrong type argument: natnump, -1"
        );
    }
}
