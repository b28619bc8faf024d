//! One-byte coding systems: Emacs's `charset` coding systems whose charsets are all one-byte
//! (`iso-latin-1`, `cp437`, `koi8-u`, `mac-roman`, `ebcdic-us`, …), from the tables in
//! `data/one-byte.txt`, which tools/emacs-coding-data.el makes by asking Emacs 28.2's
//! charsets. The file is parsed once, on first use.
//!
//! As in Emacs's `decode_coding_charset` and `encode_coding_charset`: a byte the charset has
//! no character for decodes as a raw byte (an ASCII byte as itself); an ASCII-compatible
//! system writes ASCII characters as themselves, raw bytes go out as themselves, and a
//! character the charset lacks becomes the system's default byte (a space, `?` for
//! `us-ascii`), even in EBCDIC.

use std::sync::OnceLock;

use super::text::push_raw_byte;
use super::SingleByte;

const DATA: &str = include_str!("data/one-byte.txt");

/// One one-byte coding system.
#[derive(Debug)]
pub(crate) struct Table {
    /// Emacs's base name first, then the aliases.
    names: Vec<&'static str>,
    /// The character of each byte in the charset, `None` where it has none.
    chars: [Option<char>; 256],
    /// Whether bytes 0x00–0x7F all decode to themselves, so ASCII runs can be copied whole.
    ascii_identity: bool,
    /// Whether ASCII characters are written as themselves, charset or not.
    ascii_compatible: bool,
    /// Characters to bytes, sorted by character, for encoding.
    reverse: Vec<(char, u8)>,
    /// The byte that stands for a character the set lacks (Emacs's `:default-char`).
    default_byte: u8,
}

/// Every one-byte system, in the order of the data file.
fn tables() -> &'static [Table] {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    TABLES.get_or_init(|| parse(DATA))
}

/// The one-byte system with name or alias `name`: its base name and its table.
pub(crate) fn find(name: &str) -> Option<(&'static str, SingleByte)> {
    let index = tables().iter().position(|table| table.names.contains(&name))?;
    Some((tables()[index].names[0], SingleByte(u8::try_from(index).ok()?)))
}

/// Every name and alias of the one-byte systems.
pub(crate) fn all_names() -> impl Iterator<Item = &'static str> {
    tables().iter().flat_map(|table| table.names.iter().copied())
}

/// The table of `set`. A [`SingleByte`] only comes from [`find`], so it always indexes one.
pub(crate) fn table(set: SingleByte) -> &'static Table {
    &tables()[usize::from(set.0)]
}

impl Table {
    /// Decode a whole read; every byte is complete, so nothing is ever held.
    pub(crate) fn decode(&self, input: &[u8], out: &mut Vec<u8>) {
        if !self.ascii_identity {
            for &byte in input {
                self.push_byte(byte, out);
            }
            return;
        }
        let mut at = 0;
        while at < input.len() {
            let ascii = input[at..].iter().position(|&b| b >= 0x80).unwrap_or(input.len() - at);
            out.extend_from_slice(&input[at..at + ascii]);
            at += ascii;
            while let Some(&byte) = input.get(at).filter(|&&b| b >= 0x80) {
                self.push_byte(byte, out);
                at += 1;
            }
        }
    }

    fn push_byte(&self, byte: u8, out: &mut Vec<u8>) {
        match self.chars[usize::from(byte)] {
            Some(ch) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            None => push_raw_byte(out, byte),
        }
    }

    /// Encode text; characters outside the set become the default byte.
    pub(crate) fn encode_str(&self, text: &str, out: &mut Vec<u8>) {
        for ch in text.chars() {
            out.push(self.byte_of(ch).unwrap_or(self.default_byte));
        }
    }

    fn byte_of(&self, ch: char) -> Option<u8> {
        if self.ascii_compatible && ch.is_ascii() {
            return Some(ch as u8);
        }
        self.reverse.binary_search_by_key(&ch, |&(c, _)| c).ok().map(|at| self.reverse[at].1)
    }

    /// The character of `byte` in the charset, if any.
    pub(crate) fn char_of(&self, byte: u8) -> Option<char> {
        self.chars[usize::from(byte)]
    }

    /// The byte 0xA0–0xFF that encodes `ch`, if any: `ch` in the upper half, as a
    /// 96-character set of ISO-2022 has it.
    pub(crate) fn upper_byte_of(&self, ch: char) -> Option<u8> {
        self.byte_of(ch).filter(|byte| *byte >= 0xA0)
    }

    /// Whether every byte string decodes to text that encodes back to it.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn round_trips(&self) -> bool {
        (0..=255u8).all(|byte| match self.chars[usize::from(byte)] {
            Some(ch) => self.byte_of(ch) == Some(byte),
            // A raw byte goes out as itself; an ASCII byte decoded as itself must encode so.
            None => byte >= 0x80 || self.byte_of(char::from(byte)) == Some(byte),
        })
    }
}

/// Parse the data file (its format is described at its top). A line that does not parse is
/// skipped; the tests check that every system comes out whole.
fn parse(data: &'static str) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut current: Option<Builder> = None;
    for line in data.lines().filter(|line| !line.starts_with(";;")) {
        if !line.starts_with(' ') {
            tables.extend(current.take().map(Builder::finish));
            current = Some(Builder::new(line.split_whitespace().collect()));
            continue;
        }
        let Some(builder) = current.as_mut() else { continue };
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [kind @ ("ascii-compatible" | "ascii-incompatible"), default] => {
                builder.ascii_compatible = *kind == "ascii-compatible";
                builder.default_byte = hex(default).and_then(|byte| u8::try_from(byte).ok()).unwrap_or(b' ');
            }
            ["encode", pairs @ ..] => {
                for pair in pairs.chunks_exact(2) {
                    let ch = hex(pair[0]).and_then(char::from_u32);
                    let byte = hex(pair[1]).and_then(|byte| u8::try_from(byte).ok());
                    if let (Some(ch), Some(byte)) = (ch, byte) {
                        builder.extra.push((ch, byte));
                    }
                }
            }
            [row, chars @ ..] if chars.len() == 16 => {
                let Some(row) = hex(row)
                    .and_then(|row| usize::try_from(row).ok())
                    .filter(|row| row % 16 == 0 && *row < 256)
                else {
                    continue;
                };
                for (offset, field) in chars.iter().enumerate() {
                    builder.chars[row + offset] = hex(field).and_then(char::from_u32);
                }
            }
            _ => {}
        }
    }
    tables.extend(current.map(Builder::finish));
    tables
}

fn hex(field: &str) -> Option<u32> {
    u32::from_str_radix(field, 16).ok()
}

/// A table while its block is read.
struct Builder {
    names: Vec<&'static str>,
    chars: [Option<char>; 256],
    ascii_compatible: bool,
    default_byte: u8,
    extra: Vec<(char, u8)>,
}

impl Builder {
    fn new(names: Vec<&'static str>) -> Builder {
        // Rows the file leaves out map each byte to itself.
        let chars = std::array::from_fn(|byte| u8::try_from(byte).ok().map(char::from));
        Builder { names, chars, ascii_compatible: true, default_byte: b' ', extra: Vec::new() }
    }

    fn finish(self) -> Table {
        let mut reverse: Vec<(char, u8)> = Vec::new();
        // Where two bytes have the same character, the first encodes it (unless listed).
        for (byte, ch) in (0..=255u8).zip(self.chars) {
            if let Some(ch) = ch.filter(|ch| !reverse.iter().any(|(known, _)| known == ch)) {
                reverse.push((ch, byte));
            }
        }
        reverse.retain(|(ch, _)| !self.extra.iter().any(|(extra, _)| extra == ch));
        reverse.extend(self.extra);
        reverse.sort_unstable();
        let ascii_identity = (0..0x80u8).all(|byte| self.chars[usize::from(byte)] == Some(char::from(byte)));
        Table {
            names: self.names,
            chars: self.chars,
            ascii_identity,
            ascii_compatible: self.ascii_compatible,
            reverse,
            default_byte: self.default_byte,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str) -> &'static Table {
        match find(name) {
            Some((_, set)) => table(set),
            None => panic!("{name} is no one-byte system"),
        }
    }

    fn decode(name: &str, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        set(name).decode(bytes, &mut out);
        out
    }

    fn encode(name: &str, text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        set(name).encode_str(text, &mut out);
        out
    }

    #[test]
    fn the_data_parses_whole() {
        let tables = tables();
        assert_eq!(tables.len(), 76);
        for table in tables {
            assert!(!table.names.is_empty());
            assert!(table.reverse.len() > 90, "{}", table.names[0]);
        }
        assert_eq!(find("latin-1").map(|(base, _)| base), Some("iso-latin-1"));
        assert_eq!(find("ibm437").map(|(base, _)| base), Some("cp437"));
        assert_eq!(find("utf-8"), None);
        assert_eq!(DATA.lines().filter(|line| !line.starts_with(";;") && !line.starts_with(' ')).count(), 76);
    }

    #[test]
    fn emacs_results() {
        // (decode-coding-string "a\351\200" 'latin-1) → "aé" and U+0080
        assert_eq!(decode("latin-1", b"a\xE9\x80"), "aé\u{80}".as_bytes());
        // (decode-coding-string "\200\201" 'windows-1252) → "€" and raw \201
        assert_eq!(decode("windows-1252", b"\x80\x81"), b"\xE2\x82\xAC\xC0\x81");
        // (decode-coding-string "\324\322" 'koi8-r) → "тр"
        assert_eq!(decode("koi8-r", b"\xD4\xD2"), "тр".as_bytes());
        // (decode-coding-string "\245" 'iso-8859-3) → raw \245 (undefined)
        assert_eq!(decode("iso-8859-3", b"\xA5"), b"\xC0\xA5");
        // (decode-coding-string "a\200\377" 'us-ascii) → a, raw \200, raw \377
        assert_eq!(decode("us-ascii", b"a\x80\xFF"), b"a\xC0\x80\xC1\xBF");
        // (decode-coding-string "\201\202" 'cp437) → "üé"; 'ebcdic-us "\201\301" → "aA"
        assert_eq!(decode("cp437", b"\x81\x82"), "üé".as_bytes());
        assert_eq!(decode("ebcdic-us", b"\x81\xC1"), b"aA");
        // (decode-coding-string "A" 'lao) → U+0EA1: Emacs's lao charset is 7-bit
        assert_eq!(decode("lao", b"A"), "\u{EA1}".as_bytes());
    }

    #[test]
    fn unencodable_characters_become_the_default_byte() {
        // (encode-coding-string "a€b" 'latin-1) → "a b"; "aéb" 'us-ascii → "a?b"
        assert_eq!(encode("latin-1", "a€b"), b"a b");
        assert_eq!(encode("us-ascii", "aéb"), b"a?b");
        // (encode-coding-string "a€b" 'windows-1251) → a \210 b
        assert_eq!(encode("windows-1251", "a€b"), b"a\x88b");
        // (encode-coding-string "a中" 'ebcdic-us) → "\201 ": the default is an ASCII space
        assert_eq!(encode("ebcdic-us", "a中"), b"\x81 ");
        // (encode-coding-string "abc\n" 'lao) → four spaces: lao is not ASCII-compatible
        assert_eq!(encode("lao", "abc\n"), b"    ");
        // adobe-standard-encoding also writes U+00AD as "-" (its charset map lists both)
        assert_eq!(encode("adobe-standard-encoding", "\u{AD}-"), b"--");
    }

    #[test]
    fn round_trips() {
        assert!(set("latin-1").round_trips() && set("cp437").round_trips());
        assert!(set("us-ascii").round_trips());
        assert!(!set("lao").round_trips() && !set("ebcdic-us").round_trips());
    }
}
