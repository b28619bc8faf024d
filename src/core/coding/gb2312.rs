//! Where Emacs's `chinese-gb2312` charset differs from the WHATWG GBK table `encoding_rs`
//! carries, which GB 2312 is a part of.
//!
//! GBK fills GB 2312's empty cells (small roman numerals, private-use characters, …); Emacs
//! 28.2's charset has characters only in the cells GB 2312 assigns, and maps two of them to
//! other characters (checked code by code with `decode-coding-string` and
//! `encode-coding-string` of `chinese-iso-8bit`).

/// The cells GB 2312 assigns, as EUC codes: `(lead, first trail, last trail)`. Leads not
/// listed (0xAA–0xAF and 0xF8–0xFE) have none; rows 0xB0–0xF7 except 0xD7 are full.
const PARTIAL_ROWS: &[(u8, u8, u8)] = &[
    (0xA2, 0xB1, 0xE2),
    (0xA2, 0xE5, 0xEE),
    (0xA2, 0xF1, 0xFC),
    (0xA4, 0xA1, 0xF3),
    (0xA5, 0xA1, 0xF6),
    (0xA6, 0xA1, 0xB8),
    (0xA6, 0xC1, 0xD8),
    (0xA7, 0xA1, 0xC1),
    (0xA7, 0xD1, 0xF1),
    (0xA8, 0xA1, 0xBA),
    (0xA8, 0xC5, 0xE9),
    (0xA9, 0xA4, 0xEF),
    (0xD7, 0xA1, 0xF9),
];

/// Whether the EUC code `lead`, `trail` (both 0xA1–0xFE) is a character of GB 2312.
pub(crate) fn assigned(lead: u8, trail: u8) -> bool {
    match lead {
        0xA1 | 0xA3 | 0xB0..=0xD6 | 0xD8..=0xF7 => (0xA1..=0xFE).contains(&trail),
        _ => PARTIAL_ROWS.iter().any(|&(row, first, last)| row == lead && (first..=last).contains(&trail)),
    }
}

/// `(WHATWG character, Emacs character)` for the codes the two map differently (A1A4,
/// A1AA).
const REMAPPED: &[(char, char)] = &[('\u{00B7}', '\u{30FB}'), ('\u{2014}', '\u{2015}')];

/// Emacs's character for what the WHATWG table decoded a GB 2312 code to.
pub(crate) fn to_emacs(ch: char) -> char {
    REMAPPED.iter().find(|(web, _)| *web == ch).map_or(ch, |(_, emacs)| *emacs)
}

/// The character to look up in the WHATWG table to encode Emacs's `ch`.
pub(crate) fn to_web(ch: char) -> char {
    REMAPPED.iter().find(|(_, emacs)| *emacs == ch).map_or(ch, |(web, _)| *web)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        assert!(assigned(0xA1, 0xA1) && assigned(0xB0, 0xA1) && assigned(0xF7, 0xFE));
        // (decode-coding-string "\242\241" 'euc-cn) → a character of no Unicode mapping
        assert!(!assigned(0xA2, 0xA1) && !assigned(0xAA, 0xA1) && !assigned(0xD7, 0xFA));
        assert_eq!(to_emacs('\u{B7}'), '\u{30FB}');
        assert_eq!(to_web('\u{2015}'), '\u{2014}');
    }
}
