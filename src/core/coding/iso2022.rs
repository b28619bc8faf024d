//! The ISO-2022 7-bit coding systems: `iso-2022-jp`, `iso-2022-kr`, `iso-2022-jp-2`,
//! `japanese-iso-7bit-1978-irv` and (the part of it netproc has) `iso-2022-7bit`.
//!
//! The escape sequences, shifts and modes are handled here; which sets each system has, and
//! their characters, are in `iso2022_sets.rs`. Behaviour on bad input follows Emacs 28.2's
//! `decode_coding_iso_2022`: an escape sequence that designates nothing the system knows is
//! passed on as characters, a byte 0x80 or above is a raw byte, control characters (LF
//! included) leave the mode alone, and an unknown two-byte code comes out as its two ASCII
//! characters (Emacs makes a character with no Unicode mapping of it). Shift out (SO) and
//! in (SI) work in `iso-2022-kr` only, SO only once a set is designated to G1; the single
//! shift `ESC N` in `iso-2022-jp-2` only, once a set is designated to G2.

use super::iso2022_sets::{
    self, code_bytes, code_of, designation_of, designations, double_char, is_double, single_char,
};
use super::iso2022_sets::{Designation, Plane, Set};
use super::text::push_raw_byte;
use super::Iso2022;

const ESC: u8 = 0x1B;
const SO: u8 = 0x0E;
const SI: u8 = 0x0F;

/// How bytes starting with ESC match the designations of a system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Match {
    /// A complete designation of this many bytes.
    Complete(usize),
    /// The start of one: more bytes are needed.
    Prefix,
    /// None.
    Unknown,
}

/// Match the escape sequence at the start of `bytes` (which start with ESC) against the
/// designations of `kind` to G0 (those that change what ASCII bytes mean).
pub(crate) fn designation(kind: Iso2022, bytes: &[u8]) -> Match {
    let mut prefix = false;
    for designation in designations(kind).filter(|designation| designation.plane == Plane::G0) {
        if bytes.starts_with(designation.bytes()) {
            return Match::Complete(designation.bytes().len());
        }
        prefix |= designation.bytes().starts_with(bytes);
    }
    if prefix {
        Match::Prefix
    } else {
        Match::Unknown
    }
}

enum Found {
    Designation(Designation),
    Prefix,
    Unknown,
}

fn find_designation(kind: Iso2022, bytes: &[u8]) -> Found {
    let mut prefix = false;
    for designation in designations(kind) {
        if bytes.starts_with(designation.bytes()) {
            return Found::Designation(designation);
        }
        prefix |= designation.bytes().starts_with(bytes);
    }
    if prefix {
        Found::Prefix
    } else {
        Found::Unknown
    }
}

/// Streaming ISO-2022 decoder.
#[derive(Clone, Debug)]
pub(crate) struct Iso2022Decoder {
    kind: Iso2022,
    /// The sets designated to G0–G3.
    planes: [Option<Set>; 4],
    /// Whether SO invoked G1.
    shifted: bool,
    /// Whether `ESC N` was just read: the next byte is one of G2.
    single_shift: bool,
    /// An escape sequence in progress, or the first byte of a two-byte code.
    pending: Vec<u8>,
}

impl Iso2022Decoder {
    pub(crate) fn new(kind: Iso2022) -> Iso2022Decoder {
        // japanese-iso-7bit-1978-irv starts with JIS X 0201 Roman in G0 (its `:designation`),
        // though a designation of Roman means ASCII there.
        let g0 = if kind == Iso2022::Jp1978Irv { Set::Roman } else { Set::Ascii };
        let planes = [Some(g0), None, None, None];
        Iso2022Decoder { kind, planes, shifted: false, single_shift: false, pending: Vec::new() }
    }

    /// What Emacs does after any invalid byte or sequence: ASCII in G0, and G0 invoked.
    fn reset(&mut self) {
        self.planes[0] = Some(Set::Ascii);
        self.shifted = false;
    }

    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &byte in input {
            if self.pending.first() == Some(&ESC) {
                self.pending.push(byte);
                if self.escape(out) {
                    continue;
                }
            }
            self.byte(byte, out);
        }
    }

    /// With an escape sequence in `pending` (its last byte just added): true if the byte was
    /// taken, else the sequence is passed on as characters (without the byte that broke it,
    /// which the caller then looks at afresh).
    fn escape(&mut self, out: &mut Vec<u8>) -> bool {
        if self.kind == Iso2022::Jp2 && self.planes[2].is_some() && self.pending == b"\x1BN" {
            self.pending.clear();
            self.single_shift = true;
            return true;
        }
        match find_designation(self.kind, &self.pending) {
            Found::Prefix => true,
            Found::Designation(designation) => {
                let set = iso2022_sets::effective(self.kind, designation.set);
                let plane = match designation.plane {
                    Plane::G0 => 0,
                    Plane::G1 => 1,
                    Plane::G2 => 2,
                    Plane::G3 => 3,
                };
                self.planes[plane] = Some(set);
                self.pending.clear();
                true
            }
            Found::Unknown => {
                // Emacs passes an unknown sequence on as characters (ESC, then the rest looked
                // at afresh in ASCII, which comes to the same).
                self.pending.pop();
                out.append(&mut self.pending);
                self.reset();
                false
            }
        }
    }

    /// At the end of the stream, an unfinished escape sequence or code is passed on as the
    /// (ASCII) characters it is made of.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.single_shift) {
            out.extend_from_slice(b"\x1BN");
        }
        out.append(&mut self.pending);
    }

    fn byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.single_shift) {
            if (0x20..=0x7F).contains(&byte) {
                let set = self.planes[2].unwrap_or(Set::Ascii);
                match single_char(set, byte) {
                    Some(ch) => push_char(out, ch),
                    None => out.push(byte),
                }
                return;
            }
            // Not a character of G2: Emacs passes ESC N on and looks at the byte afresh.
            out.extend_from_slice(b"\x1BN");
            self.reset();
        }
        if !self.pending.is_empty() && !(0x20..=0x7F).contains(&byte) {
            // A control character or a byte 0x80 or above cannot end a two-byte code: the
            // lead is passed on as a character, and the code was invalid.
            out.append(&mut self.pending);
            self.reset();
        }
        if byte == ESC {
            self.pending.push(ESC);
            return;
        }
        if byte >= 0x80 {
            push_raw_byte(out, byte);
            self.reset();
            return;
        }
        if byte == SO || byte == SI {
            // Locking shifts are iso-2022-kr's alone, and SO needs a set in G1.
            let valid = self.kind == Iso2022::Kr && (byte == SI || self.planes[1].is_some());
            if valid {
                self.shifted = byte == SO;
            } else {
                out.push(byte);
                self.reset();
            }
            return;
        }
        let set = self.planes[usize::from(self.shifted)].unwrap_or(Set::Ascii);
        if is_double(set) {
            if code_bytes(set).contains(&byte) {
                self.two_byte(set, byte, out);
            } else {
                // Space and DEL: a lead before them is no code, and both are characters.
                out.append(&mut self.pending);
                out.push(byte);
            }
            return;
        }
        let ch = match set {
            Set::Upper(_) if (0x20..=0x7F).contains(&byte) => single_char(set, byte),
            Set::Roman | Set::Katakana => single_char(set, byte),
            _ => None,
        };
        match ch {
            Some(ch) => push_char(out, ch),
            None => out.push(byte),
        }
    }

    fn two_byte(&mut self, set: Set, byte: u8, out: &mut Vec<u8>) {
        let Some(&lead) = self.pending.first() else {
            self.pending.push(byte);
            return;
        };
        self.pending.clear();
        match double_char(set, lead, byte) {
            Some(ch) => push_char(out, ch),
            None => out.extend_from_slice(&[lead, byte]),
        }
    }
}

fn push_char(out: &mut Vec<u8>, ch: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// ISO-2022 encoder. It writes every set to G0, as Emacs 28.2 does for these systems (even
/// `iso-2022-kr`, which it writes with `ESC $ ( C` rather than SO). [`Iso2022Encoder::end`]
/// returns to ASCII, as Emacs does at the end of what `encode-coding-string` encodes; text
/// also returns to ASCII before end-of-lines and control characters, which are ASCII.
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
            let (set, bytes) = if ch.is_ascii() {
                (Set::Ascii, [ch as u8, 0])
            } else {
                code_of(self.kind, ch).unwrap_or((Set::Ascii, [b' ', 0]))
            };
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
            if let Some(designation) = designation_of(self.kind, set) {
                out.extend_from_slice(designation.bytes());
            }
            self.set = set;
        }
    }
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

    fn decode_bytes(kind: Iso2022, input: &[u8]) -> Vec<u8> {
        let mut decoder = Iso2022Decoder::new(kind);
        let mut out = Vec::new();
        decoder.decode(input, &mut out);
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn invalid_bytes_reset_to_ascii() {
        // (decode-coding-string "\e(Ba\e$B\200$\"\e(B" 'iso-2022-jp) → a, raw \200, $ "
        assert_eq!(decode_bytes(Iso2022::Jp, b"\x1B(Ba\x1B$B\x80$\"\x1B(B"), b"a\xC0\x80$\"");
        // "\e$B$\n$\"" → $ LF $ ": a control character cannot end a two-byte code
        assert_eq!(decode(Iso2022::Jp, &[b"\x1B$B$\n$\""]), "$\n$\"");
        // 'iso-2022-7bit "\e$(C0!\0160!" → 가 SO 0 !: SO is invalid there
        assert_eq!(decode(Iso2022::SevenBit, &[b"\x1B$(C0!\x0E0!"]), "가\x0E0!");
    }

    #[test]
    fn kr_jp2_and_1978() {
        // 'iso-2022-kr: "\e$)Ca\0160!\nb0!" → a 가 LF 璲 ! (SO holds across lines)
        assert_eq!(decode(Iso2022::Kr, &[b"\x1B$)Ca\x0E0!\nb0!"]), "a가\n璲!");
        // "a\0160!\017b" (no G1 yet) → a SO 0 ! b, SI dropped
        assert_eq!(decode(Iso2022::Kr, &[b"a\x0E0!\x0Fb"]), "a\x0E0!b");
        // (encode-coding-string "a한b" 'iso-2022-kr) → a ESC$(C GQ ESC(B b: Emacs uses G0
        assert_eq!(encode(Iso2022::Kr, "a한b"), b"a\x1B$(CGQ\x1B(Bb");
        // 'iso-2022-jp-2: "\e.Fa\eNa" → a α; "aé中가α\u00A0" → JIS X 0212 for é, JIS X 0208 for
        // 中 and α, KS C 5601 for 가, Latin-1 in G0 for NBSP
        assert_eq!(decode(Iso2022::Jp2, &[b"\x1B.Fa\x1BNa"]), "aα");
        assert_eq!(
            encode(Iso2022::Jp2, "aé中가α\u{A0}"),
            b"a\x1B$(D+1\x1B$BCf\x1B$(C0!\x1B$B&A\x1B,A \x1B(B"
        );
        // 'japanese-iso-7bit-1978-irv: "~\\" at the start is JIS X 0201 Roman, ESC ( J is ASCII
        assert_eq!(decode(Iso2022::Jp1978Irv, &[b"~\\\x1B$@$\"\x1B(J~\\"]), "‾¥あ~\\");
        // "aあ‾¥b" → a ESC$@ $" ESC(J ~ \ b; "¥あ" → \ ESC$@ $" ESC(J
        assert_eq!(encode(Iso2022::Jp1978Irv, "aあ‾¥b"), b"a\x1B$@$\"\x1B(J~\\b");
        assert_eq!(encode(Iso2022::Jp1978Irv, "¥あ"), b"\\\x1B$@$\"\x1B(J");
    }

    #[test]
    fn seven_bit_has_the_iso_8859_parts_and_mule_unicode() {
        // (encode-coding-string "ąд∁" 'iso-2022-7bit) → ESC,B 1 ESC,L T ESC$,1 x! ESC(B
        assert_eq!(encode(Iso2022::SevenBit, "ąд∁"), b"\x1B,B1\x1B,LT\x1B$,1x!\x1B(B");
        assert_eq!(decode(Iso2022::SevenBit, &[b"\x1B,B1\x1B,LT\x1B$,1x!\x1B(B"]), "ąд∁");
        // "\e$,3  \e(B" → U+E000
        assert_eq!(decode(Iso2022::SevenBit, &[b"\x1B$,3  \x1B(B"]), "\u{E000}");
    }
}
