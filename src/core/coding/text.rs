//! The multibyte text representation: UTF-8 plus Emacs's two-byte form of raw bytes.
//!
//! Decoders write raw bytes with [`push_raw_byte`]; encoders and hosts read text back with
//! [`runs`], which splits it into valid UTF-8 and raw bytes.

/// The two bytes that stand for raw byte `byte` (0x80–0xFF) in multibyte text, or `None` for an
/// ASCII byte, which is always a character of its own and never needs a raw form.
///
/// This is Emacs's internal form of its eight-bit characters: `C0 80`–`C0 BF` for 0x80–0xBF
/// and `C1 80`–`C1 BF` for 0xC0–0xFF. Valid UTF-8 never contains `C0` or `C1`, so the pair can
/// never be mistaken for text.
pub fn raw_byte_form(byte: u8) -> Option<[u8; 2]> {
    (byte >= 0x80).then_some([0xC0 | ((byte >> 6) & 1), 0x80 | (byte & 0x3F)])
}

/// Append `byte` as a raw byte (its two-byte form), or as itself if it is ASCII.
pub(crate) fn push_raw_byte(out: &mut Vec<u8>, byte: u8) {
    match raw_byte_form(byte) {
        Some(pair) => out.extend_from_slice(&pair),
        None => out.push(byte),
    }
}

/// Append every byte of `bytes` as a raw byte.
pub(crate) fn push_raw_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    for &byte in bytes {
        push_raw_byte(out, byte);
    }
}

/// One piece of multibyte text: characters, or raw bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run<'a> {
    /// Valid UTF-8 text (never empty).
    Text(&'a str),
    /// Consecutive raw bytes (never empty).
    Raw(RawRun<'a>),
}

/// Raw bytes inside multibyte text, still in their stored form; [`RawRun::bytes`] gives the
/// bytes themselves.
///
/// Besides the two-byte raw forms, a run also takes in any byte that is not valid UTF-8 (text
/// from a host that ignored the convention); such a byte stands for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRun<'a> {
    stored: &'a [u8],
}

impl<'a> RawRun<'a> {
    /// The raw bytes, in order.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let mut rest = self.stored;
        std::iter::from_fn(move || {
            let (byte, used) = match rest {
                [] => return None,
                [lead @ (0xC0 | 0xC1), trail @ 0x80..=0xBF, ..] => {
                    (((lead & 1) << 6) | (trail & 0x3F) | 0x80, 2)
                }
                [other, ..] => (*other, 1),
            };
            rest = &rest[used..];
            Some(byte)
        })
    }

    /// The raw bytes as a vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes().collect()
    }

    /// The stored form, as it appears in the text.
    pub fn stored(&self) -> &'a [u8] {
        self.stored
    }
}

/// Split multibyte text into runs of UTF-8 text and runs of raw bytes, in order.
pub fn runs(text: &[u8]) -> Runs<'_> {
    Runs { rest: text }
}

/// The iterator returned by [`runs`].
#[derive(Clone, Debug)]
pub struct Runs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Runs<'a> {
    type Item = Run<'a>;

    fn next(&mut self) -> Option<Run<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let valid = match std::str::from_utf8(self.rest) {
            Ok(_) => self.rest.len(),
            Err(error) => error.valid_up_to(),
        };
        if valid > 0 {
            let (text, rest) = self.rest.split_at(valid);
            self.rest = rest;
            // The prefix was just validated, so this cannot fail.
            return std::str::from_utf8(text).ok().map(Run::Text);
        }
        let raw_len = raw_prefix_len(self.rest);
        let (stored, rest) = self.rest.split_at(raw_len);
        self.rest = rest;
        Some(Run::Raw(RawRun { stored }))
    }
}

/// How many leading bytes of `bytes` (which does not start with valid UTF-8) are raw: raw
/// pairs, and bytes that do not begin a valid UTF-8 character.
fn raw_prefix_len(bytes: &[u8]) -> usize {
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at..] {
            [0xC0 | 0xC1, 0x80..=0xBF, ..] => at += 2,
            _ if starts_with_char(&bytes[at..]) => break,
            _ => at += 1,
        }
    }
    at.max(1)
}

/// Whether `bytes` begins with a complete, valid UTF-8 character.
fn starts_with_char(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4)];
    match std::str::from_utf8(head) {
        Ok(text) => !text.is_empty(),
        Err(error) => error.valid_up_to() > 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_forms_are_emacs_eight_bit_characters() {
        assert_eq!(raw_byte_form(0x80), Some([0xC0, 0x80]));
        assert_eq!(raw_byte_form(0xBF), Some([0xC0, 0xBF]));
        assert_eq!(raw_byte_form(0xC0), Some([0xC1, 0x80]));
        assert_eq!(raw_byte_form(0xFF), Some([0xC1, 0xBF]));
        assert_eq!(raw_byte_form(b'a'), None);
    }

    #[test]
    fn runs_separate_text_from_raw_bytes() {
        let mut text = Vec::new();
        text.extend_from_slice("aé".as_bytes());
        push_raw_bytes(&mut text, &[0xFF, 0x80]);
        text.extend_from_slice("b".as_bytes());
        push_raw_byte(&mut text, 0xC3);
        let pieces: Vec<_> = runs(&text).collect();
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces[0], Run::Text("aé"));
        match pieces[1] {
            Run::Raw(raw) => assert_eq!(raw.to_vec(), vec![0xFF, 0x80]),
            Run::Text(_) => panic!("expected raw bytes"),
        }
        assert_eq!(pieces[2], Run::Text("b"));
        match pieces[3] {
            Run::Raw(raw) => assert_eq!(raw.to_vec(), vec![0xC3]),
            Run::Text(_) => panic!("expected raw bytes"),
        }
    }

    #[test]
    fn stray_invalid_bytes_stand_for_themselves() {
        let text = [b'a', 0xE9, b'b', 0xF4, 0x90, 0x80, 0x80];
        let raw: Vec<u8> = runs(&text)
            .flat_map(|run| match run {
                Run::Text(t) => t.bytes().collect::<Vec<_>>(),
                Run::Raw(r) => r.to_vec(),
            })
            .collect();
        assert_eq!(raw, text);
    }
}
