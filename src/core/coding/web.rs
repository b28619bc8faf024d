//! Lookups in `encoding_rs`'s (WHATWG) tables, for the multibyte sets.

use encoding_rs::Encoding;

/// The single character `bytes` decode to in `encoding`, if they are exactly one valid
/// character.
pub(crate) fn decode_one(encoding: &'static Encoding, bytes: &[u8]) -> Option<char> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut buf = [0u8; 16];
    let (result, read, written) = decoder.decode_to_utf8_without_replacement(bytes, &mut buf, true);
    if result != encoding_rs::DecoderResult::InputEmpty || read != bytes.len() {
        return None;
    }
    let text = std::str::from_utf8(&buf[..written]).ok()?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(ch), None) => Some(ch),
        _ => None,
    }
}
