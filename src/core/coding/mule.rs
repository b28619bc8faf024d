//! `emacs-mule`, Emacs's internal encoding before Emacs 23, for the charsets netproc has.
//!
//! A character is a leading code naming its charset (`:emacs-mule-id`, see Emacs's
//! `lisp/international/mule-conf.el`) and its code bytes with the high bit set: `81 E9` is é
//! in Latin-1, `91 D6 D0` 中 in GB 2312, `9C F4 F8 A1` ∁ in `mule-unicode-0100-24ff` (a
//! private charset, behind the prefix 9A–9D). ASCII and raw bytes are themselves. Decoding
//! follows Emacs's `emacs_mule_char`: a sequence that is cut short by a byte below 0xA0, or
//! names no charset, makes its first byte raw, and decoding goes on from the next byte.
//! Encoding picks the charset as Emacs does, by its priority (the same choice as
//! `iso-2022-7bit`'s, among the charsets that have an `emacs-mule` id).
//!
//! Not done: the charsets netproc has no tables for (CNS 11643, JIS X 0213, Big5, Ethiopic,
//! Indic scripts, …), whose sequences decode as raw bytes, and the compositions Emacs 21
//! wrote (leading code 0x80), whose 0x80 is a raw byte.

use super::iso2022_sets::{double_char, is_double, priority_code, single_char, Set};
use super::text::{push_raw_byte, push_raw_bytes};

/// `(leading code, set)`: the `emacs-mule` ids of netproc's sets. The ISO 8859 parts are
/// indexes into `iso2022_sets::PARTS`; parts 8859-10, -13 and -16 have no id.
const IDS: &[(u8, Set)] = &[
    (0x81, Set::Upper(0)),
    (0x82, Set::Upper(1)),
    (0x83, Set::Upper(2)),
    (0x84, Set::Upper(3)),
    (0x85, Set::Upper(10)),
    (0x86, Set::Upper(6)),
    (0x87, Set::Upper(5)),
    (0x88, Set::Upper(7)),
    (0x89, Set::Katakana),
    (0x8A, Set::Roman),
    (0x8C, Set::Upper(4)),
    (0x8D, Set::Upper(8)),
    (0x8E, Set::Upper(13)),
    (0x8F, Set::Upper(12)),
    (0x91, Set::Gb2312),
    (0x92, Set::Jis0208),
    // JIS X 0208-1978, which netproc decodes as JIS X 0208.
    (0x90, Set::Jis0208),
    (0x93, Set::Ksc5601),
    (0x94, Set::Jis0212),
    (0xF2, Set::MuleUnicode(1)),
    (0xF3, Set::MuleUnicode(2)),
    (0xF4, Set::MuleUnicode(0)),
];

/// Leading codes of charsets netproc lacks (CNS 11643, JIS X 0213, Big5, …), which Emacs
/// reads as characters: netproc reads the whole sequence, as raw bytes. Official ones (two
/// code bytes each) and private ones (after 9A–9D).
const OTHER_OFFICIAL: &[u8] = &[0x95, 0x96, 0x97, 0x98, 0x99];
const OTHER_PRIVATE: &[u8] = &[
    0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA7, 0xE0, 0xE1, 0xF0, 0xF1, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
    0xFB, 0xFC, 0xFE,
];

fn set_of(id: u8) -> Option<Set> {
    IDS.iter().find(|(known, _)| *known == id).map(|(_, set)| *set)
}

fn id_of(set: Set) -> Option<u8> {
    IDS.iter().find(|(_, known)| *known == set).map(|(id, _)| *id)
}

/// How the bytes at the start of a slice (the first one 0x80 or above) make up a character.
enum Frame {
    /// A character of this many bytes (`None`: of a charset netproc lacks).
    Char(usize, Option<char>),
    /// The first byte is a raw byte.
    Invalid,
    /// The slice ends inside the sequence.
    Incomplete,
}

fn frame(bytes: &[u8]) -> Frame {
    let lead = bytes[0];
    let (id, code_at, official) = match lead {
        0x9A..=0x9D => match bytes.get(1) {
            None => return Frame::Incomplete,
            Some(&id) if id >= 0xA0 => (id, 2, false),
            Some(_) => return Frame::Invalid,
        },
        0x81..=0x99 => (lead, 1, true),
        _ => return Frame::Invalid,
    };
    let dimension = match (set_of(id), official) {
        (Some(set), _) if id >= 0xA0 && !official && (0x9A..=0x9B).contains(&lead) == is_double(set) => {
            return Frame::Invalid;
        }
        (Some(set), _) => usize::from(is_double(set)) + 1,
        (None, true) if OTHER_OFFICIAL.contains(&id) => 2,
        (None, false) if OTHER_PRIVATE.contains(&id) => usize::from(lead >= 0x9C) + 1,
        (None, _) => return Frame::Invalid,
    };
    let len = code_at + dimension;
    for at in code_at..len {
        match bytes.get(at) {
            None => return Frame::Incomplete,
            Some(&byte) if byte < 0xA0 => return Frame::Invalid,
            Some(_) => {}
        }
    }
    let ch = set_of(id).and_then(|set| match (dimension, bytes[code_at] & 0x7F) {
        // JIS X 0201 Roman is ASCII but for ¥ and ‾.
        (1, code @ 0x21..=0x7E) if set == Set::Roman => single_char(set, code).or(Some(char::from(code))),
        (1, code) => single_char(set, code),
        (_, high) => double_char(set, high, bytes[code_at + 1] & 0x7F),
    });
    Frame::Char(len, ch)
}

/// Streaming `emacs-mule` decoder.
#[derive(Clone, Debug, Default)]
pub(crate) struct MuleDecoder {
    /// The start of a sequence that the last read ended in the middle of (at most 3 bytes).
    pending: Vec<u8>,
}

impl MuleDecoder {
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(input);
        let held = decode_sequences(&data, out, false);
        self.pending = data[held..].to_vec();
    }

    /// At the end of the stream, an incomplete sequence becomes raw bytes.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        let data = std::mem::take(&mut self.pending);
        decode_sequences(&data, out, true);
    }
}

/// Decode `bytes`; returns where an incomplete sequence at the end starts (unless `last`).
fn decode_sequences(bytes: &[u8], out: &mut Vec<u8>, last: bool) -> usize {
    let mut at = 0;
    while at < bytes.len() {
        let ascii = bytes[at..].iter().position(|&b| b >= 0x80).unwrap_or(bytes.len() - at);
        out.extend_from_slice(&bytes[at..at + ascii]);
        at += ascii;
        if at == bytes.len() {
            break;
        }
        match frame(&bytes[at..]) {
            Frame::Char(len, Some(ch)) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                at += len;
            }
            Frame::Char(len, None) => {
                push_raw_bytes(out, &bytes[at..at + len]);
                at += len;
            }
            Frame::Incomplete if !last => return at,
            Frame::Invalid | Frame::Incomplete => {
                push_raw_byte(out, bytes[at]);
                at += 1;
            }
        }
    }
    at
}

/// Encode text; a character of no charset netproc has becomes a space, as in Emacs.
pub(crate) fn encode_str(text: &str, out: &mut Vec<u8>) {
    for ch in text.chars() {
        if ch.is_ascii() {
            out.push(ch as u8);
            continue;
        }
        let Some((set, code)) = priority_code(ch, |set| id_of(set).is_some()) else {
            out.push(b' ');
            continue;
        };
        let Some(id) = id_of(set) else { continue };
        match id {
            0xF0..=0xF4 => out.extend_from_slice(&[0x9C, id]),
            0xF5..=0xFE => out.extend_from_slice(&[0x9D, id]),
            _ => out.push(id),
        }
        out.push(code[0] | 0x80);
        if is_double(set) {
            out.push(code[1] | 0x80);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(reads: &[&[u8]]) -> Vec<u8> {
        let mut decoder = MuleDecoder::default();
        let mut out = Vec::new();
        for read in reads {
            decoder.decode(read, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    fn encode(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_str(text, &mut out);
        out
    }

    #[test]
    fn emacs_encodes() {
        // (encode-coding-string "é中가∁ț😀" 'emacs-mule) → 81 E9, 91 D6 D0, 93 B0 A1,
        // 9C F4 F8 A1, 9C F4 A2 FB (8859-16 has no id), and a space
        assert_eq!(encode("é中가∁ț😀"), b"\x81\xE9\x91\xD6\xD0\x93\xB0\xA1\x9C\xF4\xF8\xA1\x9C\xF4\xA2\xFB ");
        // "€ẁｱ" → 86 A4 (Greek), 8F B8 (8859-14), 89 B1
        assert_eq!(encode("€ẁｱ"), b"\x86\xA4\x8F\xB8\x89\xB1");
    }

    #[test]
    fn emacs_decodes() {
        assert_eq!(decode(&[b"a\x81", b"\xE9\x91\xD6", b"\xD0\x9C\xF4\xF8\xA1"]), "aé中∁".as_bytes());
        // A sequence cut by a byte below 0xA0 leaves its first byte raw: "\201a" → raw \201, a
        assert_eq!(decode(&[b"\x81a"]), b"\xC0\x81a");
        // A charset netproc lacks (CNS 11643-1, 95): its bytes are raw.
        assert_eq!(decode(&[b"\x95\xA2\xA3"]), b"\xC0\x95\xC0\xA2\xC0\xA3");
        // At the end of the stream, a lone leading code is raw.
        assert_eq!(decode(&[b"\x92"]), b"\xC0\x92");
    }
}
