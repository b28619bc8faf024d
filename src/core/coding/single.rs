//! One-byte character sets: a table of the 128 upper bytes, taken from `encoding_rs` (or, for
//! the three Emacs charsets the WHATWG standard folds into Windows code pages, computed), with
//! the bytes Emacs leaves undefined marked as such.

use encoding_rs::Encoding;

use super::text::push_raw_byte;
use super::SingleByte;

/// Decoding and encoding table of a one-byte character set.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    /// The character of each byte 0x80–0xFF, `None` where the set has none.
    upper: [Option<char>; 128],
    /// The same, reversed and sorted by character, for encoding.
    reverse: Vec<(char, u8)>,
    /// The byte that stands for a character the set lacks (Emacs's `:default-char`).
    default_byte: u8,
}

impl Table {
    pub(crate) fn new(set: SingleByte) -> Table {
        let mut upper = [None; 128];
        for (index, slot) in upper.iter_mut().enumerate() {
            *slot = upper_char(set, 0x80 + index as u8);
        }
        let mut reverse: Vec<(char, u8)> = upper
            .iter()
            .enumerate()
            .filter_map(|(index, ch)| ch.map(|ch| (ch, 0x80 + index as u8)))
            .collect();
        reverse.sort_unstable();
        // us-ascii has `:default-char ?\?`; the others have none, so Emacs uses a space.
        let default_byte = if set == SingleByte::Ascii { b'?' } else { b' ' };
        Table { upper, reverse, default_byte }
    }

    /// Decode a whole read; every byte is complete, so nothing is ever held.
    pub(crate) fn decode(&self, input: &[u8], out: &mut Vec<u8>) {
        let mut at = 0;
        while at < input.len() {
            let ascii = input[at..].iter().position(|&b| b >= 0x80).unwrap_or(input.len() - at);
            out.extend_from_slice(&input[at..at + ascii]);
            at += ascii;
            while let Some(&byte) = input.get(at).filter(|&&b| b >= 0x80) {
                match self.upper[usize::from(byte - 0x80)] {
                    Some(ch) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    None => push_raw_byte(out, byte),
                }
                at += 1;
            }
        }
    }

    /// Encode text; characters outside the set become the default byte.
    pub(crate) fn encode_str(&self, text: &str, out: &mut Vec<u8>) {
        for ch in text.chars() {
            out.push(self.byte_of(ch).unwrap_or(self.default_byte));
        }
    }

    fn byte_of(&self, ch: char) -> Option<u8> {
        if ch.is_ascii() {
            return Some(ch as u8);
        }
        self.reverse.binary_search_by_key(&ch, |&(c, _)| c).ok().map(|at| self.reverse[at].1)
    }
}

/// The character of upper byte `byte` in `set`, as Emacs's charset has it.
fn upper_char(set: SingleByte, byte: u8) -> Option<char> {
    match set {
        SingleByte::Ascii => None,
        SingleByte::Latin1 => Some(char::from(byte)),
        // ISO 8859-9 is Latin-1 with six Turkish letters in place of Icelandic ones.
        SingleByte::Latin5 => Some(match byte {
            0xD0 => 'Ğ',
            0xDD => 'İ',
            0xDE => 'Ş',
            0xF0 => 'ğ',
            0xFD => 'ı',
            0xFE => 'ş',
            _ => char::from(byte),
        }),
        // ISO 8859-11 (TIS-620 plus NBSP): Thai at a fixed offset from U+0E01.
        SingleByte::Iso8859_11 => match byte {
            0x80..=0xA0 => Some(char::from(byte)),
            0xA1..=0xDA | 0xDF..=0xFB => char::from_u32(u32::from(byte) - 0xA0 + 0x0E00),
            _ => None,
        },
        _ => web_upper_char(set, byte),
    }
}

/// Look `byte` up in the WHATWG table. The Windows code pages there map bytes Microsoft left
/// undefined to the C1 control of the same number; Emacs leaves them undefined (raw bytes).
/// Emacs's windows-1255 also lacks 0xCA (U+05BA, which Microsoft added later).
fn web_upper_char(set: SingleByte, byte: u8) -> Option<char> {
    if set == SingleByte::Windows(1255) && byte == 0xCA {
        return None;
    }
    let encoding = web_encoding(set)?;
    let ch = decode_one(encoding, &[byte])?;
    let undefined_c1 = matches!(set, SingleByte::Windows(_)) && byte <= 0x9F && ch as u32 == u32::from(byte);
    (!undefined_c1).then_some(ch)
}

fn web_encoding(set: SingleByte) -> Option<&'static Encoding> {
    Some(match set {
        SingleByte::Iso8859_2 => encoding_rs::ISO_8859_2,
        SingleByte::Iso8859_3 => encoding_rs::ISO_8859_3,
        SingleByte::Iso8859_4 => encoding_rs::ISO_8859_4,
        SingleByte::Iso8859_5 => encoding_rs::ISO_8859_5,
        SingleByte::Iso8859_6 => encoding_rs::ISO_8859_6,
        SingleByte::Iso8859_7 => encoding_rs::ISO_8859_7,
        SingleByte::Iso8859_8 => encoding_rs::ISO_8859_8,
        SingleByte::Iso8859_10 => encoding_rs::ISO_8859_10,
        SingleByte::Iso8859_13 => encoding_rs::ISO_8859_13,
        SingleByte::Iso8859_14 => encoding_rs::ISO_8859_14,
        SingleByte::Iso8859_15 => encoding_rs::ISO_8859_15,
        SingleByte::Iso8859_16 => encoding_rs::ISO_8859_16,
        SingleByte::Koi8R => encoding_rs::KOI8_R,
        SingleByte::Windows(1250) => encoding_rs::WINDOWS_1250,
        SingleByte::Windows(1251) => encoding_rs::WINDOWS_1251,
        SingleByte::Windows(1252) => encoding_rs::WINDOWS_1252,
        SingleByte::Windows(1253) => encoding_rs::WINDOWS_1253,
        SingleByte::Windows(1254) => encoding_rs::WINDOWS_1254,
        SingleByte::Windows(1255) => encoding_rs::WINDOWS_1255,
        SingleByte::Windows(1256) => encoding_rs::WINDOWS_1256,
        SingleByte::Windows(1257) => encoding_rs::WINDOWS_1257,
        SingleByte::Windows(1258) => encoding_rs::WINDOWS_1258,
        _ => return None,
    })
}

/// The single character `bytes` decode to in `encoding`, if they are exactly one valid
/// character.
pub(crate) fn decode_one(encoding: &'static Encoding, bytes: &[u8]) -> Option<char> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut buf = [0u8; 16];
    let (result, read, written) = decoder.decode_to_utf8_without_replacement(bytes, &mut buf, true);
    if result != encoding_rs::DecoderResult::InputEmpty || read != bytes.len() {
        return None;
    }
    let text = std::str::from_utf8(&buf[..written]).ok()?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(ch), None) => Some(ch),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(set: SingleByte, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Table::new(set).decode(bytes, &mut out);
        out
    }

    #[test]
    fn emacs_results() {
        // (decode-coding-string "a\351\200" 'latin-1) → "aé" and U+0080
        assert_eq!(decode(SingleByte::Latin1, b"a\xE9\x80"), "aé\u{80}".as_bytes());
        // (decode-coding-string "\200\201" 'windows-1252) → "€" and raw \201
        assert_eq!(decode(SingleByte::Windows(1252), b"\x80\x81"), b"\xE2\x82\xAC\xC0\x81");
        // (decode-coding-string "\324\322" 'koi8-r) → "тр"
        assert_eq!(decode(SingleByte::Koi8R, b"\xD4\xD2"), "тр".as_bytes());
        // (decode-coding-string "\245" 'iso-8859-3) → raw \245 (undefined)
        assert_eq!(decode(SingleByte::Iso8859_3, b"\xA5"), b"\xC0\xA5");
        // (decode-coding-string "\333" 'iso-8859-11) → raw \333
        assert_eq!(decode(SingleByte::Iso8859_11, b"\xDB\xA1"), b"\xC1\x9B\xE0\xB8\x81");
        // (decode-coding-string "a\200\377" 'us-ascii) → a, raw \200, raw \377
        assert_eq!(decode(SingleByte::Ascii, b"a\x80\xFF"), b"a\xC0\x80\xC1\xBF");
    }

    #[test]
    fn unencodable_characters_become_the_default_byte() {
        let mut out = Vec::new();
        // (encode-coding-string "a€b" 'latin-1) → "a b"
        Table::new(SingleByte::Latin1).encode_str("a€b", &mut out);
        assert_eq!(out, b"a b");
        out.clear();
        // (encode-coding-string "aéb" 'us-ascii) → "a?b"
        Table::new(SingleByte::Ascii).encode_str("aéb", &mut out);
        assert_eq!(out, b"a?b");
        out.clear();
        // (encode-coding-string "a€b" 'windows-1251) → a \210 b
        Table::new(SingleByte::Windows(1251)).encode_str("a€b", &mut out);
        assert_eq!(out, b"a\x88b");
    }
}
