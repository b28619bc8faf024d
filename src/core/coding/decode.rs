//! The streaming decoder: a character decoder followed by end-of-line conversion.

use super::cjk::CjkDecoder;
use super::detect::{Detected, Undecided};
use super::eol::EolDecoder;
use super::hz::HzDecoder;
use super::iso2022::Iso2022Decoder;
use super::mule::MuleDecoder;
use super::names;
use super::single::{self, Table};
use super::text::push_raw_bytes;
use super::utf::{Utf16Decoder, Utf8Decoder};
use super::utf7::Utf7Decoder;
use super::{Base, CodingSystem, Eol, Iso2022, Utf16Form, Utf8Form};

/// The character half of a decoder.
#[derive(Clone, Debug)]
enum Chars {
    /// Unibyte: the bytes themselves.
    Bytes,
    /// Multibyte, every byte 0x80–0xFF a raw byte (`no-conversion-multibyte`).
    RawBytes,
    Undecided(Undecided),
    Utf8(Utf8Decoder),
    Utf16(Utf16Decoder),
    Single(&'static Table),
    Cjk(CjkDecoder),
    Iso2022(Iso2022Decoder),
    EmacsMule(MuleDecoder),
    Utf7(Utf7Decoder),
    Hz(HzDecoder),
}

impl Chars {
    fn new(base: Base) -> Chars {
        match base {
            Base::Nil | Base::NoConversion | Base::RawText => Chars::Bytes,
            Base::NoConversionMultibyte => Chars::RawBytes,
            Base::Undecided => Chars::Undecided(Undecided::new()),
            Base::Utf8(form) => Chars::Utf8(Utf8Decoder::new(form)),
            Base::Utf16(form) => Chars::Utf16(Utf16Decoder::new(form)),
            Base::Single(set) => Chars::Single(single::table(set)),
            Base::Cjk(set) => Chars::Cjk(CjkDecoder::new(set)),
            Base::Iso2022(kind) => Chars::Iso2022(Iso2022Decoder::new(kind)),
            Base::EmacsMule => Chars::EmacsMule(MuleDecoder::default()),
            Base::Utf7 { imap } => Chars::Utf7(Utf7Decoder::new(imap)),
            Base::Hz => Chars::Hz(HzDecoder::new()),
        }
    }
}

/// A streaming decoder for one coding system: feed it each read with [`Decoder::decode`],
/// and call [`Decoder::finish`] once at the end of the stream.
#[derive(Clone, Debug)]
pub struct Decoder {
    system: CodingSystem,
    chars: Chars,
    eol: EolDecoder,
    /// The base `undecided` turned out to be, with its Emacs name.
    found: Option<(&'static str, Base)>,
}

impl Decoder {
    pub(crate) fn new(system: CodingSystem) -> Decoder {
        let eol = if system.base().lf_only() { Eol::Unix } else { system.eol() };
        Decoder { chars: Chars::new(system.base()), eol: EolDecoder::new(eol), found: None, system }
    }

    /// The coding system the decoder was made for.
    pub fn system(&self) -> &CodingSystem {
        &self.system
    }

    /// Decode one read, appending the text to `out`. Bytes that may be the start of a
    /// character, an escape sequence or a CR LF are held for the next read.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        self.eol.begin(out);
        self.decode_chars(input, out);
        self.eol.convert(out, start, false);
    }

    /// Whether decoding `input` would append exactly `input` and leave the decoder as it
    /// is: UTF-8 with nothing held, line ends known to be LF, and `input` whole, valid UTF-8
    /// (Emacs's internal form of valid UTF-8 is the same bytes). The caller may then pass the
    /// read on without decoding or copying it.
    pub fn passes_unchanged(&self, input: &[u8]) -> bool {
        let clean = matches!(&self.chars, Chars::Utf8(decoder) if decoder.is_clean());
        clean && self.eol.passes_unchanged() && simdutf8::basic::from_utf8(input).is_ok()
    }

    /// At the end of the stream: deliver whatever is held, as raw bytes (a CR as a CR).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let start = out.len();
        self.eol.begin(out);
        match &mut self.chars {
            Chars::Bytes | Chars::RawBytes | Chars::Single(_) => {}
            Chars::Undecided(undecided) => undecided.finish(out),
            Chars::Utf8(decoder) => decoder.finish(out),
            Chars::Utf16(decoder) => decoder.finish(out),
            Chars::Cjk(decoder) => decoder.finish(out),
            Chars::Iso2022(decoder) => decoder.finish(out),
            Chars::EmacsMule(decoder) => decoder.finish(out),
            Chars::Utf7(decoder) => decoder.finish(out),
            Chars::Hz(decoder) => decoder.finish(out),
        }
        self.eol.convert(out, start, true);
    }

    /// Whether the text is multibyte (UTF-8 with raw-byte pairs) rather than unibyte bytes.
    /// It turns false when `undecided` detects `raw-text` or `no-conversion`.
    pub fn multibyte(&self) -> bool {
        !matches!(self.chars, Chars::Bytes)
    }

    /// What the data revealed, as Emacs would then show the decoding system in
    /// `process-coding-system`: `undecided` becomes e.g. `utf-8`, `iso-latin-1-dos`,
    /// `raw-text`, `no-conversion`, `iso-2022-7bit` or `undecided-dos`; a system whose
    /// end-of-line was undecided gets its `-unix`/`-dos`/`-mac` form (`latin-1` →
    /// `iso-latin-1-dos`); `utf-8-auto` becomes `utf-8` or `utf-8-with-signature`, and `utf-16`
    /// with a BOM `utf-16le-with-signature` or `utf-16be-with-signature`. `None` until
    /// something has been detected.
    ///
    /// Detection happens on the first read that decides it: for end-of-lines, the first read
    /// that has one (up to three are compared, as Emacs does); for `undecided`, the first read
    /// that is not plain ASCII (see the table in the module `detect`).
    pub fn detected(&self) -> Option<CodingSystem> {
        let revealed = self.revealed_base();
        let eol_detected = self.system.eol() == Eol::Undecided && self.eol.mode() != Eol::Undecided;
        if revealed.is_none() && !eol_detected {
            return None;
        }
        let (base_name, base) = revealed.unwrap_or((self.system.base_name(), self.system.base()));
        Some(CodingSystem::variant(base_name, base, self.eol.mode()))
    }

    /// The base the data showed, when it is not the system's own.
    fn revealed_base(&self) -> Option<(&'static str, Base)> {
        match &self.chars {
            Chars::Utf8(decoder) if self.system.base() == Base::Utf8(Utf8Form::Auto) => {
                decoder.signature().map(|bom| {
                    if bom {
                        ("utf-8-with-signature", Base::Utf8(Utf8Form::WithSignature))
                    } else {
                        ("utf-8", Base::Utf8(Utf8Form::Plain))
                    }
                })
            }
            Chars::Utf16(decoder) => decoder
                .detected()
                .map(|form| match form {
                    Utf16Form::LeWithSignature => ("utf-16le-with-signature", Base::Utf16(form)),
                    _ => ("utf-16be-with-signature", Base::Utf16(form)),
                })
                .or(self.found),
            _ => self.found,
        }
    }

    fn decode_chars(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match &mut self.chars {
            Chars::Bytes => out.extend_from_slice(input),
            Chars::RawBytes => push_raw_bytes(out, input),
            Chars::Undecided(undecided) => {
                if let Some((found, data)) = undecided.decode(input, out) {
                    self.adopt(found);
                    self.decode_chars(&data, out);
                }
            }
            Chars::Utf8(decoder) => decoder.decode(input, out),
            Chars::Utf16(decoder) => decoder.decode(input, out),
            Chars::Single(table) => table.decode(input, out),
            Chars::Cjk(decoder) => decoder.decode(input, out),
            Chars::Iso2022(decoder) => decoder.decode(input, out),
            Chars::EmacsMule(decoder) => decoder.decode(input, out),
            Chars::Utf7(decoder) => decoder.decode(input, out),
            Chars::Hz(decoder) => decoder.decode(input, out),
        }
    }

    /// Switch from `undecided` to what the data showed.
    fn adopt(&mut self, found: Detected) {
        let (name, base) = match found {
            Detected::Utf8 => ("utf-8", Base::Utf8(Utf8Form::Plain)),
            // iso-latin-1 is in the one-byte table (a unit test there says so).
            Detected::Latin1 => names::find("iso-latin-1").unwrap_or(("raw-text", Base::RawText)),
            Detected::RawText => ("raw-text", Base::RawText),
            Detected::NoConversion => ("no-conversion", Base::NoConversion),
            Detected::Utf16(Utf16Form::LeWithSignature) => {
                ("utf-16le-with-signature", Base::Utf16(Utf16Form::LeWithSignature))
            }
            Detected::Utf16(_) => ("utf-16be-with-signature", Base::Utf16(Utf16Form::BeWithSignature)),
            Detected::Iso2022SevenBit => ("iso-2022-7bit", Base::Iso2022(Iso2022::SevenBit)),
        };
        if base == Base::NoConversion {
            // no-conversion converts no end-of-lines either; a CR already put back stays a CR.
            self.eol = EolDecoder::new(Eol::Unix);
        }
        self.chars = Chars::new(base);
        self.found = Some((name, base));
    }
}
