//! Where Emacs's Japanese charsets differ from the WHATWG tables `encoding_rs` carries.
//!
//! The WHATWG JIS X 0208 table is Microsoft's CP932 one. Compared with Emacs 28.2's
//! `japanese-jisx0208` (checked code by code with `decode-coding-string` and
//! `encode-coding-string`), it adds rows 9–15 and 85–94 (NEC and IBM extensions, which Emacs
//! treats as unassigned) and maps seven codes of rows 1–2 to different characters. And the
//! WHATWG EUC-JP encoder never writes JIS X 0212, which Emacs's `euc-jp` does.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::web::decode_one;

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
}
