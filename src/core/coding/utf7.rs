//! `utf-7` (RFC 2152) and `utf-7-imap` (RFC 3501's modified UTF-7).
//!
//! Emacs defines both as UTF-8 plus Lisp conversions (`utf-7-decode` and `utf-7-encode` in
//! its `lisp/international/utf-7.el`), run on each read and on each string sent. netproc
//! writes each sent string as `utf-7-encode` does: direct characters as themselves, the
//! escape character as `+-` (`&-`), any other run as the escape, base64 of its UTF-16 without
//! padding (`,` for `/` in IMAP), and `-` after it unless it ends the string (always, in
//! IMAP); a raw byte is U+0020 in the run, as in Emacs. Decoding takes a base64 run up to
//! the first character outside base64, dropping a `-` that ends it, as `utf-7-decode` does,
//! but it keeps its state from one read to the next.
//!
//! Where netproc differs (docs/DIFFERENCES.md): Emacs decodes each read on its own, so a run
//! split between two reads decodes wrongly; a run whose length leaves 6 bits over (invalid
//! base64) makes Emacs's conversion signal an error and lose the read, where netproc drops
//! the 6 bits; and Emacs's encoder cuts a run after 76 base64 characters (the line break
//! `base64-encode-region` inserts), losing the rest, where netproc writes the whole run.

use super::text::{push_raw_byte, runs, Run};
use super::utf::Utf8Decoder;
use super::Utf8Form;

/// The escape character and the 64th base64 digit of each form.
fn escape(imap: bool) -> u8 {
    if imap {
        b'&'
    } else {
        b'+'
    }
}

fn sextet(byte: u8, imap: bool) -> Option<u32> {
    Some(match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b',' if imap => 63,
        b'/' if !imap => 63,
        _ => return None,
    } as u32)
}

#[derive(Clone, Copy, Debug)]
enum State {
    Direct,
    /// Just after the escape character.
    Escape,
    /// Inside a base64 run: the bits not yet used, how many, and a high surrogate waiting
    /// for its low half.
    Run {
        bits: u32,
        count: u32,
        high: Option<u16>,
    },
}

/// Streaming UTF-7 decoder: UTF-8 first, as Emacs's base coding system, then the runs.
#[derive(Clone, Debug)]
pub(crate) struct Utf7Decoder {
    imap: bool,
    utf8: Utf8Decoder,
    state: State,
}

impl Utf7Decoder {
    pub(crate) fn new(imap: bool) -> Utf7Decoder {
        Utf7Decoder { imap, utf8: Utf8Decoder::new(Utf8Form::Plain), state: State::Direct }
    }

    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut text = Vec::with_capacity(input.len());
        self.utf8.decode(input, &mut text);
        self.convert(&text, out);
    }

    /// At the end of the stream: a run or a lone escape character ends.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        let mut text = Vec::new();
        self.utf8.finish(&mut text);
        self.convert(&text, out);
        match std::mem::replace(&mut self.state, State::Direct) {
            State::Direct => {}
            State::Escape => out.push(escape(self.imap)),
            State::Run { bits, count, high } => end_run(bits, count, high, out),
        }
    }

    /// Decode UTF-8 text, byte by byte: everything that matters is ASCII, which never occurs
    /// inside a multibyte character or a raw-byte pair.
    fn convert(&mut self, text: &[u8], out: &mut Vec<u8>) {
        let esc = escape(self.imap);
        for &byte in text {
            self.state = match self.state {
                State::Direct if byte == esc => State::Escape,
                State::Direct => {
                    out.push(byte);
                    State::Direct
                }
                State::Escape if byte == b'-' => {
                    out.push(esc);
                    State::Direct
                }
                State::Escape => match sextet(byte, self.imap) {
                    Some(value) => State::Run { bits: value, count: 6, high: None },
                    None => {
                        out.extend_from_slice(&[esc, byte]);
                        State::Direct
                    }
                },
                State::Run { bits, count, high } => match sextet(byte, self.imap) {
                    Some(value) => add_sextet(bits, count, high, value, out),
                    None => {
                        end_run(bits, count, high, out);
                        if byte != b'-' {
                            out.push(byte);
                        }
                        State::Direct
                    }
                },
            };
        }
    }
}

fn add_sextet(bits: u32, count: u32, high: Option<u16>, value: u32, out: &mut Vec<u8>) -> State {
    let (bits, count) = ((bits << 6 | value) & 0xFF_FFFF, count + 6);
    if count < 16 {
        return State::Run { bits, count, high };
    }
    let count = count - 16;
    let unit = (bits >> count) as u16;
    let high = match (high, unit) {
        (Some(first), 0xDC00..=0xDFFF) => {
            let code = 0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
            push_char(out, char::from_u32(code));
            None
        }
        (waiting, _) => {
            if let Some(first) = waiting {
                push_unit_bytes(out, first);
            }
            match unit {
                0xD800..=0xDBFF => Some(unit),
                0xDC00..=0xDFFF => {
                    push_unit_bytes(out, unit);
                    None
                }
                _ => {
                    push_char(out, char::from_u32(u32::from(unit)));
                    None
                }
            }
        }
    };
    State::Run { bits: bits & ((1 << count) - 1), count, high }
}

/// The end of a run: a waiting surrogate is raw bytes, and a whole byte left over is one
/// character, as Emacs's UTF-16 decoding of an odd byte gives (`+AO-` is NUL).
fn end_run(bits: u32, count: u32, high: Option<u16>, out: &mut Vec<u8>) {
    if let Some(first) = high {
        push_unit_bytes(out, first);
    }
    if count >= 8 {
        push_raw_byte(out, (bits >> (count - 8)) as u8);
    }
}

fn push_unit_bytes(out: &mut Vec<u8>, unit: u16) {
    for byte in unit.to_be_bytes() {
        push_raw_byte(out, byte);
    }
}

fn push_char(out: &mut Vec<u8>, ch: Option<char>) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.unwrap_or(char::REPLACEMENT_CHARACTER).encode_utf8(&mut buf).as_bytes());
}

/// Whether `utf-7-encode` writes `byte` as itself.
fn is_direct(byte: u8, imap: bool) -> bool {
    match byte {
        b'\t' | b'\n' | b'\r' => true,
        b'&' => !imap,
        0x20..=0x7E if imap => true,
        b' '..=b'*' | b','..=b'[' | b']'..=b'}' => true,
        _ => false,
    }
}

/// Encode one string as `utf-7-encode` does (see the module docs).
pub(crate) fn encode(text: &[u8], imap: bool, out: &mut Vec<u8>) {
    let esc = escape(imap);
    // The UTF-16 of the run being gathered.
    let mut units: Vec<u16> = Vec::new();
    for piece in runs(text) {
        match piece {
            Run::Raw(raw) => units.extend(raw.bytes().map(|_| 0x0020)),
            Run::Text(part) => {
                for ch in part.chars() {
                    let byte = u8::try_from(ch).ok().filter(|byte| is_direct(*byte, imap) || *byte == esc);
                    let Some(byte) = byte else {
                        let mut pair = [0u16; 2];
                        units.extend_from_slice(ch.encode_utf16(&mut pair));
                        continue;
                    };
                    if !units.is_empty() {
                        flush_run(&mut units, imap, out, false);
                    }
                    out.push(byte);
                    if byte == esc {
                        out.push(b'-');
                    }
                }
            }
        }
    }
    if !units.is_empty() {
        flush_run(&mut units, imap, out, true);
    }
}

/// Write a run: the escape, base64 of its UTF-16 without padding, and `-` unless the run
/// ends the string (always in IMAP).
fn flush_run(units: &mut Vec<u16>, imap: bool, out: &mut Vec<u8>, at_end: bool) {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.push(escape(imap));
    let bytes: Vec<u8> = units.drain(..).flat_map(u16::to_be_bytes).collect();
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |group, (at, byte)| group | u32::from(*byte) << (16 - 8 * at));
        for digit in 0..=chunk.len() {
            let value = (group >> (18 - 6 * digit)) & 0x3F;
            let digit = DIGITS[value as usize];
            out.push(if imap && digit == b'/' { b',' } else { digit });
        }
    }
    if imap || !at_end {
        out.push(b'-');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(imap: bool, reads: &[&[u8]]) -> Vec<u8> {
        let mut decoder = Utf7Decoder::new(imap);
        let mut out = Vec::new();
        for read in reads {
            decoder.decode(read, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    fn encode_str(text: &str, imap: bool) -> Vec<u8> {
        let mut out = Vec::new();
        encode(text.as_bytes(), imap, &mut out);
        out
    }

    #[test]
    fn emacs_encodes() {
        // (encode-coding-string "a+b&c~\\d" 'utf-7) → a+-b&c+AH4AXA-d; 'utf-7-imap → a+b&-c~\d
        assert_eq!(encode_str("a+b&c~\\d", false), b"a+-b&c+AH4AXA-d");
        assert_eq!(encode_str("a+b&c~\\d", true), b"a+b&-c~\\d");
        // "é" → +AOk (no - at the end), "éa" → +AOk-a; 'utf-7-imap "é" → &AOk-
        assert_eq!(encode_str("é", false), b"+AOk");
        assert_eq!(encode_str("éa", false), b"+AOk-a");
        assert_eq!(encode_str("é", true), b"&AOk-");
        // "日本語" → +ZeVnLIqe; "😀" → +2D3eAA; "é\né" → +AOk- LF +AOk
        assert_eq!(encode_str("日本語", false), b"+ZeVnLIqe");
        assert_eq!(encode_str("😀", false), b"+2D3eAA");
        assert_eq!(encode_str("é\né", false), b"+AOk-\n+AOk");
        // (string ?a #x3fff80 ?é) → a+ACAA6Q: a raw byte is a space
        let mut out = Vec::new();
        encode(b"a\xC0\x80\xC3\xA9", false, &mut out);
        assert_eq!(out, b"a+ACAA6Q");
    }

    #[test]
    fn emacs_decodes() {
        // (decode-coding-string "+AOk-a" 'utf-7) → éa; "+AOka" → é ^Z; "+-" → +; "+AO-" → NUL
        assert_eq!(decode(false, &[b"+AOk-a"]), "éa".as_bytes());
        assert_eq!(decode(false, &[b"+AOka"]), "é\x1A".as_bytes());
        assert_eq!(decode(false, &[b"+-"]), b"+");
        assert_eq!(decode(false, &[b"+AO-"]), b"\0");
        assert_eq!(decode(false, &[b"+ZeVnLIqe-"]), "日本語".as_bytes());
        assert_eq!(decode(false, &[b"+2D3eAA-"]), "😀".as_bytes());
        // 'utf-7-imap: "&AOk-" → é, "&-" → &, "+,/-" stays
        assert_eq!(decode(true, &[b"&AOk-"]), "é".as_bytes());
        assert_eq!(decode(true, &[b"&-", b"+,/-"]), b"&+,/-");
        // A run split between reads decodes whole (Emacs decodes each read on its own).
        assert_eq!(decode(false, &[b"+ZeVn", b"LIqe-x"]), "日本語x".as_bytes());
    }
}
