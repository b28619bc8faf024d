//! The graphic character sets of netproc's ISO-2022 systems: which escape sequences designate
//! them in each system, in which order each system's encoder tries them, and the character
//! of each code.
//!
//! What each system accepts and writes was checked with Emacs 28.2's `decode-coding-string`
//! and `encode-coding-string`; its charset lists are in `lisp/language/japanese.el`,
//! `korean.el` and `lisp/international/mule-conf.el`. The two-byte sets' characters come from
//! the EUC tables (an ISO-2022 code with the high bits set is the EUC code), the 96-character
//! sets' from the ISO 8859 one-byte tables (the code with the high bit set is the byte).

use std::sync::OnceLock;

use super::cjk::{self, decode_code, encode_code};
use super::single::{self, Table};
use super::{Cjk, Iso2022};

/// A graphic character set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Set {
    Ascii,
    /// JIS X 0201 Roman: ASCII with ¥ at 0x5C and ‾ at 0x7E.
    Roman,
    /// JIS X 0201 katakana.
    Katakana,
    Jis0208,
    Jis0212,
    Gb2312,
    Ksc5601,
    /// The upper half of an ISO 8859 part, a 96-character set: index into [`PARTS`].
    Upper(u8),
    /// One of Emacs's `mule-unicode-*` charsets, 96×96 sets that are ranges of Unicode:
    /// index into [`MULE_UNICODE`].
    MuleUnicode(u8),
}

/// Emacs's `mule-unicode-0100-24ff`, `-2500-33ff` and `-e000-ffff`: final byte, first and
/// last character. Code (B1, B2), each 0x20–0x7F, is the character FIRST + (B1 - 0x20) × 96
/// + (B2 - 0x20). `iso-2022-7bit` writes with them the characters no other set has.
const MULE_UNICODE: &[(u8, u32, u32)] =
    &[(b'1', 0x100, 0x24FF), (b'2', 0x2500, 0x33FF), (b'3', 0xE000, 0xFFFF)];

/// Where a designation puts its set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plane {
    G0,
    G1,
    G2,
    G3,
}

const PLANES: [Plane; 4] = [Plane::G0, Plane::G1, Plane::G2, Plane::G3];

/// The ISO 8859 parts as 96-character sets, in Emacs's charset priority (which its
/// `iso-2022-7bit` encoder follows): the final byte of their designation, and the one-byte
/// system whose upper half they are.
const PARTS: &[(u8, &str)] = &[
    (b'A', "iso-latin-1"),
    (b'B', "iso-latin-2"),
    (b'C', "iso-latin-3"),
    (b'D', "iso-latin-4"),
    (b'L', "cyrillic-iso-8bit"),
    (b'G', "iso-8859-6"),
    (b'F', "greek-iso-8bit"),
    (b'H', "hebrew-iso-8bit"),
    (b'M', "iso-latin-5"),
    (b'V', "iso-latin-6"),
    // Emacs's `thai-tis620`, which `ESC , T` designates: U+0E00 on from 0x20 (see THAI).
    (b'T', "iso-8859-11"),
    (b'Y', "iso-latin-7"),
    (b'_', "iso-latin-8"),
    (b'b', "iso-latin-9"),
    (b'f', "iso-latin-10"),
];

const LATIN1: Set = Set::Upper(0);
/// Emacs's `thai-tis620` (`ESC , T`, and `emacs-mule`'s 0x85) is not the upper half of ISO
/// 8859-11: code B (0x20–0x7F) is U+0E00 + B - 0x20, the unassigned ones included.
const THAI: Set = Set::Upper(10);
const GREEK: Set = Set::Upper(6);

/// The final bytes of the sets other than the ISO 8859 parts (two for JIS X 0208: 1978 and
/// 1983, which netproc decodes alike).
const FINALS: &[(Set, u8)] = &[
    (Set::Ascii, b'B'),
    (Set::Roman, b'J'),
    (Set::Katakana, b'I'),
    (Set::Jis0208, b'B'),
    (Set::Jis0208, b'@'),
    (Set::Jis0212, b'D'),
    (Set::Gb2312, b'A'),
    (Set::Ksc5601, b'C'),
];

/// Whether `set` is in the charset list of `kind` (Emacs accepts a designation of any of
/// them, to any register, whether or not the system can invoke that register).
fn has(kind: Iso2022, set: Set) -> bool {
    match kind {
        Iso2022::Jp => matches!(set, Set::Ascii | Set::Roman | Set::Jis0208),
        Iso2022::SevenBit => true,
        Iso2022::Kr => matches!(set, Set::Ascii | Set::Ksc5601),
        Iso2022::Jp2 => {
            !matches!(set, Set::Katakana | Set::Upper(_) | Set::MuleUnicode(_))
                || matches!(set, LATIN1 | GREEK)
        }
        Iso2022::Jp1978Irv => matches!(set, Set::Ascii | Set::Roman | Set::Jis0208 | Set::Jis0212),
    }
}

/// One designation: its escape sequence, plane and set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Designation {
    sequence: [u8; 4],
    len: usize,
    pub(crate) plane: Plane,
    pub(crate) set: Set,
}

impl Designation {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.sequence[..self.len]
    }

    fn new(bytes: &[u8], plane: Plane, set: Set) -> Designation {
        let mut sequence = [0; 4];
        sequence[..bytes.len()].copy_from_slice(bytes);
        Designation { sequence, len: bytes.len(), plane, set }
    }
}

/// Every designation `kind` accepts. For each set, in ISO 2022's forms: a 94-character set
/// `ESC ( F` to G0 (`ESC )`, `*`, `+` to G1–G3), a 96-character set `ESC , F` (Emacs's form for
/// G0; `-`, `.`, `/` for G1–G3), a 94×94 set `ESC $ ( F` (or `ESC $ F` for F in `@AB`;
/// `ESC $ )`, `*`, `+`), a 96×96 set `ESC $ , F` (`ESC $ -`, `.`, `/`). Encoders use the first
/// one listed for G0.
pub(crate) fn designations(kind: Iso2022) -> impl Iterator<Item = Designation> {
    let fixed = FINALS.iter().map(|&(set, final_byte)| (set, final_byte));
    let upper =
        PARTS.iter().enumerate().map(|(index, &(final_byte, _))| (Set::Upper(index as u8), final_byte));
    let mule = MULE_UNICODE
        .iter()
        .enumerate()
        .map(|(index, &(final_byte, _, _))| (Set::MuleUnicode(index as u8), final_byte));
    fixed.chain(upper).chain(mule).filter(move |&(set, _)| has(kind, set)).flat_map(|(set, final_byte)| {
        let short = (is_double(set) && (b'@'..=b'B').contains(&final_byte))
            .then(|| Designation::new(&[0x1B, b'$', final_byte], Plane::G0, set));
        let forms = PLANES.iter().enumerate().map(move |(register, &plane)| {
            let register = register as u8;
            match set {
                Set::Upper(_) => Designation::new(&[0x1B, b',' + register, final_byte], plane, set),
                Set::MuleUnicode(_) => {
                    Designation::new(&[0x1B, b'$', b',' + register, final_byte], plane, set)
                }
                _ if is_double(set) => {
                    Designation::new(&[0x1B, b'$', b'(' + register, final_byte], plane, set)
                }
                _ => Designation::new(&[0x1B, b'(' + register, final_byte], plane, set),
            }
        });
        short.into_iter().chain(forms)
    })
}

/// The set a designation stands for in `kind`: `japanese-iso-7bit-1978-irv` takes JIS X 0201
/// Roman for ASCII (its `use-roman` flag), both ways.
pub(crate) fn effective(kind: Iso2022, set: Set) -> Set {
    if kind == Iso2022::Jp1978Irv && set == Set::Roman {
        Set::Ascii
    } else {
        set
    }
}

/// The sequence `kind`'s encoder writes to designate `set` to G0.
pub(crate) fn designation_of(kind: Iso2022, set: Set) -> Option<Designation> {
    let wanted: Option<&[u8]> = match (kind, set) {
        // The `use-roman` and `use-oldjis` flags.
        (Iso2022::Jp1978Irv, Set::Ascii) => Some(b"\x1B(J"),
        (Iso2022::Jp1978Irv, Set::Jis0208) => Some(b"\x1B$@"),
        _ => None,
    };
    designations(kind).find(|d| {
        d.plane == Plane::G0 && effective(kind, d.set) == set && wanted.is_none_or(|bytes| d.bytes() == bytes)
    })
}

/// The character of the one-byte code `byte` (0x21–0x7E, 0x20–0x7F for a 96-character set)
/// in a one-byte set; `None` for ASCII (the byte itself) and codes with no character.
pub(crate) fn single_char(set: Set, byte: u8) -> Option<char> {
    match set {
        Set::Roman => match byte {
            0x5C => Some('¥'),
            0x7E => Some('‾'),
            _ => None,
        },
        Set::Katakana => match byte {
            0x21..=0x5F => char::from_u32(0xFF61 + u32::from(byte) - 0x21),
            _ => None,
        },
        THAI => byte.checked_sub(0x20).and_then(|offset| char::from_u32(0x0E00 + u32::from(offset))),
        Set::Upper(index) => part(index)?.char_of(byte | 0x80),
        _ => None,
    }
}

/// Whether codes of `set` are two bytes.
pub(crate) fn is_double(set: Set) -> bool {
    matches!(set, Set::Jis0208 | Set::Jis0212 | Set::Gb2312 | Set::Ksc5601 | Set::MuleUnicode(_))
}

/// The bytes a code of `set` is made of: 0x21–0x7E, or 0x20–0x7F for a 96-character set.
pub(crate) fn code_bytes(set: Set) -> std::ops::RangeInclusive<u8> {
    match set {
        Set::Upper(_) | Set::MuleUnicode(_) => 0x20..=0x7F,
        _ => 0x21..=0x7E,
    }
}

/// The character of the two-byte code `high`, `low` (each 0x21–0x7E) in `set`.
pub(crate) fn double_char(set: Set, high: u8, low: u8) -> Option<char> {
    if let Set::MuleUnicode(index) = set {
        let (_, first, last) = MULE_UNICODE[usize::from(index)];
        let code = first + (u32::from(high) - 0x20) * 96 + (u32::from(low) - 0x20);
        return char::from_u32(code).filter(|_| code <= last);
    }
    let (high, low) = (high | 0x80, low | 0x80);
    match set {
        Set::Jis0208 => euc_char(Cjk::EucJp, &[high, low]),
        Set::Jis0212 => euc_char(Cjk::EucJp, &[0x8F, high, low]),
        Set::Gb2312 => euc_char(Cjk::EucCn, &[high, low]),
        Set::Ksc5601 => euc_char(Cjk::EucKr, &[high, low]),
        _ => None,
    }
}

/// The character of an EUC code, if it is one in Emacs's ranges.
fn euc_char(set: Cjk, code: &[u8]) -> Option<char> {
    (cjk::frame(set, code) == cjk::Frame::Char(code.len())).then(|| decode_code(set, code)).flatten()
}

/// The set and the 7-bit code (second byte 0 for one-byte codes) of non-ASCII `ch` in
/// `kind`, trying the sets in the order Emacs picks them (its charset priority in a UTF-8
/// locale, within the system's charset list).
pub(crate) fn code_of(kind: Iso2022, ch: char) -> Option<(Set, [u8; 2])> {
    let roman = || match ch {
        '¥' => Some((Set::Roman, [0x5C, 0])),
        '‾' => Some((Set::Roman, [0x7E, 0])),
        _ => None,
    };
    let two = |set: Set, cjk: Cjk| euc_pair(cjk, ch).map(|code| (set, code));
    match kind {
        Iso2022::Jp => roman().or_else(|| two(Set::Jis0208, Cjk::EucJp)),
        // ¥ and ‾ are JIS X 0201 Roman, which this system writes as ASCII.
        Iso2022::Jp1978Irv => roman()
            .map(|(_, code)| (Set::Ascii, code))
            .or_else(|| two(Set::Jis0208, Cjk::EucJp))
            .or_else(|| jis0212(ch)),
        Iso2022::Kr => two(Set::Ksc5601, Cjk::EucKr),
        Iso2022::Jp2 => two(Set::Jis0208, Cjk::EucJp)
            .or_else(|| jis0212(ch))
            .or_else(roman)
            .or_else(|| two(Set::Gb2312, Cjk::EucCn))
            .or_else(|| two(Set::Ksc5601, Cjk::EucKr))
            .or_else(|| upper(LATIN1, ch))
            .or_else(|| upper(GREEK, ch)),
        Iso2022::SevenBit => priority_code(ch, |_| true),
    }
}

/// The set and 7-bit code of non-ASCII `ch` in the first of netproc's sets, in Emacs's
/// charset priority (in a UTF-8 locale), that `allowed` lets through and that has `ch`: the
/// ISO 8859 parts, JIS X 0201 katakana, GB 2312, JIS X 0208, JIS X 0212, KS C 5601, the
/// `mule-unicode` sets. Emacs's `iso-2022-7bit` and `emacs-mule` choose so.
pub(crate) fn priority_code(ch: char, allowed: impl Fn(Set) -> bool) -> Option<(Set, [u8; 2])> {
    let two = |set: Set, cjk: Cjk| euc_pair(cjk, ch).map(|code| (set, code));
    let found = (0..PARTS.len() as u8)
        .filter(|index| allowed(Set::Upper(*index)))
        .find_map(|index| upper(Set::Upper(index), ch));
    found
        .or_else(|| katakana(ch))
        .or_else(|| two(Set::Gb2312, Cjk::EucCn))
        .or_else(|| two(Set::Jis0208, Cjk::EucJp))
        .or_else(|| jis0212(ch))
        .or_else(|| two(Set::Ksc5601, Cjk::EucKr))
        .or_else(|| mule_unicode(ch))
        .filter(|(set, _)| allowed(*set))
}

fn mule_unicode(ch: char) -> Option<(Set, [u8; 2])> {
    let code = ch as u32;
    let index = MULE_UNICODE.iter().position(|&(_, first, last)| (first..=last).contains(&code))?;
    let offset = code - MULE_UNICODE[index].1;
    Some((Set::MuleUnicode(index as u8), [(0x20 + offset / 96) as u8, (0x20 + offset % 96) as u8]))
}

/// The one-byte table of ISO 8859 part `index`, looked up once.
fn part(index: u8) -> Option<&'static Table> {
    static TABLES: OnceLock<Vec<Option<&'static Table>>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        PARTS.iter().map(|(_, name)| single::find(name).map(|(_, set)| single::table(set))).collect()
    });
    tables.get(usize::from(index)).copied().flatten()
}

fn katakana(ch: char) -> Option<(Set, [u8; 2])> {
    ('\u{FF61}'..='\u{FF9F}').contains(&ch).then(|| (Set::Katakana, [(ch as u32 - 0xFF61 + 0x21) as u8, 0]))
}

fn jis0212(ch: char) -> Option<(Set, [u8; 2])> {
    let mut buf = [0u8; 8];
    let len = encode_code(Cjk::EucJp, ch, &mut buf)?;
    (len == 3 && buf[0] == 0x8F).then(|| (Set::Jis0212, [buf[1] & 0x7F, buf[2] & 0x7F]))
}

fn upper(set: Set, ch: char) -> Option<(Set, [u8; 2])> {
    if set == THAI {
        let offset = (ch as u32).checked_sub(0x0E00).filter(|offset| *offset < 0x60)?;
        return Some((set, [0x20 + offset as u8, 0]));
    }
    let Set::Upper(index) = set else { return None };
    let byte = part(index)?.upper_byte_of(ch)?;
    Some((set, [byte & 0x7F, 0]))
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

    #[test]
    fn parts_are_one_byte_systems() {
        for (_, name) in PARTS {
            assert!(single::find(name).is_some(), "{name}");
        }
        assert_eq!(single_char(GREEK, b'a'), Some('α'));
        assert_eq!(single_char(LATIN1, b'i'), Some('é'));
    }

    #[test]
    fn priorities() {
        // (encode-coding-string "α" 'iso-2022-7bit) → ESC , F a; "ą" → ESC , B 1
        assert_eq!(code_of(Iso2022::SevenBit, 'α'), Some((GREEK, [b'a', 0])));
        assert_eq!(code_of(Iso2022::SevenBit, 'ą'), Some((Set::Upper(1), [b'1', 0])));
        // 'iso-2022-jp-2: é → JIS X 0212 (ESC $ ( D + 1), α → JIS X 0208 (& A)
        assert_eq!(code_of(Iso2022::Jp2, 'é'), Some((Set::Jis0212, [b'+', b'1'])));
        assert_eq!(code_of(Iso2022::Jp2, 'α'), Some((Set::Jis0208, [b'&', b'A'])));
        assert_eq!(
            designation_of(Iso2022::Jp1978Irv, Set::Ascii).map(|d| d.bytes().to_vec()),
            Some(b"\x1B(J".to_vec())
        );
    }
}
