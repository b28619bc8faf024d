//! ISO-2022 7-bit coding systems: `iso-2022-jp` and (the part of it netproc has)
//! `iso-2022-7bit`.
//!
//! The escape sequences and modes are handled here; the characters of the two-byte sets come
//! from `encoding_rs`'s EUC tables (an ISO-2022 code with the high bits set is the EUC code).
//! Behaviour on bad input follows Emacs 28.2: an escape sequence that designates nothing the
//! system knows is passed on as characters, a byte 0x80 or above is a raw byte, control
//! characters (LF included) leave the mode alone, and an unknown two-byte code comes out as
//! its two ASCII characters (Emacs makes a character with no Unicode mapping of it).

use super::cjk::{self, decode_code, encode_code};
use super::text::push_raw_byte;
use super::{Cjk, Iso2022};

const ESC: u8 = 0x1B;

/// A graphic character set that can be designated to G0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Set {
    Ascii,
    /// JIS X 0201 Roman: ASCII with ¥ at 0x5C and ‾ at 0x7E.
    Roman,
    /// JIS X 0201 katakana.
    Katakana,
    Jis0208,
    Jis0212,
    Gb2312,
    Ksc5601,
    /// The upper half of Latin-1, as a 96-character set.
    Latin1,
}

/// `(escape sequence, set, also in iso-2022-jp)`. Encoding writes the first sequence listed
/// for a set.
const DESIGNATIONS: &[(&[u8], Set, bool)] = &[
    (b"\x1B(B", Set::Ascii, true),
    (b"\x1B(J", Set::Roman, true),
    (b"\x1B$B", Set::Jis0208, true),
    (b"\x1B$@", Set::Jis0208, true),
    (b"\x1B$(B", Set::Jis0208, true),
    (b"\x1B$(@", Set::Jis0208, true),
    (b"\x1B(I", Set::Katakana, false),
    (b"\x1B$(D", Set::Jis0212, false),
    (b"\x1B$A", Set::Gb2312, false),
    (b"\x1B$(A", Set::Gb2312, false),
    (b"\x1B$(C", Set::Ksc5601, false),
    (b"\x1B,A", Set::Latin1, false),
];

/// How bytes starting with ESC match the designations of `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Designation {
    /// A complete designation of this many bytes.
    Complete(usize),
    /// The start of one: more bytes are needed.
    Prefix,
    /// None.
    Unknown,
}

fn known(kind: Iso2022) -> impl Iterator<Item = &'static (&'static [u8], Set, bool)> {
    DESIGNATIONS.iter().filter(move |(_, _, in_jp)| kind == Iso2022::SevenBit || *in_jp)
}

/// Match the escape sequence at the start of `bytes` (which start with ESC).
pub(crate) fn designation(kind: Iso2022, bytes: &[u8]) -> Designation {
    let mut prefix = false;
    for (sequence, _, _) in known(kind) {
        if bytes.starts_with(sequence) {
            return Designation::Complete(sequence.len());
        }
        prefix |= sequence.starts_with(bytes);
    }
    if prefix {
        Designation::Prefix
    } else {
        Designation::Unknown
    }
}

fn set_of(kind: Iso2022, sequence: &[u8]) -> Option<Set> {
    known(kind).find(|(known, _, _)| *known == sequence).map(|(_, set, _)| *set)
}

/// Streaming ISO-2022 decoder.
#[derive(Clone, Debug)]
pub(crate) struct Iso2022Decoder {
    kind: Iso2022,
    set: Set,
    /// An escape sequence in progress, or the first byte of a two-byte code.
    pending: Vec<u8>,
}

impl Iso2022Decoder {
    pub(crate) fn new(kind: Iso2022) -> Iso2022Decoder {
        Iso2022Decoder { kind, set: Set::Ascii, pending: Vec::new() }
    }

    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &byte in input {
            if self.pending.first() == Some(&ESC) {
                self.pending.push(byte);
                match designation(self.kind, &self.pending) {
                    Designation::Prefix => continue,
                    Designation::Complete(_) => {
                        if let Some(set) = set_of(self.kind, &self.pending) {
                            self.set = set;
                        }
                        self.pending.clear();
                        continue;
                    }
                    Designation::Unknown => {
                        // Emacs passes an unknown sequence on as characters; the byte that
                        // broke it is looked at afresh.
                        self.pending.pop();
                        out.append(&mut self.pending);
                    }
                }
            }
            self.byte(byte, out);
        }
    }

    /// At the end of the stream, an unfinished escape sequence or code is passed on as the
    /// (ASCII) characters it is made of.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.pending);
    }

    fn byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        if byte == ESC || byte >= 0x80 || !(0x21..=0x7E).contains(&byte) {
            // Not part of a two-byte code: a lead waiting for it is passed on as a character.
            out.append(&mut self.pending);
        }
        if byte == ESC {
            self.pending.push(ESC);
            return;
        }
        if byte >= 0x80 {
            push_raw_byte(out, byte);
            return;
        }
        let single = match self.set {
            Set::Ascii => None,
            Set::Roman => match byte {
                0x5C => Some('¥'),
                0x7E => Some('‾'),
                _ => None,
            },
            Set::Katakana => match byte {
                0x21..=0x5F => char::from_u32(0xFF61 + u32::from(byte) - 0x21),
                _ => None,
            },
            Set::Latin1 => match byte {
                0x20..=0x7F => Some(char::from(byte | 0x80)),
                _ => None,
            },
            Set::Jis0208 | Set::Jis0212 | Set::Gb2312 | Set::Ksc5601 => {
                if (0x21..=0x7E).contains(&byte) {
                    self.two_byte(byte, out);
                    return;
                }
                None
            }
        };
        match single {
            Some(ch) => push_char(out, ch),
            None => out.push(byte),
        }
    }

    fn two_byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        let Some(&lead) = self.pending.first() else {
            self.pending.push(byte);
            return;
        };
        self.pending.clear();
        let (high, low) = (lead | 0x80, byte | 0x80);
        let ch = match self.set {
            Set::Jis0208 => euc_char(Cjk::EucJp, &[high, low]),
            Set::Jis0212 => euc_char(Cjk::EucJp, &[0x8F, high, low]),
            Set::Gb2312 => euc_char(Cjk::EucCn, &[high, low]),
            Set::Ksc5601 => euc_char(Cjk::EucKr, &[high, low]),
            _ => None,
        };
        match ch {
            Some(ch) => push_char(out, ch),
            None => out.extend_from_slice(&[lead, byte]),
        }
    }
}

/// The character of an EUC code, if it is one in Emacs's ranges.
fn euc_char(set: Cjk, code: &[u8]) -> Option<char> {
    (cjk::frame(set, code) == cjk::Frame::Char(code.len())).then(|| decode_code(set, code)).flatten()
}

fn push_char(out: &mut Vec<u8>, ch: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// ISO-2022 encoder. [`Iso2022Encoder::end`] returns to ASCII, as Emacs does at the end of
/// what `encode-coding-string` encodes; text also returns to ASCII before end-of-lines and
/// control characters, which are ASCII.
#[derive(Clone, Debug)]
pub(crate) struct Iso2022Encoder {
    kind: Iso2022,
    set: Set,
}

impl Iso2022Encoder {
    pub(crate) fn new(kind: Iso2022) -> Iso2022Encoder {
        Iso2022Encoder { kind, set: Set::Ascii }
    }

    pub(crate) fn encode_str(&mut self, text: &str, out: &mut Vec<u8>) {
        for ch in text.chars() {
            let (set, bytes) = self.code(ch).unwrap_or((Set::Ascii, [b' ', 0]));
            self.designate(set, out);
            out.push(bytes[0]);
            if bytes[1] != 0 {
                out.push(bytes[1]);
            }
        }
    }

    /// A raw byte goes out as it is, whatever the mode (as in Emacs).
    pub(crate) fn encode_raw(&mut self, byte: u8, out: &mut Vec<u8>) {
        out.push(byte);
    }

    /// Return to ASCII if the text left another set designated.
    pub(crate) fn end(&mut self, out: &mut Vec<u8>) {
        self.designate(Set::Ascii, out);
    }

    fn designate(&mut self, set: Set, out: &mut Vec<u8>) {
        if self.set != set {
            if let Some((sequence, _, _)) = DESIGNATIONS.iter().find(|(_, s, _)| *s == set) {
                out.extend_from_slice(sequence);
            }
            self.set = set;
        }
    }

    /// The set and the 7-bit code (second byte 0 for one-byte codes) of `ch`, trying the
    /// sets in the order Emacs's charset priority picks them in a UTF-8 locale.
    fn code(&self, ch: char) -> Option<(Set, [u8; 2])> {
        if ch.is_ascii() {
            return Some((Set::Ascii, [ch as u8, 0]));
        }
        if self.kind == Iso2022::Jp {
            return match ch {
                '¥' => Some((Set::Roman, [0x5C, 0])),
                '‾' => Some((Set::Roman, [0x7E, 0])),
                _ => euc_pair(Cjk::EucJp, ch).map(|code| (Set::Jis0208, code)),
            };
        }
        if ('\u{A0}'..='\u{FF}').contains(&ch) {
            return Some((Set::Latin1, [ch as u8 & 0x7F, 0]));
        }
        if let Some(code) = euc_pair(Cjk::EucCn, ch) {
            return Some((Set::Gb2312, code));
        }
        if let Some(code) = euc_pair(Cjk::EucJp, ch) {
            return Some((Set::Jis0208, code));
        }
        if let Some(code) = euc_pair(Cjk::EucKr, ch) {
            return Some((Set::Ksc5601, code));
        }
        if ('\u{FF61}'..='\u{FF9F}').contains(&ch) {
            return Some((Set::Katakana, [(ch as u32 - 0xFF61 + 0x21) as u8, 0]));
        }
        None
    }
}

/// The 7-bit form of `ch`'s code in the 94×94 part of an EUC set (both bytes 0xA1–0xFE).
fn euc_pair(set: Cjk, ch: char) -> Option<[u8; 2]> {
    let mut buf = [0u8; 8];
    let len = encode_code(set, ch, &mut buf)?;
    let in_94x94 = len == 2 && buf[..2].iter().all(|b| (0xA1..=0xFE).contains(b));
    in_94x94.then(|| [buf[0] & 0x7F, buf[1] & 0x7F])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(kind: Iso2022, reads: &[&[u8]]) -> String {
        let mut decoder = Iso2022Decoder::new(kind);
        let mut out = Vec::new();
        for read in reads {
            decoder.decode(read, &mut out);
        }
        decoder.finish(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn encode(kind: Iso2022, text: &str) -> Vec<u8> {
        let mut encoder = Iso2022Encoder::new(kind);
        let mut out = Vec::new();
        encoder.encode_str(text, &mut out);
        encoder.end(&mut out);
        out
    }

    #[test]
    fn emacs_decodes() {
        // (decode-coding-string "\e$B$\"\e(Bx" 'iso-2022-jp) → "あx", split anywhere
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B$", b"B$\"", b"\x1B(Bx"]), "あx");
        // "\e(J\\~\e(B\\~" → "¥‾\\~"
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B(J\\~\x1B(B\\~"]), "¥‾\\~");
        // "\e$B$\"\n$\"" → "あ\nあ": a newline does not reset the mode when decoding
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B$B$\"\n$\""]), "あ\nあ");
        // "\e$B$" at the end → "$"; "\e$" → ESC $; "\e$Zx" → ESC $ Z x
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B$B$"]), "$");
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B$"]), "\x1B$");
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B$Zx"]), "\x1B$Zx");
        // iso-2022-jp has no katakana set: "\e(I1" stays as characters; iso-2022-7bit → ｱ
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B(I1\x1B(B"]), "\x1B(I1");
        assert_eq!(decode(Iso2022::SevenBit, &[b"\x1B(I1\x1B(B"]), "ｱ");
        // (decode-coding-string "\e$(C0!\e(B" 'iso-2022-7bit) → 가; "\e$(D0!\e(B" → 丂
        assert_eq!(decode(Iso2022::SevenBit, &[b"\x1B$(C0!\x1B(B"]), "가");
        assert_eq!(decode(Iso2022::SevenBit, &[b"\x1B$(D0!\x1B(B"]), "丂");
        // "\e$A!$\e(B" → U+30FB, as Emacs's GB 2312 has it (GBK's table says U+00B7)
        assert_eq!(decode(Iso2022::SevenBit, &[b"\x1B$A!$\x1B(B"]), "\u{30FB}");
    }

    #[test]
    fn emacs_encodes() {
        // (encode-coding-string "aあ가b" 'iso-2022-jp) → a ESC$B $" ESC(B space b
        assert_eq!(encode(Iso2022::Jp, "aあ가b"), b"a\x1B$B$\"\x1B(B b");
        // "aあ" ends in ASCII: a ESC$B $" ESC(B
        assert_eq!(encode(Iso2022::Jp, "aあ"), b"a\x1B$B$\"\x1B(B");
        // "a‾¥b" → a ESC(J ~ \ ESC(B b
        assert_eq!(encode(Iso2022::Jp, "a‾¥b"), b"a\x1B(J~\\\x1B(Bb");
        // "aｱb" → "a b" in iso-2022-jp; "a ESC(I 1 ESC(B" in iso-2022-7bit
        assert_eq!(encode(Iso2022::Jp, "aｱb"), b"a b");
        assert_eq!(encode(Iso2022::SevenBit, "aｱ"), b"a\x1B(I1\x1B(B");
        // iso-2022-7bit: "aé" → a ESC,A i ESC(B; "a中" → a ESC$A VP ESC(B; "a가" → a ESC$(C 0! ESC(B
        assert_eq!(encode(Iso2022::SevenBit, "aé"), b"a\x1B,Ai\x1B(B");
        assert_eq!(encode(Iso2022::SevenBit, "a中"), b"a\x1B$AVP\x1B(B");
        assert_eq!(encode(Iso2022::SevenBit, "a가"), b"a\x1B$(C0!\x1B(B");
        // "aあ" in iso-2022-7bit → GB 2312 first: a ESC$A $" ESC(B
        assert_eq!(encode(Iso2022::SevenBit, "aあ"), b"a\x1B$A$\"\x1B(B");
    }
}
