//! Where Emacs's Chinese charsets differ from the WHATWG tables `encoding_rs` carries: GB 2312
//! (`chinese-iso-8bit`, and in `iso-2022-7bit`), GBK (`chinese-gbk`) and Big5
//! (`chinese-big5`). Each was checked code by code against Emacs 28.2 with
//! `decode-coding-string` and `encode-coding-string`.
//!
//! A code Emacs's charset leaves without a Unicode character (Emacs makes a private character
//! of it) decodes here as raw bytes, like any code the tables leave unassigned.

/// The cells GB 2312 assigns, as EUC codes: `(lead, first trail, last trail)`. Leads not
/// listed (0xAA–0xAF and 0xF8–0xFE) have none; rows 0xB0–0xF7 except 0xD7 are full.
const GB2312_PARTIAL_ROWS: &[(u8, u8, u8)] = &[
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

/// Whether the EUC code `lead`, `trail` (both 0xA1–0xFE) is a character of GB 2312. GBK,
/// which the WHATWG table is, fills the other cells (small roman numerals, private use, …).
pub(crate) fn gb2312_assigned(lead: u8, trail: u8) -> bool {
    match lead {
        0xA1 | 0xA3 | 0xB0..=0xD6 | 0xD8..=0xF7 => (0xA1..=0xFE).contains(&trail),
        _ => GB2312_PARTIAL_ROWS
            .iter()
            .any(|&(row, first, last)| row == lead && (first..=last).contains(&trail)),
    }
}

/// `(WHATWG character, Emacs character)` for the GB 2312 codes the two map differently (A1A4,
/// A1AA).
const GB2312_REMAPPED: &[(char, char)] = &[('\u{00B7}', '\u{30FB}'), ('\u{2014}', '\u{2015}')];

/// Emacs's character for what the WHATWG table decoded a GB 2312 code to.
pub(crate) fn gb2312_to_emacs(ch: char) -> char {
    GB2312_REMAPPED.iter().find(|(web, _)| *web == ch).map_or(ch, |(_, emacs)| *emacs)
}

/// The character to look up in the WHATWG table to encode Emacs's `ch` in GB 2312.
pub(crate) fn gb2312_to_web(ch: char) -> char {
    GB2312_REMAPPED.iter().find(|(_, emacs)| *emacs == ch).map_or(ch, |(web, _)| *web)
}

/// GBK codes Emacs's `chinese-gbk` has no character for, besides those the WHATWG table maps
/// to private use: characters GB 18030-2005 added (€, vertical forms, ideographic description
/// characters, CJK radicals and extension A ideographs in FE50–FEA0).
const GBK_UNASSIGNED: &[(u16, u16)] = &[
    (0xA2E3, 0xA2E3),
    (0xA3A0, 0xA3A0),
    (0xA6D9, 0xA6DF),
    (0xA6EC, 0xA6ED),
    (0xA6F3, 0xA6F3),
    (0xA8BC, 0xA8BC),
    (0xA8BF, 0xA8BF),
    (0xA989, 0xA995),
    (0xFE50, 0xFEA0),
];

/// Whether the WHATWG character `ch` of GBK code `code` is one of Emacs's.
pub(crate) fn gbk_assigned(code: u16, ch: char) -> bool {
    !is_private_use(ch) && !GBK_UNASSIGNED.iter().any(|&(first, last)| (first..=last).contains(&code))
}

fn is_private_use(ch: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&ch)
}

/// Big5 codes Emacs's `chinese-big5` has no character for: the second codes of two
/// duplicated ideographs, the control pictures, and box drawings the ETEN extension repeats.
const BIG5_UNASSIGNED: &[(u16, u16)] =
    &[(0xA2CC, 0xA2CC), (0xA2CE, 0xA2CE), (0xA3C0, 0xA3E0), (0xF9E9, 0xF9EB), (0xF9F9, 0xF9FD)];

/// The ETEN area Emacs maps to private use, from U+F6B1 on, in code order (the WHATWG table
/// has ETEN's characters there).
const BIG5_PRIVATE_FIRST: u16 = 0xC6A1;
const BIG5_PRIVATE_LAST: u16 = 0xC8FE;
const BIG5_PRIVATE_BASE: u32 = 0xF6B1;

/// Emacs's codes for characters the WHATWG encoder writes elsewhere: box drawings and two
/// ideographs Big5 has twice (Emacs writes the first code, WHATWG the last), and U+4EDD,
/// which WHATWG writes as C94A, the code of U+FA0C.
const BIG5_CODES: &[(char, u16)] = &[
    ('\u{2550}', 0xA2A4),
    ('\u{255E}', 0xA2A5),
    ('\u{256A}', 0xA2A6),
    ('\u{2561}', 0xA2A7),
    ('\u{256D}', 0xA27E),
    ('\u{256E}', 0xA2A1),
    ('\u{2570}', 0xA2A2),
    ('\u{256F}', 0xA2A3),
    ('\u{5341}', 0xA451),
    ('\u{5345}', 0xA4CA),
    ('\u{4EDD}', 0xC969),
];

/// The index of a Big5 code among the 157 codes of its lead byte (trails 40–7E, A1–FE).
fn big5_index(code: u16) -> Option<u32> {
    let [lead, trail] = code.to_be_bytes();
    let column = match trail {
        0x40..=0x7E => trail - 0x40,
        0xA1..=0xFE => trail - 0xA1 + 63,
        _ => return None,
    };
    Some(u32::from(lead) * 157 + u32::from(column))
}

/// Emacs's character for Big5 code `code`, where it is not the WHATWG one: `Some(None)` where
/// Emacs has none, `None` where the WHATWG table applies.
pub(crate) fn big5_override(code: u16) -> Option<Option<char>> {
    if BIG5_UNASSIGNED.iter().any(|&(first, last)| (first..=last).contains(&code)) {
        return Some(None);
    }
    if (BIG5_PRIVATE_FIRST..=BIG5_PRIVATE_LAST).contains(&code) {
        let offset = big5_index(code)? - big5_index(BIG5_PRIVATE_FIRST)?;
        return Some(char::from_u32(BIG5_PRIVATE_BASE + offset));
    }
    // The last ETEN box drawing: Emacs has the dark shade U+2593, WHATWG U+FFED.
    (code == 0xF9FE).then_some(Some('\u{2593}'))
}

/// Emacs's Big5 code for `ch`, where the WHATWG encoder writes none or another one.
pub(crate) fn big5_code(ch: char) -> Option<u16> {
    if let Some((_, code)) = BIG5_CODES.iter().find(|(listed, _)| *listed == ch) {
        return Some(*code);
    }
    if ch == '\u{2593}' {
        return Some(0xF9FE);
    }
    let offset = (ch as u32).checked_sub(BIG5_PRIVATE_BASE).filter(|offset| *offset < 408)?;
    let index = big5_index(BIG5_PRIVATE_FIRST)? + offset;
    let code = u16::try_from(index / 157).ok()? << 8 | big5_trail(index % 157)?;
    (BIG5_PRIVATE_FIRST..=BIG5_PRIVATE_LAST).contains(&code).then_some(code)
}

fn big5_trail(column: u32) -> Option<u16> {
    let column = u16::try_from(column).ok()?;
    Some(if column < 63 { 0x40 + column } else { 0xA1 + column - 63 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb2312_cells() {
        assert!(gb2312_assigned(0xA1, 0xA1) && gb2312_assigned(0xB0, 0xA1) && gb2312_assigned(0xF7, 0xFE));
        // (decode-coding-string "\242\241" 'euc-cn) → a character of no Unicode mapping
        assert!(!gb2312_assigned(0xA2, 0xA1) && !gb2312_assigned(0xAA, 0xA1) && !gb2312_assigned(0xD7, 0xFA));
        assert_eq!(gb2312_to_emacs('\u{B7}'), '\u{30FB}');
        assert_eq!(gb2312_to_web('\u{2015}'), '\u{2014}');
    }

    #[test]
    fn big5_private_area_both_ways() {
        // (decode-coding-string "\306\241" 'big5) → U+F6B1; "\310\376" → U+F848
        assert_eq!(big5_override(0xC6A1), Some(Some('\u{F6B1}')));
        assert_eq!(big5_override(0xC740), Some(Some('\u{F70F}')));
        assert_eq!(big5_override(0xC8FE), Some(Some('\u{F848}')));
        assert_eq!(big5_code('\u{F6B1}'), Some(0xC6A1));
        assert_eq!(big5_code('\u{F70F}'), Some(0xC740));
        assert_eq!(big5_code('\u{F848}'), Some(0xC8FE));
        assert_eq!(big5_code('\u{F849}'), None);
        assert_eq!(big5_code('😀'), None);
        assert_eq!(big5_override(0xA3C0), Some(None));
        assert_eq!(big5_override(0xA440), None);
    }
}
