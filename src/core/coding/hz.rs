//! `chinese-hz` (HZ, RFC 1843): GB 2312 in 7 bits between `~{` and `~}`.
//!
//! Emacs defines it as UTF-8 plus Lisp conversions (`decode-hz-region` and `encode-hz-region`
//! in its `lisp/language/china-util.el`), run on each read and on each string sent. Decoding
//! follows `decode-hz-region`: `~{` starts GB 2312, which lasts while the bytes make pairs
//! (first byte `!`–`}`, second `!`–`~`); a `~}` right after ends it and is dropped; `~~` is
//! `~`; `~` before anything else stays, with what follows (`~\n` too: Emacs's
//! `decode-hz-line-continuation` is nil). A pair GB 2312 does not assign is its two
//! characters. Encoding follows `encode-hz-region`: `~` is `~~`, a character of GB 2312 goes
//! out in a `~{`…`~}` run (closed before any ASCII character and at the end of the string),
//! and any other character as `\uXXXX` (`\UXXXXXXXX` above U+FFFF; a raw byte as Emacs's
//! character code, `\U003FFF80`–`\U003FFFFF`).
//!
//! Where netproc differs (docs/DIFFERENCES.md): Emacs decodes each read on its own, so a
//! `~{` run split between reads ends at the split, and a read ending in `~` makes Emacs's
//! conversion signal an error and lose the read; netproc keeps its state between reads.

use super::cjk::{decode_code, encode_code};
use super::text::{runs, Run};
use super::utf::Utf8Decoder;
use super::{Cjk, Utf8Form};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ascii,
    /// A `~` in ASCII.
    Tilde,
    Gb,
    /// The first byte of a pair.
    GbLead(u8),
    /// A `~` in GB 2312: `~}` ends it.
    GbTilde,
}

/// Streaming HZ decoder: UTF-8 first, as Emacs's base coding system, then the runs.
#[derive(Clone, Debug)]
pub(crate) struct HzDecoder {
    utf8: Utf8Decoder,
    state: State,
}

impl HzDecoder {
    pub(crate) fn new() -> HzDecoder {
        HzDecoder { utf8: Utf8Decoder::new(Utf8Form::Plain), state: State::Ascii }
    }

    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut text = Vec::with_capacity(input.len());
        self.utf8.decode(input, &mut text);
        for byte in text {
            self.byte(byte, out);
        }
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        let mut text = Vec::new();
        self.utf8.finish(&mut text);
        for byte in text {
            self.byte(byte, out);
        }
        match std::mem::replace(&mut self.state, State::Ascii) {
            State::Tilde | State::GbTilde => out.push(b'~'),
            State::GbLead(lead) => out.push(lead),
            State::Ascii | State::Gb => {}
        }
    }

    /// Everything that matters is ASCII, which never occurs inside a multibyte character or
    /// a raw-byte pair, so the UTF-8 text is taken a byte at a time.
    fn byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        self.state = match self.state {
            State::Ascii if byte == b'~' => State::Tilde,
            State::Ascii => {
                out.push(byte);
                State::Ascii
            }
            State::Tilde => match byte {
                b'{' => State::Gb,
                b'~' => {
                    out.push(b'~');
                    State::Ascii
                }
                _ => {
                    out.extend_from_slice(&[b'~', byte]);
                    State::Ascii
                }
            },
            State::Gb => match byte {
                0x21..=0x7D => State::GbLead(byte),
                b'~' => State::GbTilde,
                _ => {
                    self.state = State::Ascii;
                    return self.byte(byte, out);
                }
            },
            State::GbLead(lead) => {
                if (0x21..=0x7E).contains(&byte) {
                    match decode_code(Cjk::EucCn, &[lead | 0x80, byte | 0x80]) {
                        Some(ch) => {
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        None => out.extend_from_slice(&[lead, byte]),
                    }
                    State::Gb
                } else {
                    out.push(lead);
                    self.state = State::Ascii;
                    return self.byte(byte, out);
                }
            }
            State::GbTilde => {
                if byte == b'}' {
                    State::Ascii
                } else {
                    self.state = State::Tilde;
                    return self.byte(byte, out);
                }
            }
        };
    }
}

/// Encode one string as `encode-hz-region` does (see the module docs).
pub(crate) fn encode(text: &[u8], out: &mut Vec<u8>) {
    let mut in_gb = false;
    let close = |in_gb: &mut bool, out: &mut Vec<u8>| {
        if std::mem::take(in_gb) {
            out.extend_from_slice(b"~}");
        }
    };
    for piece in runs(text) {
        match piece {
            Run::Raw(raw) => {
                close(&mut in_gb, out);
                for byte in raw.bytes() {
                    out.extend_from_slice(format!("\\U{:08X}", 0x3F_FF00 + u32::from(byte)).as_bytes());
                }
            }
            Run::Text(part) => {
                for ch in part.chars() {
                    let mut buf = [0u8; 8];
                    if ch == '~' {
                        close(&mut in_gb, out);
                        out.extend_from_slice(b"~~");
                    } else if ch.is_ascii() {
                        close(&mut in_gb, out);
                        out.push(ch as u8);
                    } else if encode_code(Cjk::EucCn, ch, &mut buf) == Some(2) {
                        if !std::mem::replace(&mut in_gb, true) {
                            out.extend_from_slice(b"~{");
                        }
                        out.extend_from_slice(&[buf[0] & 0x7F, buf[1] & 0x7F]);
                    } else {
                        close(&mut in_gb, out);
                        let code = ch as u32;
                        let escape =
                            if code < 0x10000 { format!("\\u{code:04X}") } else { format!("\\U{code:08X}") };
                        out.extend_from_slice(escape.as_bytes());
                    }
                }
            }
        }
    }
    close(&mut in_gb, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(reads: &[&[u8]]) -> Vec<u8> {
        let mut decoder = HzDecoder::new();
        let mut out = Vec::new();
        for read in reads {
            decoder.decode(read, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    fn encode_str(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode(text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn emacs_decodes() {
        // (decode-coding-string "~{VPND~}" 'chinese-hz) → 中文; "a~~b" → a~b; "~x" → ~x
        assert_eq!(decode(&[b"~{VPND~}"]), "中文".as_bytes());
        assert_eq!(decode(&[b"a~~b", b"~x"]), b"a~b~x");
        // "~{VPN" → 中N; "~{VP\nND~}" → 中 LF ND~}; "~{VP~{ND~}" → 中文; "~{!$~}" → U+30FB
        assert_eq!(decode(&[b"~{VPN"]), "中N".as_bytes());
        assert_eq!(decode(&[b"~{VP\nND~}"]), "中\nND~}".as_bytes());
        assert_eq!(decode(&[b"~{VP~{ND~}"]), "中文".as_bytes());
        assert_eq!(decode(&[b"~{!$~}"]), "\u{30FB}".as_bytes());
        // "a~\nb" stays (no line continuation)
        assert_eq!(decode(&[b"a~\nb"]), b"a~\nb");
        // Split between reads, the run goes on (Emacs decodes each read on its own).
        assert_eq!(decode(&[b"~{V", b"PND~", b"}x"]), "中文x".as_bytes());
    }

    #[test]
    fn emacs_encodes() {
        // (encode-coding-string "a中文b" 'chinese-hz) → a~{VPND~}b; "中 文" → ~{VP~} ~{ND~}
        assert_eq!(encode_str("a中文b"), b"a~{VPND~}b");
        assert_eq!(encode_str("中 文"), b"~{VP~} ~{ND~}");
        // "~x~" → ~~x~~; "é😀ü" → ~{(&~}\U0001F600~{(9~}; "〜中" → \u301C~{VP~}
        assert_eq!(encode_str("~x~"), b"~~x~~");
        assert_eq!(encode_str("é😀ü"), b"~{(&~}\\U0001F600~{(9~}");
        assert_eq!(encode_str("〜中"), b"\\u301C~{VP~}");
        // (string ?a #x3fff80) → a\U003FFF80
        let mut out = Vec::new();
        encode(b"a\xC0\x80", &mut out);
        assert_eq!(out, b"a\\U003FFF80");
    }
}
