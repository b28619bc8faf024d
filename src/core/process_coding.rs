//! A process's coding systems: the decoder between the socket and the filter, the encoder
//! between a send and the queue, and the rules Emacs applies when they change
//! (`set-process-coding-system`, `set-process-filter-multibyte`, `undecided` detection).

use std::borrow::Cow;

use super::coding::{CodingSystem, Decoder, Encoder};
use super::error::{Error, Result};
use super::value::Value;

/// Decoded bytes for a filter, and whether they are multibyte text.
pub(crate) struct Decoded {
    pub(crate) data: Vec<u8>,
    pub(crate) multibyte: bool,
}

/// The coding state of one process.
pub(crate) struct ProcessCoding {
    decoding: CodingSystem,
    encoding: CodingSystem,
    decoder: Decoder,
    encoder: Encoder,
    /// The decoding that `set-process-filter-multibyte nil` replaced with its raw-text form;
    /// `t` brings it back (Emacs 28.2 cannot; §17 item 17).
    multibyte_decoding: Option<CodingSystem>,
}

impl ProcessCoding {
    /// Decode with `decoding`, encode with `encoding`.
    pub(crate) fn new(decoding: CodingSystem, encoding: CodingSystem) -> ProcessCoding {
        ProcessCoding {
            decoder: decoder_for(&decoding),
            encoder: encoding.encoder(),
            decoding,
            encoding,
            multibyte_decoding: None,
        }
    }

    /// No conversion either way.
    pub(crate) fn binary() -> ProcessCoding {
        let binary = CodingSystem::from_name("binary").expect("binary is in the name table");
        ProcessCoding::new(binary.clone(), binary)
    }

    /// A fresh state with the same systems, for an accepted connection.
    pub(crate) fn inherit(&self) -> ProcessCoding {
        let mut coding = ProcessCoding::new(self.decoding.clone(), self.encoding.clone());
        coding.multibyte_decoding = self.multibyte_decoding.clone();
        coding
    }

    /// Whether bytes pass through untouched, so the fast paths apply. A nil *decoding* is
    /// not one of these: Emacs decodes with nil as `undecided` (see `decoder_for`).
    fn passes_bytes(system: &CodingSystem) -> bool {
        matches!(system.name(), "binary" | "no-conversion")
    }

    /// Decode one read. Returns None when everything was held back.
    pub(crate) fn decode(&mut self, input: &[u8]) -> Option<Decoded> {
        if Self::passes_bytes(&self.decoding) {
            return Some(Decoded { data: input.to_vec(), multibyte: false });
        }
        let mut data = Vec::with_capacity(input.len() + 8);
        self.decoder.decode(input, &mut data);
        self.after_detection();
        (!data.is_empty()).then(|| Decoded { data, multibyte: self.decoder.multibyte() })
    }

    /// At the end of the stream (or of a datagram): what the decoder still holds, as raw
    /// bytes, so that nothing read is lost.
    pub(crate) fn finish(&mut self) -> Option<Decoded> {
        if Self::passes_bytes(&self.decoding) {
            return None;
        }
        let mut data = Vec::new();
        self.decoder.finish(&mut data);
        (!data.is_empty()).then(|| Decoded { data, multibyte: self.decoder.multibyte() })
    }

    /// Emacs sets a nil encoding to whatever `undecided` decoding detected.
    fn after_detection(&mut self) {
        if self.encoding.is_nil() {
            if let Some(detected) = self.decoder.detected() {
                self.encoding = detected;
                self.encoder = self.encoding.encoder();
            }
        }
    }

    /// Encode unibyte bytes: no character conversion, but end-of-line conversion applies.
    pub(crate) fn encode_bytes<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if Self::passes_bytes(&self.encoding) {
            return Cow::Borrowed(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
        self.encoder.encode_bytes(bytes, &mut out);
        Cow::Owned(out)
    }

    /// Encode multibyte text (UTF-8 with raw-byte pairs) through the encoding system.
    pub(crate) fn encode_text(&mut self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + text.len() / 16);
        self.encoder.encode_text(text, &mut out);
        out
    }

    /// What a stateful encoder must write before EOF (ISO-2022's return to ASCII).
    pub(crate) fn finish_encoding(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encoder.finish(&mut out);
        out
    }

    /// `process-coding-system`: `(DECODING . ENCODING)`, showing what `undecided` detected.
    pub(crate) fn pair(&self) -> Value {
        let decoding = self.decoder.detected().unwrap_or_else(|| self.decoding.clone());
        Value::Cons(Box::new(system_value(&decoding)), Box::new(system_value(&self.encoding)))
    }

    /// `set-process-coding-system`. ENCODING gets an end-of-line type (utf-8 → utf-8-unix,
    /// nil → raw-text-unix), as in Emacs. Returns what the old decoder still held.
    pub(crate) fn set(&mut self, decoding: CodingSystem, encoding: CodingSystem) -> Option<Decoded> {
        let held = self.finish();
        *self = ProcessCoding::new(decoding, encoding.with_eol_unix_if_undecided());
        held
    }

    /// Whether the filter gets multibyte text now.
    pub(crate) fn multibyte(&self) -> bool {
        !Self::passes_bytes(&self.decoding) && self.decoder.multibyte()
    }

    /// `set-process-filter-multibyte`: nil decodes as raw text (unibyte bytes); t restores
    /// the decoding that nil replaced. Returns what the old decoder still held.
    pub(crate) fn set_filter_multibyte(&mut self, flag: bool) -> Option<Decoded> {
        let target = match (flag, &self.multibyte_decoding) {
            (false, _) if !self.multibyte() => return None,
            (false, _) => self.decoding.raw_text_form(),
            (true, Some(original)) => original.clone(),
            (true, None) => return None,
        };
        let held = self.finish();
        let original = if flag { None } else { Some(self.decoding.clone()) };
        self.decoding = target;
        self.decoder = decoder_for(&self.decoding);
        self.multibyte_decoding = original;
        held
    }
}

/// Emacs's setup_coding_system turns a nil coding system into `undecided`, so a process
/// whose decoding is nil detects and decodes like undecided (multibyte), although
/// `process-coding-system` still shows nil until something is detected.
fn decoder_for(system: &CodingSystem) -> Decoder {
    if system.is_nil() {
        CodingSystem::from_name("undecided").expect("undecided is in the name table").decoder()
    } else {
        system.decoder()
    }
}

fn system_value(system: &CodingSystem) -> Value {
    if system.is_nil() {
        Value::Nil
    } else {
        Value::symbol(system.name())
    }
}

/// A coding system from a Lisp value: nil, or a symbol naming one.
pub(crate) fn system_from_value(value: &Value) -> Result<CodingSystem> {
    match value {
        Value::Nil => Ok(CodingSystem::nil()),
        Value::Symbol(name) => CodingSystem::from_name(name),
        // t is a symbol in Lisp, but no coding system; anything else fails CHECK_SYMBOL.
        Value::T => Err(Error { symbol: "coding-system-error", data: vec![Value::T], errno: 0 }),
        other => Err(Error::wrong_type("symbolp", other)),
    }
}

/// `:coding`: a symbol for both directions, or `(DECODING . ENCODING)`. nil (or absent)
/// means the context's defaults.
pub(crate) fn from_coding_argument(
    argument: &Value,
    defaults: &(CodingSystem, CodingSystem),
) -> Result<ProcessCoding> {
    let (decoding, encoding) = match argument {
        Value::Nil => return Ok(ProcessCoding::new(defaults.0.clone(), defaults.1.clone())),
        Value::Cons(decoding, encoding) => (system_from_value(decoding)?, system_from_value(encoding)?),
        Value::List(items) if items.len() == 2 => {
            (system_from_value(&items[0])?, system_from_value(&items[1])?)
        }
        // (DECODING . nil) reads as the one-element list (DECODING).
        Value::List(items) if items.len() == 1 => (system_from_value(&items[0])?, CodingSystem::nil()),
        single => {
            let system = system_from_value(single)?;
            (system.clone(), system)
        }
    };
    Ok(ProcessCoding::new(decoding, encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(name: &str) -> CodingSystem {
        CodingSystem::from_name(name).unwrap()
    }

    #[test]
    fn binary_passes_bytes_both_ways() {
        let mut coding = ProcessCoding::new(system("binary"), system("binary"));
        let decoded = coding.decode(b"a\r\n\xff").unwrap();
        assert_eq!(decoded.data, b"a\r\n\xff");
        assert!(!decoded.multibyte);
        assert!(matches!(coding.encode_bytes(b"x\n"), Cow::Borrowed(b"x\n")));
    }

    #[test]
    fn filter_multibyte_nil_then_t_restores_decoding() {
        let mut coding = ProcessCoding::new(system("utf-8-dos"), system("utf-8-unix"));
        assert!(coding.multibyte());
        coding.set_filter_multibyte(false);
        assert!(!coding.multibyte());
        assert_eq!(coding.pair().prin1(), "(raw-text-dos . utf-8-unix)");
        coding.set_filter_multibyte(true);
        assert!(coding.multibyte());
        assert_eq!(coding.pair().prin1(), "(utf-8-dos . utf-8-unix)");
    }

    #[test]
    fn set_fills_in_the_encoding_eol() {
        let mut coding = ProcessCoding::new(system("binary"), system("binary"));
        coding.set(CodingSystem::nil(), CodingSystem::nil());
        assert_eq!(coding.pair().prin1(), "(nil . raw-text-unix)");
        coding.set(system("utf-8"), system("utf-8"));
        assert_eq!(coding.pair().prin1(), "(utf-8 . utf-8-unix)");
    }

    #[test]
    fn undecided_detection_shows_and_fills_a_nil_encoding() {
        let defaults = (system("binary"), system("binary"));
        let argument = Value::Cons(Box::new(Value::symbol("undecided")), Box::new(Value::Nil));
        let mut coding = from_coding_argument(&argument, &defaults).unwrap();
        let decoded = coding.decode("é\r\n".as_bytes()).unwrap();
        assert_eq!(decoded.data, "é\n".as_bytes());
        assert_eq!(coding.pair().prin1(), "(utf-8-dos . utf-8-dos)");
    }

    #[test]
    fn unknown_names_are_coding_system_errors() {
        let defaults = (system("binary"), system("binary"));
        let err = from_coding_argument(&Value::symbol("no-such-coding"), &defaults).err().unwrap();
        assert_eq!(err.symbol, "coding-system-error");
        assert_eq!(err.message(), "Invalid coding system: no-such-coding");
    }
}
