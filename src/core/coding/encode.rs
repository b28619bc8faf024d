//! The encoder: end-of-line conversion, then characters to bytes.

use super::cjk::CjkEncoder;
use super::eol::encode_eol;
use super::iso2022::Iso2022Encoder;
use super::mule;
use super::single::{self, Table};
use super::text::{runs, Run};
use super::utf::{push_utf16, utf16_big_endian, utf16_writes_bom};
use super::{hz, utf7};
use super::{Base, CodingSystem, Eol, Utf8Form};

/// The character half of an encoder.
#[derive(Clone, Debug)]
enum Chars {
    /// UTF-8, which is also what `raw-text`, `binary`, `no-conversion-multibyte`, `undecided`
    /// and nil write for multibyte text (Emacs's internal form, raw bytes as themselves).
    Utf8,
    Utf16 {
        big_endian: bool,
    },
    Single(&'static Table),
    Cjk(CjkEncoder),
    Iso2022(Iso2022Encoder),
    EmacsMule,
    /// UTF-7 and HZ, whose runs Emacs converts for each string sent.
    Utf7 {
        imap: bool,
    },
    Hz,
}

/// An encoder for one coding system. It keeps what must happen once per stream (the BOM).
#[derive(Clone, Debug)]
pub struct Encoder {
    system: CodingSystem,
    chars: Chars,
    eol: Eol,
    /// A byte-order mark still to be written before the first text.
    bom: Option<&'static [u8]>,
}

impl Encoder {
    pub(crate) fn new(system: CodingSystem) -> Encoder {
        let (chars, bom): (Chars, Option<&'static [u8]>) = match system.base() {
            Base::Nil
            | Base::NoConversion
            | Base::NoConversionMultibyte
            | Base::RawText
            | Base::Undecided => (Chars::Utf8, None),
            Base::Utf8(Utf8Form::WithSignature) => (Chars::Utf8, Some(b"\xEF\xBB\xBF")),
            // utf-8-auto writes no BOM: (encode-coding-string "ab" 'utf-8-auto) → "ab"
            Base::Utf8(_) => (Chars::Utf8, None),
            Base::Utf16(form) => {
                let big_endian = utf16_big_endian(form);
                let bom: Option<&'static [u8]> = match (utf16_writes_bom(form), big_endian) {
                    (false, _) => None,
                    (true, true) => Some(b"\xFE\xFF"),
                    (true, false) => Some(b"\xFF\xFE"),
                };
                (Chars::Utf16 { big_endian }, bom)
            }
            Base::Single(set) => (Chars::Single(single::table(set)), None),
            Base::Cjk(set) => (Chars::Cjk(CjkEncoder::new(set)), None),
            Base::Iso2022(kind) => (Chars::Iso2022(Iso2022Encoder::new(kind)), None),
            Base::EmacsMule => (Chars::EmacsMule, None),
            Base::Utf7 { imap } => (Chars::Utf7 { imap }, None),
            Base::Hz => (Chars::Hz, None),
        };
        let eol = if system.base().lf_only() { Eol::Unix } else { system.eol() };
        Encoder { system, chars, eol, bom }
    }

    /// The coding system the encoder was made for.
    pub fn system(&self) -> &CodingSystem {
        &self.system
    }

    /// Encode multibyte text (UTF-8 with raw-byte pairs, see the module docs), appending the
    /// bytes to `out`. Raw bytes go out as themselves (in UTF-16, which cannot carry them,
    /// as a space, like Emacs); characters the coding system lacks become a space (`?` in
    /// `us-ascii`). The ISO-2022 state carries over from one call to the next, as it does
    /// between the strings Emacs sends to a process (`"a日本"` then `"本b"` go out as
    /// `a ESC$B F|K\K\ ESC(B b`); [`Encoder::finish`] returns to ASCII.
    pub fn encode_text(&mut self, text: &[u8], out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let text = encode_eol(text, self.eol);
        if let Some(bom) = self.bom.take() {
            out.extend_from_slice(bom);
        }
        match self.chars {
            Chars::Utf7 { imap } => return utf7::encode(&text, imap, out),
            Chars::Hz => return hz::encode(&text, out),
            _ => {}
        }
        for run in runs(&text) {
            match (&mut self.chars, run) {
                (Chars::Utf8, Run::Text(part)) => out.extend_from_slice(part.as_bytes()),
                (Chars::Utf16 { big_endian }, Run::Text(part)) => {
                    for ch in part.chars() {
                        push_utf16(out, ch, *big_endian);
                    }
                }
                (Chars::Utf16 { big_endian }, Run::Raw(raw)) => {
                    for _ in raw.bytes() {
                        push_utf16(out, ' ', *big_endian);
                    }
                }
                (Chars::Single(table), Run::Text(part)) => table.encode_str(part, out),
                (Chars::Cjk(encoder), Run::Text(part)) => encoder.encode_str(part, out),
                (Chars::Iso2022(encoder), Run::Text(part)) => encoder.encode_str(part, out),
                (Chars::EmacsMule, Run::Text(part)) => mule::encode_str(part, out),
                (Chars::Iso2022(encoder), Run::Raw(raw)) => {
                    for byte in raw.bytes() {
                        encoder.encode_raw(byte, out);
                    }
                }
                (Chars::Utf8 | Chars::Single(_) | Chars::Cjk(_) | Chars::EmacsMule, Run::Raw(raw)) => {
                    out.extend(raw.bytes())
                }
                // Handled whole above.
                (Chars::Utf7 { .. } | Chars::Hz, _) => {}
            }
        }
    }

    /// Encode unibyte data: no character conversion, but the end-of-line conversion still applies
    /// (Emacs's send_process: `"u\nv"` through `utf-8-dos` goes out as `u\r\nv`). No BOM is
    /// written.
    pub fn encode_bytes(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&encode_eol(bytes, self.eol));
    }

    /// At the end of the stream: return to the initial state (ISO-2022, and EUC-JP after ¥ or
    /// ‾, back to ASCII, if the last text left another set designated).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match &mut self.chars {
            Chars::Iso2022(encoder) => encoder.end(out),
            Chars::Cjk(encoder) => encoder.end(out),
            _ => {}
        }
    }
}
