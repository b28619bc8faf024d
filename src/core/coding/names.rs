//! The table of coding-system names and aliases, and name lookup.
//!
//! Names are Emacs 28.2's, checked with `(coding-system-base NAME)` and
//! `(coding-system-aliases NAME)`; case matters, as symbols do (`UTF-8` is not a coding system).

use super::{single, Base, Cjk, CodingSystem, Eol, Iso2022, Utf16Form, Utf8Form};
use crate::core::error::{Error, Result, Symbol};
use crate::core::value::Value;

/// `(NAME, BASE-NAME, BASE)`: every name netproc accepts without an end-of-line suffix,
/// except the one-byte systems', which come with their tables (`single.rs`). BASE-NAME is
/// the name Emacs derives the `-unix`/`-dos`/`-mac` variants from.
const NAMES: &[(&str, &str, Base)] = &[
    ("no-conversion", "no-conversion", Base::NoConversion),
    ("binary", "no-conversion", Base::NoConversion),
    ("no-conversion-multibyte", "no-conversion-multibyte", Base::NoConversionMultibyte),
    ("raw-text", "raw-text", Base::RawText),
    ("undecided", "undecided", Base::Undecided),
    // Emacs's prefer-utf-8 checks for UTF-8 before the other systems; in a UTF-8 locale
    // undecided tries it first anyway, so the two detect alike (checked with processes).
    ("prefer-utf-8", "prefer-utf-8", Base::Undecided),
    ("utf-8", "utf-8", Base::Utf8(Utf8Form::Plain)),
    ("mule-utf-8", "utf-8", Base::Utf8(Utf8Form::Plain)),
    ("cp65001", "utf-8", Base::Utf8(Utf8Form::Plain)),
    // utf-8-emacs differs from utf-8 only in the characters beyond Unicode, which netproc
    // keeps as raw bytes in both.
    ("utf-8-emacs", "utf-8-emacs", Base::Utf8(Utf8Form::Plain)),
    ("utf-8-with-signature", "utf-8-with-signature", Base::Utf8(Utf8Form::WithSignature)),
    ("utf-8-auto", "utf-8-auto", Base::Utf8(Utf8Form::Auto)),
    ("utf-7", "utf-7", Base::Utf7 { imap: false }),
    ("utf-7-imap", "utf-7-imap", Base::Utf7 { imap: true }),
    ("utf-16le", "utf-16le", Base::Utf16(Utf16Form::Le)),
    ("utf-16be", "utf-16be", Base::Utf16(Utf16Form::Be)),
    ("utf-16", "utf-16", Base::Utf16(Utf16Form::Auto)),
    ("utf-16le-with-signature", "utf-16le-with-signature", Base::Utf16(Utf16Form::LeWithSignature)),
    ("utf-16-le", "utf-16le-with-signature", Base::Utf16(Utf16Form::LeWithSignature)),
    ("utf-16be-with-signature", "utf-16be-with-signature", Base::Utf16(Utf16Form::BeWithSignature)),
    ("utf-16-be", "utf-16be-with-signature", Base::Utf16(Utf16Form::BeWithSignature)),
    ("japanese-shift-jis", "japanese-shift-jis", Base::Cjk(Cjk::ShiftJis)),
    ("shift_jis", "japanese-shift-jis", Base::Cjk(Cjk::ShiftJis)),
    ("sjis", "japanese-shift-jis", Base::Cjk(Cjk::ShiftJis)),
    ("japanese-cp932", "japanese-cp932", Base::Cjk(Cjk::Cp932)),
    ("cp932", "japanese-cp932", Base::Cjk(Cjk::Cp932)),
    ("japanese-iso-8bit", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("euc-japan-1990", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("euc-japan", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("euc-jp", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("eucjp-ms", "eucjp-ms", Base::Cjk(Cjk::EucJpMs)),
    ("iso-2022-jp", "iso-2022-jp", Base::Iso2022(Iso2022::Jp)),
    ("junet", "iso-2022-jp", Base::Iso2022(Iso2022::Jp)),
    ("iso-2022-7bit", "iso-2022-7bit", Base::Iso2022(Iso2022::SevenBit)),
    ("emacs-mule", "emacs-mule", Base::EmacsMule),
    ("iso-2022-kr", "iso-2022-kr", Base::Iso2022(Iso2022::Kr)),
    ("korean-iso-7bit-lock", "iso-2022-kr", Base::Iso2022(Iso2022::Kr)),
    ("iso-2022-jp-2", "iso-2022-jp-2", Base::Iso2022(Iso2022::Jp2)),
    ("japanese-iso-7bit-1978-irv", "japanese-iso-7bit-1978-irv", Base::Iso2022(Iso2022::Jp1978Irv)),
    ("iso-2022-jp-1978-irv", "japanese-iso-7bit-1978-irv", Base::Iso2022(Iso2022::Jp1978Irv)),
    ("old-jis", "japanese-iso-7bit-1978-irv", Base::Iso2022(Iso2022::Jp1978Irv)),
    ("chinese-gbk", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
    ("gbk", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
    ("cp936", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
    ("windows-936", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
    ("chinese-iso-8bit", "chinese-iso-8bit", Base::Cjk(Cjk::EucCn)),
    ("cn-gb-2312", "chinese-iso-8bit", Base::Cjk(Cjk::EucCn)),
    ("euc-china", "chinese-iso-8bit", Base::Cjk(Cjk::EucCn)),
    ("euc-cn", "chinese-iso-8bit", Base::Cjk(Cjk::EucCn)),
    ("cn-gb", "chinese-iso-8bit", Base::Cjk(Cjk::EucCn)),
    ("gb2312", "chinese-iso-8bit", Base::Cjk(Cjk::EucCn)),
    ("chinese-hz", "chinese-hz", Base::Hz),
    ("hz-gb-2312", "chinese-hz", Base::Hz),
    ("hz", "chinese-hz", Base::Hz),
    ("chinese-gb18030", "chinese-gb18030", Base::Cjk(Cjk::Gb18030)),
    ("gb18030", "chinese-gb18030", Base::Cjk(Cjk::Gb18030)),
    ("chinese-big5", "chinese-big5", Base::Cjk(Cjk::Big5)),
    ("big5", "chinese-big5", Base::Cjk(Cjk::Big5)),
    ("cn-big5", "chinese-big5", Base::Cjk(Cjk::Big5)),
    ("cp950", "chinese-big5", Base::Cjk(Cjk::Big5)),
    ("korean-iso-8bit", "korean-iso-8bit", Base::Cjk(Cjk::EucKr)),
    ("euc-kr", "korean-iso-8bit", Base::Cjk(Cjk::EucKr)),
    ("euc-korea", "korean-iso-8bit", Base::Cjk(Cjk::EucKr)),
    ("ks_c_5601-1987", "korean-iso-8bit", Base::Cjk(Cjk::EucKr)),
    ("korean-cp949", "korean-cp949", Base::Cjk(Cjk::Cp949)),
    ("cp949", "korean-cp949", Base::Cjk(Cjk::Cp949)),
];

/// `(NAME, BASE-NAME, BASE, EOL)`: Emacs's names for an end-of-line variant that are not
/// an alias with a suffix.
const VARIANT_NAMES: &[(&str, &str, Base, Eol)] = &[
    ("unix", "undecided", Base::Undecided, Eol::Unix),
    ("dos", "undecided", Base::Undecided, Eol::Dos),
    ("mac", "undecided", Base::Undecided, Eol::Mac),
    ("emacs-internal", "utf-8-emacs", Base::Utf8(Utf8Form::Plain), Eol::Unix),
];

/// Every name in the tables, without end-of-line suffixes.
pub(super) fn all_names() -> impl Iterator<Item = &'static str> {
    NAMES
        .iter()
        .map(|(name, _, _)| *name)
        .chain(single::all_names())
        .chain(VARIANT_NAMES.iter().map(|(name, _, _, _)| *name))
}

/// The base name and base of a name without suffix.
pub(super) fn find(name: &str) -> Option<(&'static str, Base)> {
    let listed = NAMES.iter().find(|(alias, _, _)| *alias == name);
    listed
        .map(|(_, base_name, base)| (*base_name, *base))
        .or_else(|| single::find(name).map(|(base_name, set)| (base_name, Base::Single(set))))
}

pub(super) fn lookup(name: &str) -> Result<CodingSystem> {
    if name == "nil" {
        return Ok(CodingSystem::nil());
    }
    if let Some((_, base_name, base, eol)) = VARIANT_NAMES.iter().find(|(variant, ..)| *variant == name) {
        return Ok(CodingSystem { name: name.to_string(), base_name, base: *base, eol: *eol });
    }
    if let Some((base_name, base)) = find(name) {
        let eol = if base.lf_only() { Eol::Unix } else { Eol::Undecided };
        return Ok(CodingSystem { name: name.to_string(), base_name, base, eol });
    }
    for eol in [Eol::Unix, Eol::Dos, Eol::Mac] {
        let Some(stem) = name.strip_suffix(eol.suffix()) else { continue };
        // `binary`, `no-conversion` and `no-conversion-multibyte` have no variants in Emacs.
        if let Some((base_name, base)) = find(stem).filter(|(_, base)| !base.lf_only()) {
            return Ok(CodingSystem { name: name.to_string(), base_name, base, eol });
        }
    }
    Err(Error::new(Symbol::CodingSystemError, vec![Value::symbol(name)]))
}
