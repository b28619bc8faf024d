//! Where Emacs's Japanese charsets differ from the WHATWG tables `encoding_rs` carries.
//!
//! The WHATWG JIS X 0208 table is Microsoft's CP932 one. Compared with Emacs 28.2's
//! `japanese-jisx0208` (checked code by code with `decode-coding-string` and
//! `encode-coding-string`), it adds rows 9–15 and 85–94 (NEC and IBM extensions, which Emacs
//! treats as unassigned) and maps seven codes of rows 1–2 to different characters. And the
//! WHATWG EUC-JP encoder never writes JIS X 0212, which Emacs's `euc-jp` does.
//!
//! Emacs's `eucjp-ms` is its `euc-jp` plus the vendor parts of eucJP-ms: NEC's row 13 (as
//! in the WHATWG table), the user-defined rows 85–94 and 0x8F 0xF5–0xFE as private use
//! (U+E000–U+E3AB, U+E3AC–U+E757), and IBM's extensions at 8F F3F3–8F F4FE (the table
//! `data/eucjp-ms-ibm.txt`, made with Emacs).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::web::decode_one;

const EUCJP_MS_IBM: &str = include_str!("data/eucjp-ms-ibm.txt");

/// Whether JIS X 0208 row `row` (1–94) is one Emacs has characters in.
pub(crate) fn row_in_emacs(row: u8) -> bool {
    matches!(row, 1..=8 | 16..=84)
}

/// The JIS X 0208 row of the Shift_JIS two-byte code `lead`, `trail`.
pub(crate) fn shift_jis_row(lead: u8, trail: u8) -> u8 {
    let pair = if lead < 0xA0 { lead - 0x81 } else { lead - 0xC1 };
    pair * 2 + 1 + u8::from(trail >= 0x9F)
}

/// `(WHATWG character, Emacs character)` for the codes the two tables map differently
/// (Shift_JIS 815C, 8160, 8161, 817C, 8191, 8192, 81CA).
const REMAPPED: &[(char, char)] = &[
    ('\u{2015}', '\u{2014}'),
    ('\u{FF5E}', '\u{301C}'),
    ('\u{2225}', '\u{2016}'),
    ('\u{FF0D}', '\u{2212}'),
    ('\u{FFE0}', '\u{00A2}'),
    ('\u{FFE1}', '\u{00A3}'),
    ('\u{FFE2}', '\u{00AC}'),
];

/// Emacs's character for what the WHATWG table decoded a JIS X 0208 code to.
pub(crate) fn to_emacs(ch: char) -> char {
    REMAPPED.iter().find(|(web, _)| *web == ch).map_or(ch, |(_, emacs)| *emacs)
}

/// The character to look up in the WHATWG table to encode Emacs's `ch`, or `None` if `ch` is
/// one of the WHATWG-only characters, which Emacs cannot encode.
pub(crate) fn to_web(ch: char) -> Option<char> {
    if let Some((web, _)) = REMAPPED.iter().find(|(_, emacs)| *emacs == ch) {
        return Some(*web);
    }
    (!REMAPPED.iter().any(|(web, _)| *web == ch)).then_some(ch)
}

/// The EUC-JP code (after the 0x8F prefix) of `ch` in JIS X 0212, from a reverse table built
/// on first use by decoding every code through `encoding_rs`.
pub(crate) fn jis0212_code(ch: char) -> Option<[u8; 2]> {
    static REVERSE: OnceLock<HashMap<char, [u8; 2]>> = OnceLock::new();
    let table = REVERSE.get_or_init(|| {
        let mut table = HashMap::new();
        for high in 0xA1..=0xFE {
            for low in 0xA1..=0xFE {
                if let Some(decoded) = decode_one(encoding_rs::EUC_JP, &[0x8F, high, low]) {
                    table.entry(decoded).or_insert([high, low]);
                }
            }
        }
        table
    });
    table.get(&ch).copied()
}

/// Whether JIS X 0208 row `row` has characters in `eucjp-ms`: Emacs's rows, NEC's row 13
/// and the user-defined rows 85–94.
pub(crate) fn row_in_eucjp_ms(row: u8) -> bool {
    row_in_emacs(row) || row == 13 || (85..=94).contains(&row)
}

/// The characters of the IBM extensions of `eucjp-ms`, in code order from 8F F3F3.
fn eucjp_ms_ibm() -> &'static [char] {
    static CHARS: OnceLock<Vec<char>> = OnceLock::new();
    CHARS.get_or_init(|| {
        let lines = EUCJP_MS_IBM.lines().filter(|line| !line.starts_with(";;"));
        let codes = lines.flat_map(str::split_whitespace).filter_map(|hex| u32::from_str_radix(hex, 16).ok());
        codes.filter_map(char::from_u32).collect()
    })
}

/// The index of an IBM extension code (8F F3F3–8F F4FE, after the 8F) in the table.
fn ibm_index(high: u8, low: u8) -> Option<usize> {
    match (high, low) {
        (0xF3, 0xF3..=0xFE) => Some(usize::from(low - 0xF3)),
        (0xF4, 0xA1..=0xFE) => Some(12 + usize::from(low - 0xA1)),
        _ => None,
    }
}

/// The private-use character of a user-defined code of `eucjp-ms`: rows 85–94 of either
/// plane (`first` is U+E000 for JIS X 0208's, U+E3AC for JIS X 0212's).
fn user_defined(high: u8, low: u8, first: u32) -> Option<char> {
    let offset = u32::from(high.checked_sub(0xF5)?) * 94 + u32::from(low.checked_sub(0xA1)?);
    char::from_u32(first + offset)
}

/// `eucjp-ms`'s character for an EUC code, where it is not `euc-jp`'s: `None` where the
/// `euc-jp` mapping applies.
pub(crate) fn eucjp_ms_char(code: &[u8]) -> Option<char> {
    match *code {
        [high @ 0xF5..=0xFE, low] => user_defined(high, low, 0xE000),
        [0x8F, high @ 0xF5..=0xFE, low] => user_defined(high, low, 0xE3AC),
        [0x8F, high, low] => eucjp_ms_ibm().get(ibm_index(high, low)?).copied(),
        _ => None,
    }
}

/// Characters both in JIS X 0208 and in NEC's row 13, which `eucjp-ms` writes with the row
/// 13 code (Emacs 28.2's `(encode-coding-string "∵" 'eucjp-ms)` is AD FA, not A2 E8).
const EUCJP_MS_ROW_13: &[(char, u8)] = &[
    ('\u{2252}', 0xF0),
    ('\u{2261}', 0xF1),
    ('\u{222B}', 0xF2),
    ('\u{221A}', 0xF5),
    ('\u{22A5}', 0xF6),
    ('\u{2220}', 0xF7),
    ('\u{2235}', 0xFA),
    ('\u{2229}', 0xFB),
    ('\u{222A}', 0xFC),
];

/// `eucjp-ms`'s code for `ch`, where it is not `euc-jp`'s: the user-defined areas, IBM's
/// extensions, and the characters it writes in row 13 (the rest of row 13 comes from the
/// WHATWG table).
pub(crate) fn eucjp_ms_code(ch: char, buf: &mut [u8; 8]) -> Option<usize> {
    if let Some((_, low)) = EUCJP_MS_ROW_13.iter().find(|(listed, _)| *listed == ch) {
        buf[..2].copy_from_slice(&[0xAD, *low]);
        return Some(2);
    }
    let code = ch as u32;
    let (prefix, offset) = match code {
        0xE000..=0xE3AB => (None, code - 0xE000),
        0xE3AC..=0xE757 => (Some(0x8F), code - 0xE3AC),
        _ => {
            let index = eucjp_ms_ibm().iter().position(|&ibm| ibm == ch)?;
            let (high, low) = if index < 12 { (0xF3, 0xF3 + index) } else { (0xF4, 0xA1 + index - 12) };
            buf[..3].copy_from_slice(&[0x8F, high, low as u8]);
            return Some(3);
        }
    };
    let (high, low) = (0xF5 + (offset / 94) as u8, 0xA1 + (offset % 94) as u8);
    match prefix {
        Some(prefix) => {
            buf[..3].copy_from_slice(&[prefix, high, low]);
            Some(3)
        }
        None => {
            buf[..2].copy_from_slice(&[high, low]);
            Some(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows() {
        assert_eq!(shift_jis_row(0x81, 0x40), 1);
        assert_eq!(shift_jis_row(0x81, 0x9F), 2);
        assert_eq!(shift_jis_row(0x87, 0x40), 13);
        assert_eq!(shift_jis_row(0xEF, 0xFC), 94);
        assert!(!row_in_emacs(13) && row_in_emacs(84) && !row_in_emacs(89));
    }

    #[test]
    fn remapping_is_a_bijection() {
        assert_eq!(to_emacs('\u{FF5E}'), '\u{301C}');
        assert_eq!(to_web('\u{301C}'), Some('\u{FF5E}'));
        assert_eq!(to_web('\u{FF5E}'), None);
        assert_eq!(to_web('あ'), Some('あ'));
        // (encode-coding-string "¡" 'euc-jp) → \217\242\302
        assert_eq!(jis0212_code('¡'), Some([0xA2, 0xC2]));
    }

    #[test]
    fn eucjp_ms_parts() {
        assert_eq!(eucjp_ms_ibm().len(), 106);
        // (decode-coding-string "\365\241" 'eucjp-ms) → U+E000; "\217\376\376" → U+E757;
        // "\217\363\363" → ⅰ; "\217\364\376" → U+9ED1
        assert_eq!(eucjp_ms_char(&[0xF5, 0xA1]), Some('\u{E000}'));
        assert_eq!(eucjp_ms_char(&[0xFE, 0xFE]), Some('\u{E3AB}'));
        assert_eq!(eucjp_ms_char(&[0x8F, 0xFE, 0xFE]), Some('\u{E757}'));
        assert_eq!(eucjp_ms_char(&[0x8F, 0xF3, 0xF3]), Some('ⅰ'));
        assert_eq!(eucjp_ms_char(&[0x8F, 0xF4, 0xFE]), Some('\u{9ED1}'));
        assert_eq!(eucjp_ms_char(&[0xB0, 0xA1]), None);
        let mut buf = [0u8; 8];
        assert_eq!(
            eucjp_ms_code('\u{E3AB}', &mut buf).map(|len| buf[..len].to_vec()),
            Some(vec![0xFE, 0xFE])
        );
        assert_eq!(
            eucjp_ms_code('\u{E3AC}', &mut buf).map(|len| buf[..len].to_vec()),
            Some(vec![0x8F, 0xF5, 0xA1])
        );
        assert_eq!(
            eucjp_ms_code('\u{9ED1}', &mut buf).map(|len| buf[..len].to_vec()),
            Some(vec![0x8F, 0xF4, 0xFE])
        );
    }
}
