//! A process's coding systems: the decoder between the socket and the filter, the encoder
//! between a send and the queue, and the rules Emacs applies when they change
//! (`set-process-coding-system`, `set-process-filter-multibyte`, `undecided` detection).

use std::borrow::Cow;

use super::coding::{CodingSystem, Decoder, Encoder};
use super::error::{Error, Result, Symbol};
use super::value::Value;

/// Decoded bytes for a filter, and whether they are multibyte text.
pub(crate) struct Decoded {
    pub(crate) data: Vec<u8>,
    pub(crate) multibyte: bool,
}

/// The coding state of one process. Most processes use `binary` both ways and need no
/// codec state at all, so that case holds no allocation (an idle connection stays small).
pub(crate) struct ProcessCoding {
    /// None: binary decoding and encoding.
    codecs: Option<Box<Codecs>>,
}

/// Decoder and encoder for a process that is not binary both ways.
struct Codecs {
    decoding: CodingSystem,
    encoding: CodingSystem,
    decoder: Decoder,
    encoder: Encoder,
    /// The decoding that `set-process-filter-multibyte nil` replaced with its raw-text form;
    /// `t` brings it back (Emacs 28.2 cannot: docs/DIFFERENCES.md).
    multibyte_decoding: Option<CodingSystem>,
}

impl Codecs {
    fn new(decoding: CodingSystem, encoding: CodingSystem) -> Codecs {
        Codecs {
            decoder: decoder_for(&decoding),
            encoder: encoding.encoder(),
            decoding,
            encoding,
            multibyte_decoding: None,
        }
    }

    fn binary() -> Codecs {
        Codecs::new(binary(), binary())
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
}

fn binary() -> CodingSystem {
    CodingSystem::from_name("binary").expect("binary is in the name table")
}

/// Whether bytes pass through untouched, so the fast paths apply. A nil *decoding* is not
/// one of these: Emacs decodes with nil as `undecided` (see `decoder_for`).
fn passes_bytes(system: &CodingSystem) -> bool {
    matches!(system.name(), "binary" | "no-conversion")
}

impl ProcessCoding {
    /// Decode with `decoding`, encode with `encoding`.
    pub(crate) fn new(decoding: CodingSystem, encoding: CodingSystem) -> ProcessCoding {
        if decoding.name() == "binary" && encoding.name() == "binary" {
            return ProcessCoding::binary();
        }
        ProcessCoding { codecs: Some(Box::new(Codecs::new(decoding, encoding))) }
    }

    /// No conversion either way.
    pub(crate) fn binary() -> ProcessCoding {
        ProcessCoding { codecs: None }
    }

    /// A fresh state with the same systems, for an accepted connection.
    pub(crate) fn inherit(&self) -> ProcessCoding {
        let Some(codecs) = &self.codecs else { return ProcessCoding::binary() };
        let mut fresh = Codecs::new(codecs.decoding.clone(), codecs.encoding.clone());
        fresh.multibyte_decoding = codecs.multibyte_decoding.clone();
        ProcessCoding { codecs: Some(Box::new(fresh)) }
    }

    /// The codec state, made on first use for a binary process.
    fn codecs_mut(&mut self) -> &mut Codecs {
        self.codecs.get_or_insert_with(|| Box::new(Codecs::binary()))
    }

    /// Whether input reaches the filter exactly as read.
    pub(crate) fn passes_input(&self) -> bool {
        self.codecs.as_ref().is_none_or(|codecs| passes_bytes(&codecs.decoding))
    }

    /// Whether this read decodes to exactly its own bytes (see `Decoder::passes_unchanged`),
    /// so that it can reach the filter as it is, as multibyte text.
    pub(crate) fn passes_unchanged(&self, input: &[u8]) -> bool {
        self.codecs.as_ref().is_some_and(|codecs| codecs.decoder.passes_unchanged(input))
    }

    /// Decode one read, appending to `out`. Returns whether the result is multibyte text.
    pub(crate) fn decode_into(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        if self.passes_input() {
            out.extend_from_slice(input);
            return false;
        }
        let codecs = self.codecs_mut();
        codecs.decoder.decode(input, out);
        codecs.after_detection();
        codecs.decoder.multibyte()
    }

    /// Decode one read. Returns None when everything was held back.
    #[cfg(test)]
    pub(crate) fn decode(&mut self, input: &[u8]) -> Option<Decoded> {
        let mut data = Vec::with_capacity(input.len() + 8);
        let multibyte = self.decode_into(input, &mut data);
        (!data.is_empty() || self.passes_input()).then_some(Decoded { data, multibyte })
    }

    /// At the end of the stream (or of a datagram): what the decoder still holds, as raw
    /// bytes, so that nothing read is lost.
    pub(crate) fn finish(&mut self) -> Option<Decoded> {
        if self.passes_input() {
            return None;
        }
        let codecs = self.codecs_mut();
        let mut data = Vec::new();
        codecs.decoder.finish(&mut data);
        (!data.is_empty()).then(|| Decoded { data, multibyte: codecs.decoder.multibyte() })
    }

    /// Encode unibyte bytes: no character conversion, but end-of-line conversion applies.
    pub(crate) fn encode_bytes<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        match &mut self.codecs {
            Some(codecs) if !passes_bytes(&codecs.encoding) => {
                let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
                codecs.encoder.encode_bytes(bytes, &mut out);
                Cow::Owned(out)
            }
            _ => Cow::Borrowed(bytes),
        }
    }

    /// Encode multibyte text (UTF-8 with raw-byte pairs) through the encoding system.
    pub(crate) fn encode_text(&mut self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + text.len() / 16);
        self.codecs_mut().encoder.encode_text(text, &mut out);
        out
    }

    /// What a stateful encoder must write before EOF (ISO-2022's return to ASCII).
    pub(crate) fn finish_encoding(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(codecs) = &mut self.codecs {
            codecs.encoder.finish(&mut out);
        }
        out
    }

    /// `process-coding-system`: `(DECODING . ENCODING)`, showing what `undecided` detected.
    pub(crate) fn pair(&self) -> Value {
        let Some(codecs) = &self.codecs else {
            return Value::cons(Value::symbol("binary"), Value::symbol("binary"));
        };
        let decoding = codecs.decoder.detected().unwrap_or_else(|| codecs.decoding.clone());
        Value::cons(system_value(&decoding), system_value(&codecs.encoding))
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
        !self.passes_input() && self.codecs.as_ref().is_some_and(|codecs| codecs.decoder.multibyte())
    }

    /// `set-process-filter-multibyte`: nil decodes as raw text (unibyte bytes); t restores
    /// the decoding that nil replaced. Returns what the old decoder still held.
    pub(crate) fn set_filter_multibyte(&mut self, flag: bool) -> Option<Decoded> {
        let current = self.codecs.as_ref().and_then(|codecs| codecs.multibyte_decoding.clone());
        let target = match (flag, current) {
            (false, _) if !self.multibyte() => return None,
            (false, _) => self.codecs_mut().decoding.raw_text_form(),
            (true, Some(original)) => original,
            (true, None) => return None,
        };
        let held = self.finish();
        let codecs = self.codecs_mut();
        let original = if flag { None } else { Some(codecs.decoding.clone()) };
        codecs.decoding = target;
        codecs.decoder = decoder_for(&codecs.decoding);
        codecs.multibyte_decoding = original;
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
        Value::T => Err(Error::new(Symbol::CodingSystemError, vec![Value::T])),
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
        let argument = Value::cons(Value::symbol("undecided"), Value::Nil);
        let mut coding = from_coding_argument(&argument, &defaults).unwrap();
        let decoded = coding.decode("é\r\n".as_bytes()).unwrap();
        assert_eq!(decoded.data, "é\n".as_bytes());
        assert_eq!(coding.pair().prin1(), "(utf-8-dos . utf-8-dos)");
    }

    #[test]
    fn unknown_names_are_coding_system_errors() {
        let defaults = (system("binary"), system("binary"));
        let err = from_coding_argument(&Value::symbol("no-such-coding"), &defaults).err().unwrap();
        assert_eq!(err.symbol.name(), "coding-system-error");
        assert_eq!(err.message(), "Invalid coding system: no-such-coding");
    }
}
