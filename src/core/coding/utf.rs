//! The Unicode coding systems: UTF-8 (with its signature forms) and UTF-16, decoding by hand
//! since both are plain arithmetic and UTF-8 has to be fast.

use super::text::push_raw_bytes;
use super::{Utf16Form, Utf8Form};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Streaming UTF-8 decoder. Valid runs are validated in bulk (SIMD, via simdutf8) and
/// copied whole; only invalid bytes and a character split at the end of a read are handled
/// one at a time.
#[derive(Clone, Debug)]
pub(crate) struct Utf8Decoder {
    /// The start of a character that the last read ended in the middle of (at most 3 bytes).
    pending: [u8; 3],
    pending_len: usize,
    /// Whether the start of the stream has been checked for a BOM.
    bom_checked: bool,
    /// Whether a BOM was found and removed.
    had_bom: bool,
}

impl Utf8Decoder {
    /// Nothing held and the BOM question settled: the next read decodes on its own.
    pub(crate) fn is_clean(&self) -> bool {
        self.pending_len == 0 && self.bom_checked
    }

    pub(crate) fn new(form: Utf8Form) -> Utf8Decoder {
        Utf8Decoder { pending: [0; 3], pending_len: 0, bom_checked: form == Utf8Form::Plain, had_bom: false }
    }

    /// For `utf-8-auto`: whether the stream began with a BOM, once that is known.
    pub(crate) fn signature(&self) -> Option<bool> {
        self.bom_checked.then_some(self.had_bom)
    }

    pub(crate) fn decode(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        if !self.bom_checked {
            match self.strip_bom(input) {
                Some(rest) => input = rest,
                None => return,
            }
        }
        if self.pending_len > 0 {
            let held = self.pending_len;
            let take = input.len().min(3);
            let mut joined = [0u8; 6];
            joined[..held].copy_from_slice(&self.pending[..held]);
            joined[held..held + take].copy_from_slice(&input[..take]);
            let joined = &joined[..held + take];
            let reached = decode_bulk(joined, out);
            if reached < held {
                // Still incomplete: the whole of `input` was too short to finish the character.
                self.hold(&joined[reached..]);
                return;
            }
            input = &input[reached - held..];
            self.pending_len = 0;
        }
        let reached = decode_bulk(input, out);
        self.hold(&input[reached..]);
    }

    /// At the end of the stream, an incomplete character becomes raw bytes.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        push_raw_bytes(out, &self.pending[..self.pending_len]);
        self.pending_len = 0;
    }

    fn hold(&mut self, tail: &[u8]) {
        self.pending[..tail.len()].copy_from_slice(tail);
        self.pending_len = tail.len();
    }

    /// Removes a BOM at the start of the stream. `None` when the bytes so far are a proper
    /// prefix of a BOM, which are then held until more arrive.
    fn strip_bom<'a>(&mut self, input: &'a [u8]) -> Option<&'a [u8]> {
        let held = self.pending_len;
        let mut head = [0u8; 3];
        let take = input.len().min(3 - held);
        head[..held].copy_from_slice(&self.pending[..held]);
        head[held..held + take].copy_from_slice(&input[..take]);
        let head = &head[..held + take];
        if head.len() < 3 && UTF8_BOM.starts_with(head) {
            self.hold(head);
            return None;
        }
        self.bom_checked = true;
        if head == UTF8_BOM {
            self.had_bom = true;
            self.pending_len = 0;
            return Some(&input[take..]);
        }
        // Not a BOM: the held bytes are decoded as the start of an ordinary character.
        Some(input)
    }
}

/// Decode the UTF-8 in `bytes` into `out`, invalid bytes as raw bytes, and return where an
/// incomplete character at the end begins (`bytes.len()` if there is none).
fn decode_bulk(bytes: &[u8], out: &mut Vec<u8>) -> usize {
    // Most reads are valid through and through: check the whole of it at SIMD speed first
    // (std's validator was half the profile of a 1 GiB utf-8 transfer).
    if simdutf8::basic::from_utf8(bytes).is_ok() {
        out.extend_from_slice(bytes);
        return bytes.len();
    }
    let mut at = 0;
    loop {
        match simdutf8::compat::from_utf8(&bytes[at..]) {
            Ok(_) => {
                out.extend_from_slice(&bytes[at..]);
                return bytes.len();
            }
            Err(error) => {
                let valid = error.valid_up_to();
                out.extend_from_slice(&bytes[at..at + valid]);
                at += valid;
                match error.error_len() {
                    Some(bad) => {
                        push_raw_bytes(out, &bytes[at..at + bad]);
                        at += bad;
                    }
                    None => return at,
                }
            }
        }
    }
}

/// Streaming UTF-16 decoder.
#[derive(Clone, Debug)]
pub(crate) struct Utf16Decoder {
    form: Utf16Form,
    big_endian: bool,
    /// Whether the start of the stream has been checked for a BOM.
    bom_checked: bool,
    /// For `utf-16`: the form the BOM revealed.
    detected: Option<Utf16Form>,
    /// An odd byte, or a high surrogate waiting for its low half (at most 3 bytes).
    pending: Vec<u8>,
}

impl Utf16Decoder {
    pub(crate) fn new(form: Utf16Form) -> Utf16Decoder {
        let big_endian = matches!(form, Utf16Form::Be | Utf16Form::Auto | Utf16Form::BeWithSignature);
        let bom_checked = matches!(form, Utf16Form::Le | Utf16Form::Be);
        Utf16Decoder { form, big_endian, bom_checked, detected: None, pending: Vec::new() }
    }

    /// For `utf-16`: the `-with-signature` form its BOM revealed.
    pub(crate) fn detected(&self) -> Option<Utf16Form> {
        self.detected
    }

    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(input);
        let mut at = 0;
        if !self.bom_checked {
            if data.len() < 2 {
                self.pending = data;
                return;
            }
            at = self.check_bom(data[0], data[1]);
        }
        while at + 2 <= data.len() {
            let unit = self.unit(data[at], data[at + 1]);
            match unit {
                0xD800..=0xDBFF => {
                    if at + 4 > data.len() {
                        break;
                    }
                    let low = self.unit(data[at + 2], data[at + 3]);
                    if (0xDC00..=0xDFFF).contains(&low) {
                        let code = 0x10000 + (((unit - 0xD800) as u32) << 10) + (low - 0xDC00) as u32;
                        push_char(out, code);
                        at += 4;
                    } else {
                        push_raw_bytes(out, &data[at..at + 2]);
                        at += 2;
                    }
                }
                0xDC00..=0xDFFF => {
                    push_raw_bytes(out, &data[at..at + 2]);
                    at += 2;
                }
                _ => {
                    push_char(out, unit as u32);
                    at += 2;
                }
            }
        }
        data.drain(..at);
        self.pending = data;
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        push_raw_bytes(out, &self.pending);
        self.pending.clear();
    }

    /// Looks at the first two bytes; returns how many of them are a BOM to skip.
    fn check_bom(&mut self, first: u8, second: u8) -> usize {
        self.bom_checked = true;
        match (self.form, first, second) {
            (Utf16Form::Auto, 0xFE, 0xFF) => {
                self.detected = Some(Utf16Form::BeWithSignature);
                2
            }
            (Utf16Form::Auto, 0xFF, 0xFE) => {
                self.big_endian = false;
                self.detected = Some(Utf16Form::LeWithSignature);
                2
            }
            (Utf16Form::BeWithSignature, 0xFE, 0xFF) | (Utf16Form::LeWithSignature, 0xFF, 0xFE) => 2,
            _ => 0,
        }
    }

    fn unit(&self, first: u8, second: u8) -> u16 {
        if self.big_endian {
            u16::from_be_bytes([first, second])
        } else {
            u16::from_le_bytes([first, second])
        }
    }
}

/// Append the character with code `code` (a Unicode scalar value) as UTF-8.
fn push_char(out: &mut Vec<u8>, code: u32) {
    let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// Whether a UTF-16 form writes big-endian.
pub(crate) fn utf16_big_endian(form: Utf16Form) -> bool {
    matches!(form, Utf16Form::Be | Utf16Form::Auto | Utf16Form::BeWithSignature)
}

/// Whether a UTF-16 form writes a BOM at the start of its output.
pub(crate) fn utf16_writes_bom(form: Utf16Form) -> bool {
    matches!(form, Utf16Form::Auto | Utf16Form::LeWithSignature | Utf16Form::BeWithSignature)
}

/// Append `ch` in UTF-16 with the given byte order.
pub(crate) fn push_utf16(out: &mut Vec<u8>, ch: char, big_endian: bool) {
    let mut units = [0u16; 2];
    for unit in ch.encode_utf16(&mut units) {
        let bytes = if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() };
        out.extend_from_slice(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(form: Utf8Form, reads: &[&[u8]]) -> Vec<u8> {
        let mut decoder = Utf8Decoder::new(form);
        let mut out = Vec::new();
        for read in reads {
            decoder.decode(read, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn split_characters_are_joined() {
        // As Emacs 28.2's read_process_output: C3 then A9 61 gave one "éa".
        assert_eq!(utf8(Utf8Form::Plain, &[b"\xC3", b"\xA9a"]), "éa".as_bytes());
        assert_eq!(utf8(Utf8Form::Plain, &[b"\xF0", b"\x9F", b"\x98", b"\x80"]), "😀".as_bytes());
    }

    #[test]
    fn invalid_and_incomplete_bytes_become_raw() {
        // (decode-coding-string "\377a\303" 'utf-8) → raw FF, a, raw C3
        assert_eq!(utf8(Utf8Form::Plain, &[b"\xFFa\xC3"]), b"\xC1\xBFa\xC1\x83");
        // "\355\240\200" (a surrogate) → three raw bytes, as in Emacs
        assert_eq!(utf8(Utf8Form::Plain, &[b"\xED\xA0\x80"]), b"\xC1\xAD\xC0\xA0\xC0\x80");
        // An incomplete character followed by a non-continuation byte.
        assert_eq!(utf8(Utf8Form::Plain, &[b"\xE3\x81", b"a"]), b"\xC1\xA3\xC0\x81a");
    }

    #[test]
    fn signatures() {
        assert_eq!(utf8(Utf8Form::Plain, &[b"\xEF\xBB\xBFa"]), "\u{FEFF}a".as_bytes());
        assert_eq!(
            utf8(Utf8Form::WithSignature, &[b"\xEF\xBB", b"\xBFab\xEF\xBB\xBF"]),
            "ab\u{FEFF}".as_bytes()
        );
        assert_eq!(utf8(Utf8Form::WithSignature, &[b"\xEF", b"a"]), b"\xC1\xAFa");
        let mut auto = Utf8Decoder::new(Utf8Form::Auto);
        let mut out = Vec::new();
        auto.decode(b"\xEF\xBB", &mut out);
        assert_eq!(auto.signature(), None);
        auto.decode(b"\xBFab", &mut out);
        assert_eq!((auto.signature(), out.as_slice()), (Some(true), &b"ab"[..]));
    }

    #[test]
    fn utf16_bom_and_surrogates() {
        let mut decoder = Utf16Decoder::new(Utf16Form::Auto);
        let mut out = Vec::new();
        decoder.decode(b"\xFF", &mut out);
        decoder.decode(b"\xFEa\x00\x3D", &mut out);
        decoder.decode(b"\xD8\x00\xDE", &mut out);
        decoder.finish(&mut out);
        assert_eq!(out, "a😀".as_bytes());
        assert_eq!(decoder.detected(), Some(Utf16Form::LeWithSignature));
        // utf-16le keeps a BOM as a character: (decode-coding-string "\377\376a\0" 'utf-16le)
        let mut le = Utf16Decoder::new(Utf16Form::Le);
        let mut out = Vec::new();
        le.decode(b"\xFF\xFEa\x00b", &mut out);
        le.finish(&mut out);
        assert_eq!(out, "\u{FEFF}ab".as_bytes());
    }
}
