//! The multibyte CJK sets (Shift_JIS, CP932, EUC-JP, EUC-KR, CP949, EUC-CN, Big5, GBK,
//! GB18030).
//!
//! netproc frames characters itself, with the byte ranges of Emacs's charsets (which are
//! narrower than the WHATWG encodings': no CP932 or UHC extensions, no HKSCS, no four-byte
//! GBK), and asks `encoding_rs` only for the character of each complete code. This keeps
//! streaming exact (a split character is held, never half-decoded) and makes a byte Emacs
//! would not accept a raw byte. As in Emacs's decoders, an invalid code makes only its first
//! byte raw, and decoding goes on from the next byte.

use encoding_rs::Encoding;

use super::text::push_raw_byte;
use super::web::decode_one;
use super::Cjk;
use super::{chinese, jis};

/// How the bytes at the start of a slice (the first one 0x80 or above) make up a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A complete code of this many bytes.
    Char(usize),
    /// The first byte cannot start a code, or the next byte cannot continue it.
    Invalid,
    /// A code that the slice ends in the middle of.
    Incomplete,
}

fn encoding(set: Cjk) -> &'static Encoding {
    match set {
        Cjk::ShiftJis | Cjk::Cp932 => encoding_rs::SHIFT_JIS,
        Cjk::EucJp | Cjk::EucJpMs => encoding_rs::EUC_JP,
        Cjk::EucKr | Cjk::Cp949 => encoding_rs::EUC_KR,
        Cjk::Big5 => encoding_rs::BIG5,
        Cjk::Gbk | Cjk::EucCn => encoding_rs::GBK,
        Cjk::Gb18030 => encoding_rs::GB18030,
    }
}

/// Each byte of `bytes` is checked against the range for its position; the code is complete
/// when all ranges are met, incomplete when `bytes` runs out first.
fn frame_by_ranges(bytes: &[u8], ranges: &[&[(u8, u8)]]) -> Frame {
    for (position, allowed) in ranges.iter().enumerate() {
        let Some(&byte) = bytes.get(position) else { return Frame::Incomplete };
        if !allowed.iter().any(|&(low, high)| (low..=high).contains(&byte)) {
            return Frame::Invalid;
        }
    }
    Frame::Char(ranges.len())
}

const EUC_BYTE: &[(u8, u8)] = &[(0xA1, 0xFE)];

/// The framing of Emacs's charsets for `set`; `bytes[0]` is 0x80 or above. A JIS X 0208 code
/// in a row Emacs has no characters in is invalid.
pub(crate) fn frame(set: Cjk, bytes: &[u8]) -> Frame {
    let lead = bytes[0];
    let jis_row = |row: u8, frame: Frame| match frame {
        Frame::Char(_) if !jis::row_in_emacs(row) => Frame::Invalid,
        other => other,
    };
    match set {
        Cjk::ShiftJis => match lead {
            0xA1..=0xDF => Frame::Char(1),
            0x81..=0x9F | 0xE0..=0xEF => {
                let frame = frame_by_ranges(bytes, &[&[(lead, lead)], &[(0x40, 0x7E), (0x80, 0xFC)]]);
                jis_row(jis::shift_jis_row(lead, bytes.get(1).copied().unwrap_or(0)), frame)
            }
            _ => Frame::Invalid,
        },
        Cjk::Cp932 => match lead {
            0xA1..=0xDF => Frame::Char(1),
            0x81..=0x9F | 0xE0..=0xFC => {
                frame_by_ranges(bytes, &[&[(lead, lead)], &[(0x40, 0x7E), (0x80, 0xFC)]])
            }
            _ => Frame::Invalid,
        },
        Cjk::EucJp | Cjk::EucJpMs => match lead {
            0x8E => frame_by_ranges(bytes, &[&[(0x8E, 0x8E)], &[(0xA1, 0xDF)]]),
            0x8F => frame_by_ranges(bytes, &[&[(0x8F, 0x8F)], EUC_BYTE, EUC_BYTE]),
            _ if set == Cjk::EucJpMs => {
                let frame = frame_by_ranges(bytes, &[EUC_BYTE, EUC_BYTE]);
                match frame {
                    Frame::Char(_) if !jis::row_in_eucjp_ms(lead.wrapping_sub(0xA0)) => Frame::Invalid,
                    other => other,
                }
            }
            _ => jis_row(lead.wrapping_sub(0xA0), frame_by_ranges(bytes, &[EUC_BYTE, EUC_BYTE])),
        },
        Cjk::EucKr | Cjk::EucCn => frame_by_ranges(bytes, &[EUC_BYTE, EUC_BYTE]),
        Cjk::Cp949 => frame_by_ranges(bytes, &[&[(0x81, 0xFE)], &[(0x41, 0x5A), (0x61, 0x7A), (0x81, 0xFE)]]),
        Cjk::Big5 => frame_by_ranges(bytes, &[&[(0xA1, 0xF9)], &[(0x40, 0x7E), (0xA1, 0xFE)]]),
        Cjk::Gbk => frame_by_ranges(bytes, &[&[(0x81, 0xFE)], &[(0x40, 0x7E), (0x80, 0xFE)]]),
        Cjk::Gb18030 => match bytes.get(1) {
            Some(0x30..=0x39) => {
                frame_by_ranges(bytes, &[&[(0x81, 0xFE)], &[(0x30, 0x39)], &[(0x81, 0xFE)], &[(0x30, 0x39)]])
            }
            _ => frame_by_ranges(bytes, &[&[(0x81, 0xFE)], &[(0x40, 0x7E), (0x80, 0xFE)]]),
        },
    }
}

/// Streaming decoder for one CJK set.
#[derive(Clone, Debug)]
pub(crate) struct CjkDecoder {
    set: Cjk,
    /// The start of a code that the last read ended in the middle of (at most 3 bytes).
    pending: Vec<u8>,
}

impl CjkDecoder {
    pub(crate) fn new(set: Cjk) -> CjkDecoder {
        CjkDecoder { set, pending: Vec::new() }
    }

    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if self.pending.is_empty() {
            let held = decode_codes(self.set, input, out, false);
            self.pending.extend_from_slice(&input[held..]);
        } else {
            let mut data = std::mem::take(&mut self.pending);
            data.extend_from_slice(input);
            let held = decode_codes(self.set, &data, out, false);
            data.drain(..held);
            self.pending = data;
        }
    }

    /// At the end of the stream, an incomplete code becomes raw bytes (its ASCII bytes stay
    /// characters).
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        let data = std::mem::take(&mut self.pending);
        decode_codes(self.set, &data, out, true);
    }
}

/// Decode `bytes`; returns where an incomplete code at the end starts (unless `last`, when
/// it is decoded as raw bytes like an invalid one).
fn decode_codes(set: Cjk, bytes: &[u8], out: &mut Vec<u8>, last: bool) -> usize {
    let mut at = 0;
    while at < bytes.len() {
        let ascii = bytes[at..].iter().position(|&b| b >= 0x80).unwrap_or(bytes.len() - at);
        out.extend_from_slice(&bytes[at..at + ascii]);
        at += ascii;
        if at == bytes.len() {
            break;
        }
        match frame(set, &bytes[at..]) {
            Frame::Char(len) => match decode_code(set, &bytes[at..at + len]) {
                Some(ch) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    at += len;
                }
                None => {
                    push_raw_byte(out, bytes[at]);
                    at += 1;
                }
            },
            Frame::Incomplete if !last => return at,
            Frame::Invalid | Frame::Incomplete => {
                push_raw_byte(out, bytes[at]);
                at += 1;
            }
        }
    }
    at
}

/// Encoder for one CJK set.
#[derive(Clone, Debug)]
pub(crate) struct CjkEncoder {
    set: Cjk,
    /// EUC-JP: JIS X 0201 Roman is designated to G0 (Emacs's `japanese-iso-8bit` writes ¥
    /// and ‾ as `ESC ( J` and the Roman byte, and returns to ASCII with `ESC ( B` only before
    /// a control character, the space that stands for a character it lacks, or at the end).
    roman: bool,
}

impl CjkEncoder {
    pub(crate) fn new(set: Cjk) -> CjkEncoder {
        CjkEncoder { set, roman: false }
    }

    /// Encode text; a character the set lacks becomes a space, as Emacs's default.
    pub(crate) fn encode_str(&mut self, text: &str, out: &mut Vec<u8>) {
        let mut rest = text;
        while !rest.is_empty() {
            let ascii = rest.bytes().position(|b| b >= 0x80).unwrap_or(rest.len());
            let (plain, after) = rest.split_at(ascii);
            self.ascii(plain.as_bytes(), out);
            rest = after;
            let Some(ch) = rest.chars().next() else { break };
            let mut buf = [0u8; 8];
            match (self.set, ch) {
                (Cjk::EucJp | Cjk::EucJpMs, '¥' | '‾') => {
                    if !self.roman {
                        out.extend_from_slice(b"\x1B(J");
                        self.roman = true;
                    }
                    out.push(if ch == '¥' { b'\\' } else { b'~' });
                }
                _ => match encode_code(self.set, ch, &mut buf) {
                    Some(len) => out.extend_from_slice(&buf[..len]),
                    None => {
                        // The space that stands for it is an ASCII one.
                        self.end(out);
                        out.push(b' ');
                    }
                },
            }
            rest = &rest[ch.len_utf8()..];
        }
    }

    fn ascii(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if self.roman {
            if let Some(control) = bytes.iter().position(|&b| b < 0x20) {
                out.extend_from_slice(&bytes[..control]);
                self.end(out);
                out.extend_from_slice(&bytes[control..]);
                return;
            }
        }
        out.extend_from_slice(bytes);
    }

    /// Return to ASCII, if Roman is designated.
    pub(crate) fn end(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.roman) {
            out.extend_from_slice(b"\x1B(B");
        }
    }
}

/// The character of one complete code (as framed by [`frame`]), as Emacs maps it.
pub(crate) fn decode_code(set: Cjk, code: &[u8]) -> Option<char> {
    match (set, code) {
        (Cjk::EucCn, &[lead, trail]) => {
            let web = decode_one(encoding(set), code).filter(|_| chinese::gb2312_assigned(lead, trail));
            return web.map(chinese::gb2312_to_emacs);
        }
        (Cjk::Big5, &[lead, trail]) => {
            if let Some(emacs) = chinese::big5_override(u16::from_be_bytes([lead, trail])) {
                return emacs;
            }
        }
        (Cjk::EucJpMs, _) => {
            if let Some(ch) = jis::eucjp_ms_char(code) {
                return Some(ch);
            }
        }
        (Cjk::Gbk, &[lead, trail]) => {
            let web = decode_one(encoding(set), code)?;
            return chinese::gbk_assigned(u16::from_be_bytes([lead, trail]), web).then_some(web);
        }
        _ => {}
    }
    let ch = decode_one(encoding(set), code)?;
    let jis0208 = match set {
        Cjk::ShiftJis => code.len() == 2,
        Cjk::EucJp | Cjk::EucJpMs => code.len() == 2 && code[0] != 0x8E,
        _ => false,
    };
    Some(if jis0208 { jis::to_emacs(ch) } else { ch })
}

/// The code of non-ASCII `ch` in `set`, written to `buf`; its length, or `None` if the set
/// (as Emacs has it) lacks the character.
pub(crate) fn encode_code(set: Cjk, ch: char, buf: &mut [u8; 8]) -> Option<usize> {
    if let Some(len) = cp932_user_defined(ch, buf).filter(|_| set == Cjk::Cp932) {
        return Some(len);
    }
    if let Some(len) = jis::eucjp_ms_code(ch, buf).filter(|_| set == Cjk::EucJpMs) {
        return Some(len);
    }
    if let Some(code) = chinese::big5_code(ch).filter(|_| set == Cjk::Big5) {
        buf[..2].copy_from_slice(&code.to_be_bytes());
        return Some(2);
    }
    let lookup = match set {
        Cjk::ShiftJis | Cjk::EucJp | Cjk::EucJpMs => jis::to_web(ch),
        Cjk::EucCn => Some(chinese::gb2312_to_web(ch)),
        _ => Some(ch),
    };
    if let Some(len) = lookup.and_then(|web| encode_web(set, web, ch, buf)) {
        return Some(len);
    }
    // Emacs's euc-jp falls back on JIS X 0212, which WHATWG's encoder never writes.
    let [high, low] = jis::jis0212_code(ch).filter(|_| matches!(set, Cjk::EucJp | Cjk::EucJpMs))?;
    buf[..3].copy_from_slice(&[0x8F, high, low]);
    Some(3)
}

/// CP932's user-defined area, F040–F9FC, which decodes to U+E000–U+E757: the WHATWG encoder
/// never writes it, Emacs's `japanese-cp932` does.
fn cp932_user_defined(ch: char, buf: &mut [u8; 8]) -> Option<usize> {
    let index = (ch as u32).checked_sub(0xE000).filter(|index| *index < 10 * 188)?;
    let (lead, trail) = (index / 188, index % 188);
    let trail = if trail < 0x3F { 0x40 + trail } else { 0x41 + trail };
    buf[..2].copy_from_slice(&[0xF0 + lead as u8, trail as u8]);
    Some(2)
}

/// The WHATWG encoder's code for `web`, the character it has for Emacs's `ch`. Those encoders
/// also map some characters to codes that decode to a different one (U+2212 to the code of
/// U+FF0D, U+00A5 to 0x5C); a code is used only if it frames as one character in Emacs's
/// ranges and decodes back to `ch` there.
fn encode_web(set: Cjk, web: char, ch: char, buf: &mut [u8; 8]) -> Option<usize> {
    let encoding = encoding(set);
    let mut encoder = encoding.new_encoder();
    let mut utf8 = [0u8; 4];
    let (result, _, written) =
        encoder.encode_from_utf8_without_replacement(web.encode_utf8(&mut utf8), buf, true);
    if result != encoding_rs::EncoderResult::InputEmpty || written == 0 || buf[0] < 0x80 {
        return None;
    }
    let code = &buf[..written];
    (frame(set, code) == Frame::Char(written) && decode_code(set, code) == Some(ch)).then_some(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(set: Cjk, reads: &[&[u8]]) -> Vec<u8> {
        let mut decoder = CjkDecoder::new(set);
        let mut out = Vec::new();
        for read in reads {
            decoder.decode(read, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    fn encode(set: Cjk, text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = CjkEncoder::new(set);
        encoder.encode_str(text, &mut out);
        encoder.end(&mut out);
        out
    }

    #[test]
    fn emacs_decodes() {
        // (decode-coding-string "\202\240\377\200" 'shift_jis) → あ, raw \377, raw \200
        assert_eq!(decode(Cjk::ShiftJis, &[b"\x82\xA0\xFF\x80"]), b"\xE3\x81\x82\xC1\xBF\xC0\x80");
        // (decode-coding-string "\244\242" 'euc-jp) → あ
        assert_eq!(decode(Cjk::EucJp, &[b"\xA4", b"\xA2"]), "あ".as_bytes());
        // (decode-coding-string "\260\241\377" 'euc-kr) → 가, raw \377
        assert_eq!(decode(Cjk::EucKr, &[b"\xB0\xA1\xFF"]), b"\xEA\xB0\x80\xC1\xBF");
        // (decode-coding-string "\244@\377" 'big5) → 一, raw \377
        assert_eq!(decode(Cjk::Big5, &[b"\xA4@\xFF"]), b"\xE4\xB8\x80\xC1\xBF");
        // (decode-coding-string "\201\60\201\60" 'gb18030) → U+0080
        assert_eq!(decode(Cjk::Gb18030, &[b"\x81\x30", b"\x81", b"\x30"]), "\u{80}".as_bytes());
        // (decode-coding-string "\200" 'gbk) and 'gb18030 → raw \200
        assert_eq!(decode(Cjk::Gbk, &[b"\x80"]), b"\xC0\x80");
        assert_eq!(decode(Cjk::Gb18030, &[b"\x80"]), b"\xC0\x80");
        // (decode-coding-string "\241\244\260\241\377" 'euc-cn) → ・ (not ·), 啊, raw \377
        assert_eq!(decode(Cjk::EucCn, &[b"\xA1\xA4\xB0", b"\xA1\xFF"]), b"\xE3\x83\xBB\xE5\x95\x8A\xC1\xBF");
        // (decode-coding-string "\201A\310\260" 'cp949) → U+AC02 U+D65C (UHC's extension, then KS X 1001)
        assert_eq!(decode(Cjk::Cp949, &[b"\x81A\xC8\xB0"]), "\u{AC02}\u{D65C}".as_bytes());
        // (decode-coding-string "\207@\360@\200\240" 'cp932) → ① U+E000, raw \200 and \240
        assert_eq!(decode(Cjk::Cp932, &[b"\x87@\xF0@\x80\xA0"]), b"\xE2\x91\xA0\xEE\x80\x80\xC0\x80\xC0\xA0");
        // A lead byte at the very end is delivered raw at close.
        assert_eq!(decode(Cjk::ShiftJis, &[b"a\x82"]), b"a\xC0\x82");
    }

    #[test]
    fn emacs_encodes() {
        // (encode-coding-string "a가b" 'shift_jis) → "a b"
        assert_eq!(encode(Cjk::ShiftJis, "a가b"), b"a b");
        // (encode-coding-string "a‾¥b" 'shift_jis) → "a  b"
        assert_eq!(encode(Cjk::ShiftJis, "a‾¥b"), b"a  b");
        // 'euc-jp → a ESC ( J ~ \ b ESC ( B; "¥\n" → ESC ( J \ ESC ( B \n
        assert_eq!(encode(Cjk::EucJp, "a‾¥b"), b"a\x1B(J~\\b\x1B(B");
        assert_eq!(encode(Cjk::EucJp, "¥\n"), b"\x1B(J\\\x1B(B\n");
        // (encode-coding-string "aｱb" 'shift_jis) → a \261 b; 'euc-jp → a \216\261 b
        assert_eq!(encode(Cjk::ShiftJis, "aｱb"), b"a\xB1b");
        assert_eq!(encode(Cjk::EucJp, "aｱb"), b"a\x8E\xB1b");
        // (encode-coding-string "a😀b" 'gb18030) → a \224\071\374\066 b; 'gbk → "a b"
        assert_eq!(encode(Cjk::Gb18030, "a😀b"), b"a\x94\x39\xFC\x36b");
        assert_eq!(encode(Cjk::Gbk, "a😀b"), b"a b");
        // (encode-coding-string "€" 'gbk) → " "; 'gb18030 → \242\343
        assert_eq!(encode(Cjk::Gbk, "€"), b" ");
        assert_eq!(encode(Cjk::Gb18030, "€"), b"\xA2\xE3");
        // (encode-coding-string "a・―·—中b" 'euc-cn) → a \241\244 \241\252 space space \326\320 b
        assert_eq!(encode(Cjk::EucCn, "a・―·—中b"), b"a\xA1\xA4\xA1\xAA  \xD6\xD0b");
        // (encode-coding-string "a갂b" 'cp949) → a \201A b
        assert_eq!(encode(Cjk::Cp949, "a갂b"), b"a\x81Ab");
        // (encode-coding-string "a\ue000\ue757\x80①" 'cp932) → a \360@ \371\374 space \207@:
        // Emacs writes the user-defined area, which WHATWG's encoder leaves out
        assert_eq!(encode(Cjk::Cp932, "a\u{E000}\u{E757}\u{80}①"), b"a\xF0@\xF9\xFC \x87@");
    }
}
