//! Coding systems: Emacs's names for character encodings and end-of-line conventions, and
//! the streaming decoder and the encoder that network processes use.
//!
//! # The text representation
//!
//! Decoded text reaches a host in one of two forms, told apart by [`Decoder::multibyte`]:
//!
//! - **Multibyte** (every coding system except `binary`, `no-conversion`, `raw-text` and nil):
//!   UTF-8, except that a byte 0x80–0xFF that is not valid in the coding system is kept as a
//!   *raw byte*, written as Emacs writes its eight-bit characters internally: the two bytes
//!   `0xC0 | ((B >> 6) & 1)`, `0x80 | (B & 0x3F)`, that is `C0 80`–`C0 BF` for 0x80–0xBF and
//!   `C1 80`–`C1 BF` for 0xC0–0xFF (see [`raw_byte_form`]). These overlong pairs never occur in
//!   valid UTF-8, so a host can always tell raw bytes from text ([`runs`] splits text into the
//!   two), and encoding the text back gives the original bytes: nothing is ever dropped.
//!   Emacs shows such bytes as `\NNN`. (An invalid ASCII byte cannot happen: ASCII bytes are
//!   always characters.)
//! - **Unibyte** (`binary`, `no-conversion`, `raw-text`, nil): the bytes themselves, after
//!   end-of-line conversion for `raw-text`.
//!
//! [`Encoder::encode_text`] takes multibyte text in the same form (raw-byte pairs become the
//! byte again); [`Encoder::encode_bytes`] takes unibyte data, which gets end-of-line
//! conversion only, as Emacs does for unibyte strings.
//!
//! # Streaming
//!
//! A [`Decoder`] is fed each read as it arrives. A character, an escape sequence or a CR LF
//! split between two reads is decoded once, in the right place: the incomplete part is held
//! until the next read, or until [`Decoder::finish`] at close, which delivers it as raw bytes
//! (a held CR as a CR).
//!
//! # Where netproc differs from Emacs 28.2
//!
//! - A CR at the end of a read is held when the end-of-line convention is still undecided;
//!   Emacs takes it for a Mac end-of-line, so a CR LF split between reads made it `-mac`.
//! - `undecided` detection is a simplified version of Emacs's (see [`Decoder::detected`] and
//!   the table in `detect.rs`): Emacs also weighs `emacs-mule` and `japanese-shift-jis`.
//! - Unencodable characters become a space (`?` for `us-ascii`), as in Emacs. A byte-order
//!   mark is written once per [`Encoder`], before its first text (Emacs writes it again when
//!   its encoding state is set up anew, e.g. after a unibyte send).
//! - Emacs characters Unicode lacks arrive as raw bytes: UTF-8 sequences above U+10FFFF,
//!   unpaired UTF-16 surrogates, and codes the CJK tables leave unassigned (Emacs makes
//!   private characters of them).
//! - The one-byte systems' tables are Emacs's own (`data/one-byte.txt`, made with Emacs by
//!   tools/emacs-coding-data.el), and match it byte for byte and character for character
//!   (tests/coding_emacs_tables.rs). The multibyte sets' tables come from `encoding_rs`
//!   (WHATWG), cut to the byte ranges and rows of Emacs's charsets, with Emacs's mapping
//!   where the two differ (`jis.rs`: seven JIS X 0208 codes; `chinese.rs`: two GB 2312 codes,
//!   the GBK codes GB 18030-2005 added, Big5's ETEN area and a few of its duplicates).
//!   Checked code by code against Emacs (every two-byte code, and encoding every character up
//!   to U+2FFFF) and by the samples of tests/coding_emacs_samples.rs, what still differs,
//!   apart from the unassigned codes above, is: ISO-2022-JP, 38 kanji Emacs writes with JIS X
//!   0208-1978 (`ESC $ @`), a space here; EUC-JP, 10 of those; GB18030, the four-byte codes,
//!   where netproc follows the standard and Emacs 28.2 is off by one from U+1E40 to U+FFFF
//!   (it writes U+1E40 as `81 35 F4 37`, the standard as `81 35 F4 38`), and the 2005/2022
//!   re-mappings of a few private-use codes; EUC-KR, U+327E (KS X 1001:2002);
//!   `iso-2022-7bit`, the charsets netproc has no tables for (CNS 11643, JIS X 0213,
//!   Ethiopic, Indic scripts, …): their designations are passed on as characters, and a
//!   character Emacs would write in one of them goes out in a set netproc has, or as a space.

mod chinese;
mod cjk;
mod decode;
mod detect;
mod encode;
mod eol;
mod hz;
mod iso2022;
mod iso2022_sets;
mod jis;
mod mule;
mod names;
mod single;
mod text;
mod utf;
mod utf7;
mod web;

pub use decode::Decoder;
pub use encode::Encoder;
pub use text::{raw_byte_form, runs, RawRun, Run, Runs};

use super::error::Result;

/// An end-of-line convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Eol {
    /// LF (`-unix`): CR is an ordinary character.
    Unix,
    /// CR LF (`-dos`).
    Dos,
    /// CR (`-mac`).
    Mac,
    /// Not fixed by the name: detected from the first end-of-lines decoded, and LF when
    /// encoding.
    Undecided,
}

impl Eol {
    /// The suffix of the coding-system name, e.g. `"-dos"`.
    fn suffix(self) -> &'static str {
        match self {
            Eol::Unix => "-unix",
            Eol::Dos => "-dos",
            Eol::Mac => "-mac",
            Eol::Undecided => "",
        }
    }
}

/// Forms of the UTF-8 family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Utf8Form {
    /// `utf-8`: a BOM is an ordinary character.
    Plain,
    /// `utf-8-with-signature`: a BOM is removed when decoding and written when encoding.
    WithSignature,
    /// `utf-8-auto`: a BOM is removed when decoding (and decides `utf-8-with-signature`);
    /// none is written.
    Auto,
}

/// Forms of the UTF-16 family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Utf16Form {
    /// `utf-16le`: no BOM either way.
    Le,
    /// `utf-16be`: no BOM either way.
    Be,
    /// `utf-16`: the BOM decides the byte order when decoding (big-endian without one);
    /// big-endian with a BOM when encoding.
    Auto,
    /// `utf-16le-with-signature`: BOM removed when decoding, written when encoding.
    LeWithSignature,
    /// `utf-16be-with-signature`.
    BeWithSignature,
}

/// A one-byte coding system: which of the tables in `data/one-byte.txt` (see `single.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SingleByte(u8);

impl SingleByte {
    /// Whether every byte string decodes to text that encodes back to the same bytes (not so
    /// where two bytes share a character, or an ASCII byte outside the charset decodes to
    /// itself but encodes as the default byte).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn round_trips(self) -> bool {
        single::table(self).round_trips()
    }
}

/// Multibyte CJK character sets with a fixed framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Cjk {
    ShiftJis,
    /// `japanese-cp932`: Microsoft's Shift_JIS, the WHATWG table.
    Cp932,
    EucJp,
    /// `eucjp-ms`: EUC-JP with the vendor parts of eucJP-ms (see `jis.rs`).
    EucJpMs,
    EucKr,
    /// `korean-cp949`: Unified Hangul Code, the WHATWG EUC-KR table.
    Cp949,
    /// `chinese-iso-8bit`: EUC-CN, GB 2312 alone.
    EucCn,
    Big5,
    Gbk,
    Gb18030,
}

/// The ISO-2022 7-bit coding systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Iso2022 {
    /// `iso-2022-jp`: ASCII, JIS X 0201 Roman, JIS X 0208 (1978 and 1983).
    Jp,
    /// `iso-2022-7bit`, as far as netproc implements it: the `iso-2022-jp` sets plus JIS X 0201
    /// katakana, JIS X 0212, GB 2312, KS C 5601 and the ISO 8859 upper halves (`ESC , F`).
    SevenBit,
    /// `iso-2022-kr`: ASCII and KS C 5601, in G0 or (with SO and SI) in G1.
    Kr,
    /// `iso-2022-jp-2`: the `iso-2022-jp` sets plus JIS X 0212, GB 2312, KS C 5601, and
    /// Latin-1 and Greek (in G0, or in G2 with `ESC N`).
    Jp2,
    /// `japanese-iso-7bit-1978-irv`: `iso-2022-jp` with JIS X 0201 Roman taken for ASCII and
    /// JIS X 0208 written as the 1978 version, plus JIS X 0212.
    Jp1978Irv,
}

/// What a coding system does with characters, apart from end-of-lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Base {
    /// nil: no conversion at all.
    Nil,
    /// `no-conversion` / `binary`.
    NoConversion,
    /// `no-conversion-multibyte`: like `no-conversion`, but the text is multibyte, every byte
    /// 0x80–0xFF a raw byte.
    NoConversionMultibyte,
    /// `raw-text`: bytes as they are, with end-of-line conversion.
    RawText,
    /// `undecided`: detected from the data.
    Undecided,
    Utf8(Utf8Form),
    Utf16(Utf16Form),
    Single(SingleByte),
    Cjk(Cjk),
    Iso2022(Iso2022),
    /// `emacs-mule`.
    EmacsMule,
    /// `utf-7`, or with `imap` `utf-7-imap`.
    Utf7 {
        imap: bool,
    },
    /// `chinese-hz`.
    Hz,
}

impl Base {
    /// Whether the end-of-line is always LF, so that there are no `-unix`, `-dos` and `-mac`
    /// variants (Emacs's `(coding-system-eol-type NAME)` is 0).
    pub(crate) fn lf_only(self) -> bool {
        matches!(self, Base::Nil | Base::NoConversion | Base::NoConversionMultibyte)
    }
}

/// A coding system, as Emacs names it: a character encoding plus an end-of-line convention.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodingSystem {
    /// The name as given (an alias stays an alias), which is what Emacs stores and shows.
    name: String,
    /// Emacs's base name, from which the `-unix`/`-dos`/`-mac` variants are named.
    base_name: &'static str,
    base: Base,
    eol: Eol,
}

impl CodingSystem {
    /// The coding system called `name`: any Emacs name or alias in netproc's table, with or
    /// without a `-unix`, `-dos` or `-mac` suffix, or `nil`.
    ///
    /// An unknown name is `(coding-system-error NAME)`, "Invalid coding system: NAME".
    pub fn from_name(name: &str) -> Result<CodingSystem> {
        names::lookup(name)
    }

    /// Every name [`CodingSystem::from_name`] accepts without an end-of-line suffix (each
    /// also takes `-unix`, `-dos` and `-mac`, except `binary`, `no-conversion` and
    /// `no-conversion-multibyte`, and `unix`, `dos`, `mac` and `emacs-internal`, which are
    /// themselves variants of `undecided` and `utf-8-emacs`); `nil` is accepted too.
    pub fn known_names() -> impl Iterator<Item = &'static str> {
        names::all_names()
    }

    /// nil: no conversion.
    pub fn nil() -> CodingSystem {
        CodingSystem { name: "nil".into(), base_name: "nil", base: Base::Nil, eol: Eol::Unix }
    }

    /// The name, as `process-coding-system` shows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The end-of-line convention.
    pub fn eol(&self) -> Eol {
        self.eol
    }

    /// Whether this is nil.
    pub fn is_nil(&self) -> bool {
        self.base == Base::Nil
    }

    /// Whether decoding gives unibyte text: `binary`, `no-conversion`, `raw-text` and nil.
    pub fn is_unibyte(&self) -> bool {
        matches!(self.base, Base::Nil | Base::NoConversion | Base::RawText)
    }

    /// The variant of this system with end-of-line `eol`, named as Emacs names it
    /// (`latin-1` → `iso-latin-1-dos`). `binary`, `no-conversion-multibyte` and nil have no
    /// variants and stay as they are.
    pub fn with_eol(&self, eol: Eol) -> CodingSystem {
        if self.base.lf_only() || eol == self.eol {
            return self.clone();
        }
        Self::variant(self.base_name, self.base, eol)
    }

    /// What `set-process-coding-system` stores for ENCODING: an undecided end-of-line becomes
    /// `-unix` (`utf-8` → `utf-8-unix`), and nil becomes `raw-text-unix`.
    pub fn with_eol_unix_if_undecided(&self) -> CodingSystem {
        match self.base {
            Base::Nil => Self::variant("raw-text", Base::RawText, Eol::Unix),
            _ if self.eol == Eol::Undecided => self.with_eol(Eol::Unix),
            _ => self.clone(),
        }
    }

    /// What `set-process-filter-multibyte` with nil makes of a decoding system: `raw-text`
    /// with the same end-of-line (Emacs's `raw_text_coding_system`); `raw-text`, `binary` and
    /// `no-conversion-multibyte` (Emacs's other systems of type `raw-text`) stay as they are.
    pub fn raw_text_form(&self) -> CodingSystem {
        match self.base {
            Base::NoConversion | Base::NoConversionMultibyte | Base::RawText => self.clone(),
            Base::Nil => Self::variant("raw-text", Base::RawText, Eol::Undecided),
            _ => Self::variant("raw-text", Base::RawText, self.eol),
        }
    }

    /// A streaming decoder in its initial state.
    pub fn decoder(&self) -> Decoder {
        Decoder::new(self.clone())
    }

    /// An encoder in its initial state.
    pub fn encoder(&self) -> Encoder {
        Encoder::new(self.clone())
    }

    pub(crate) fn base(&self) -> Base {
        self.base
    }

    pub(crate) fn base_name(&self) -> &'static str {
        self.base_name
    }

    /// The system named by `base_name` and `eol`, e.g. `utf-8` + Dos → `utf-8-dos`.
    pub(crate) fn variant(base_name: &'static str, base: Base, eol: Eol) -> CodingSystem {
        let eol = if base.lf_only() { Eol::Unix } else { eol };
        let name =
            if base.lf_only() { base_name.to_string() } else { format!("{base_name}{}", eol.suffix()) };
        CodingSystem { name, base_name, base, eol }
    }
}

#[cfg(test)]
mod tests;
