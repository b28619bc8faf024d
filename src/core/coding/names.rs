//! The table of coding-system names and aliases, and name lookup.
//!
//! Names are Emacs 28.2's, checked with `(coding-system-base NAME)` and
//! `(coding-system-aliases NAME)`; case matters, as symbols do (`UTF-8` is not a coding system).

use super::{Base, Cjk, CodingSystem, Eol, Iso2022, SingleByte, Utf16Form, Utf8Form};
use crate::core::error::{Error, Result, Symbol};
use crate::core::value::Value;

/// `(NAME, BASE-NAME, BASE)`: every name netproc accepts without an end-of-line suffix.
/// BASE-NAME is the name Emacs derives the `-unix`/`-dos`/`-mac` variants from.
const NAMES: &[(&str, &str, Base)] = &[
    ("no-conversion", "no-conversion", Base::NoConversion),
    ("binary", "no-conversion", Base::NoConversion),
    ("raw-text", "raw-text", Base::RawText),
    ("undecided", "undecided", Base::Undecided),
    ("utf-8", "utf-8", Base::Utf8(Utf8Form::Plain)),
    ("mule-utf-8", "utf-8", Base::Utf8(Utf8Form::Plain)),
    ("cp65001", "utf-8", Base::Utf8(Utf8Form::Plain)),
    ("utf-8-with-signature", "utf-8-with-signature", Base::Utf8(Utf8Form::WithSignature)),
    ("utf-8-auto", "utf-8-auto", Base::Utf8(Utf8Form::Auto)),
    ("utf-16le", "utf-16le", Base::Utf16(Utf16Form::Le)),
    ("utf-16be", "utf-16be", Base::Utf16(Utf16Form::Be)),
    ("utf-16", "utf-16", Base::Utf16(Utf16Form::Auto)),
    ("utf-16le-with-signature", "utf-16le-with-signature", Base::Utf16(Utf16Form::LeWithSignature)),
    ("utf-16-le", "utf-16le-with-signature", Base::Utf16(Utf16Form::LeWithSignature)),
    ("utf-16be-with-signature", "utf-16be-with-signature", Base::Utf16(Utf16Form::BeWithSignature)),
    ("utf-16-be", "utf-16be-with-signature", Base::Utf16(Utf16Form::BeWithSignature)),
    ("us-ascii", "us-ascii", Base::Single(SingleByte::Ascii)),
    ("ascii", "us-ascii", Base::Single(SingleByte::Ascii)),
    ("iso-safe", "us-ascii", Base::Single(SingleByte::Ascii)),
    ("iso-latin-1", "iso-latin-1", Base::Single(SingleByte::Latin1)),
    ("iso-8859-1", "iso-latin-1", Base::Single(SingleByte::Latin1)),
    ("latin-1", "iso-latin-1", Base::Single(SingleByte::Latin1)),
    ("iso-latin-2", "iso-latin-2", Base::Single(SingleByte::Iso8859_2)),
    ("iso-8859-2", "iso-latin-2", Base::Single(SingleByte::Iso8859_2)),
    ("latin-2", "iso-latin-2", Base::Single(SingleByte::Iso8859_2)),
    ("iso-latin-3", "iso-latin-3", Base::Single(SingleByte::Iso8859_3)),
    ("iso-8859-3", "iso-latin-3", Base::Single(SingleByte::Iso8859_3)),
    ("latin-3", "iso-latin-3", Base::Single(SingleByte::Iso8859_3)),
    ("iso-latin-4", "iso-latin-4", Base::Single(SingleByte::Iso8859_4)),
    ("iso-8859-4", "iso-latin-4", Base::Single(SingleByte::Iso8859_4)),
    ("latin-4", "iso-latin-4", Base::Single(SingleByte::Iso8859_4)),
    ("cyrillic-iso-8bit", "cyrillic-iso-8bit", Base::Single(SingleByte::Iso8859_5)),
    ("iso-8859-5", "cyrillic-iso-8bit", Base::Single(SingleByte::Iso8859_5)),
    ("iso-8859-6", "iso-8859-6", Base::Single(SingleByte::Iso8859_6)),
    ("greek-iso-8bit", "greek-iso-8bit", Base::Single(SingleByte::Iso8859_7)),
    ("iso-8859-7", "greek-iso-8bit", Base::Single(SingleByte::Iso8859_7)),
    ("hebrew-iso-8bit", "hebrew-iso-8bit", Base::Single(SingleByte::Iso8859_8)),
    ("iso-8859-8", "hebrew-iso-8bit", Base::Single(SingleByte::Iso8859_8)),
    ("iso-8859-8-e", "hebrew-iso-8bit", Base::Single(SingleByte::Iso8859_8)),
    ("iso-8859-8-i", "hebrew-iso-8bit", Base::Single(SingleByte::Iso8859_8)),
    ("iso-latin-5", "iso-latin-5", Base::Single(SingleByte::Latin5)),
    ("iso-8859-9", "iso-latin-5", Base::Single(SingleByte::Latin5)),
    ("latin-5", "iso-latin-5", Base::Single(SingleByte::Latin5)),
    ("iso-latin-6", "iso-latin-6", Base::Single(SingleByte::Iso8859_10)),
    ("iso-8859-10", "iso-latin-6", Base::Single(SingleByte::Iso8859_10)),
    ("latin-6", "iso-latin-6", Base::Single(SingleByte::Iso8859_10)),
    ("iso-8859-11", "iso-8859-11", Base::Single(SingleByte::Iso8859_11)),
    ("iso-latin-7", "iso-latin-7", Base::Single(SingleByte::Iso8859_13)),
    ("iso-8859-13", "iso-latin-7", Base::Single(SingleByte::Iso8859_13)),
    ("latin-7", "iso-latin-7", Base::Single(SingleByte::Iso8859_13)),
    ("iso-latin-8", "iso-latin-8", Base::Single(SingleByte::Iso8859_14)),
    ("iso-8859-14", "iso-latin-8", Base::Single(SingleByte::Iso8859_14)),
    ("latin-8", "iso-latin-8", Base::Single(SingleByte::Iso8859_14)),
    ("iso-latin-9", "iso-latin-9", Base::Single(SingleByte::Iso8859_15)),
    ("iso-8859-15", "iso-latin-9", Base::Single(SingleByte::Iso8859_15)),
    ("latin-9", "iso-latin-9", Base::Single(SingleByte::Iso8859_15)),
    ("latin-0", "iso-latin-9", Base::Single(SingleByte::Iso8859_15)),
    ("iso-latin-10", "iso-latin-10", Base::Single(SingleByte::Iso8859_16)),
    ("iso-8859-16", "iso-latin-10", Base::Single(SingleByte::Iso8859_16)),
    ("latin-10", "iso-latin-10", Base::Single(SingleByte::Iso8859_16)),
    ("windows-1250", "windows-1250", Base::Single(SingleByte::Windows(1250))),
    ("cp1250", "windows-1250", Base::Single(SingleByte::Windows(1250))),
    ("windows-1251", "windows-1251", Base::Single(SingleByte::Windows(1251))),
    ("cp1251", "windows-1251", Base::Single(SingleByte::Windows(1251))),
    ("windows-1252", "windows-1252", Base::Single(SingleByte::Windows(1252))),
    ("cp1252", "windows-1252", Base::Single(SingleByte::Windows(1252))),
    ("windows-1253", "windows-1253", Base::Single(SingleByte::Windows(1253))),
    ("cp1253", "windows-1253", Base::Single(SingleByte::Windows(1253))),
    ("windows-1254", "windows-1254", Base::Single(SingleByte::Windows(1254))),
    ("cp1254", "windows-1254", Base::Single(SingleByte::Windows(1254))),
    ("windows-1255", "windows-1255", Base::Single(SingleByte::Windows(1255))),
    ("cp1255", "windows-1255", Base::Single(SingleByte::Windows(1255))),
    ("windows-1256", "windows-1256", Base::Single(SingleByte::Windows(1256))),
    ("cp1256", "windows-1256", Base::Single(SingleByte::Windows(1256))),
    ("windows-1257", "windows-1257", Base::Single(SingleByte::Windows(1257))),
    ("cp1257", "windows-1257", Base::Single(SingleByte::Windows(1257))),
    ("windows-1258", "windows-1258", Base::Single(SingleByte::Windows(1258))),
    ("cp1258", "windows-1258", Base::Single(SingleByte::Windows(1258))),
    ("cyrillic-koi8", "cyrillic-koi8", Base::Single(SingleByte::Koi8R)),
    ("koi8-r", "cyrillic-koi8", Base::Single(SingleByte::Koi8R)),
    ("koi8", "cyrillic-koi8", Base::Single(SingleByte::Koi8R)),
    ("cp878", "cyrillic-koi8", Base::Single(SingleByte::Koi8R)),
    ("japanese-shift-jis", "japanese-shift-jis", Base::Cjk(Cjk::ShiftJis)),
    ("shift_jis", "japanese-shift-jis", Base::Cjk(Cjk::ShiftJis)),
    ("sjis", "japanese-shift-jis", Base::Cjk(Cjk::ShiftJis)),
    ("japanese-iso-8bit", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("euc-japan-1990", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("euc-japan", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("euc-jp", "japanese-iso-8bit", Base::Cjk(Cjk::EucJp)),
    ("iso-2022-jp", "iso-2022-jp", Base::Iso2022(Iso2022::Jp)),
    ("junet", "iso-2022-jp", Base::Iso2022(Iso2022::Jp)),
    ("iso-2022-7bit", "iso-2022-7bit", Base::Iso2022(Iso2022::SevenBit)),
    ("chinese-gbk", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
    ("gbk", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
    ("cp936", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
    ("windows-936", "chinese-gbk", Base::Cjk(Cjk::Gbk)),
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
];

/// `(NAME, BASE-NAME, BASE, EOL)`: Emacs's names for an end-of-line variant that are not
/// an alias with a suffix.
const VARIANT_NAMES: &[(&str, &str, Base, Eol)] = &[
    ("unix", "undecided", Base::Undecided, Eol::Unix),
    ("dos", "undecided", Base::Undecided, Eol::Dos),
    ("mac", "undecided", Base::Undecided, Eol::Mac),
];

/// Every name in the tables, without end-of-line suffixes.
pub(super) fn all_names() -> impl Iterator<Item = &'static str> {
    NAMES.iter().map(|(name, _, _)| *name).chain(VARIANT_NAMES.iter().map(|(name, _, _, _)| *name))
}

/// The base name and base of a name without suffix.
fn find(name: &str) -> Option<(&'static str, Base)> {
    NAMES.iter().find(|(alias, _, _)| *alias == name).map(|(_, base_name, base)| (*base_name, *base))
}

pub(super) fn lookup(name: &str) -> Result<CodingSystem> {
    if name == "nil" {
        return Ok(CodingSystem::nil());
    }
    if let Some((_, base_name, base, eol)) = VARIANT_NAMES.iter().find(|(variant, ..)| *variant == name) {
        return Ok(CodingSystem { name: name.to_string(), base_name, base: *base, eol: *eol });
    }
    if let Some((base_name, base)) = find(name) {
        let eol = if base == Base::NoConversion { Eol::Unix } else { Eol::Undecided };
        return Ok(CodingSystem { name: name.to_string(), base_name, base, eol });
    }
    for eol in [Eol::Unix, Eol::Dos, Eol::Mac] {
        let Some(stem) = name.strip_suffix(eol.suffix()) else { continue };
        // `binary` and `no-conversion` have no end-of-line variants in Emacs.
        if let Some((base_name, base)) = find(stem).filter(|(_, base)| *base != Base::NoConversion) {
            return Ok(CodingSystem { name: name.to_string(), base_name, base, eol });
        }
    }
    Err(Error::new(Symbol::CodingSystemError, vec![Value::symbol(name)]))
}
