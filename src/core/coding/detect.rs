//! `undecided`: choosing a coding system from the data, as Emacs 28.2 does for a network
//! process in a UTF-8 locale, simplified.
//!
//! What Emacs chose, for one read given to a process with `:coding 'undecided` (checked with a
//! real connection in `emacs --batch` under C.UTF-8):
//!
//! | read                        | Emacs                                | netproc            |
//! |-----------------------------|--------------------------------------|--------------------|
//! | ASCII only                  | stays `undecided`                    | same               |
//! | ASCII with `ESC ( J`, `ESC $ B`… | `iso-2022-7bit`                 | same               |
//! | any NUL byte                | `no-conversion` (unibyte)            | same               |
//! | NUL bytes after FF FE / FE FF at the start | `utf-16le/be-with-signature` | same       |
//! | valid UTF-8, even cut short at the end | `utf-8`                   | same               |
//! | `"\303\251\200"` (invalid only at the end) | `utf-8`               | same               |
//! | `"\351a"`, `"\377\376ab"`, `"\351\303\251"` | `iso-latin-1`        | same               |
//! | `"\200abc"`                 | `raw-text` (unibyte)                 | same               |
//! | `"\202\240"`, `"\220\200"`  | `utf-8`, bytes held until close      | `raw-text`         |
//!
//! The rule netproc applies to the first read that is not plain ASCII: NUL → UTF-16 (after a
//! BOM at the very start) or `no-conversion`; else UTF-8 unless an invalid sequence is
//! followed by more bytes of the read; else `raw-text` if a byte 0x80–0x9F occurs (Latin-1
//! has no characters there), else `iso-latin-1`. Emacs 28.2 also weighs `emacs-mule`,
//! `japanese-shift-jis` and others for such data; netproc does not.

use std::borrow::Cow;

use super::iso2022::{designation, Match};
use super::{Iso2022, Utf16Form};

/// What the data showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detected {
    Utf8,
    Latin1,
    RawText,
    NoConversion,
    Utf16(Utf16Form),
    Iso2022SevenBit,
}

/// Detection state: what has been passed on so far was plain ASCII.
#[derive(Clone, Debug)]
pub(crate) struct Undecided {
    /// The start of an escape sequence at the end of the last read.
    pending: Vec<u8>,
    /// Whether nothing has been passed on yet (a BOM counts only at the start).
    at_start: bool,
}

impl Undecided {
    pub(crate) fn new() -> Undecided {
        Undecided { pending: Vec::new(), at_start: true }
    }

    /// Pass on a read that decides nothing, or return the decision and the bytes (the held
    /// ones included) to decode with it.
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Option<(Detected, Vec<u8>)> {
        let data: Cow<'_, [u8]> = if self.pending.is_empty() {
            Cow::Borrowed(input)
        } else {
            let mut joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(input);
            Cow::Owned(joined)
        };
        if let Some(found) = classify(&data, self.at_start) {
            return Some((found, data.into_owned()));
        }
        let keep = escape_prefix_len(&data);
        out.extend_from_slice(&data[..data.len() - keep]);
        self.pending = data[data.len() - keep..].to_vec();
        self.at_start &= data.is_empty();
        None
    }

    /// At the end of the stream, the start of an escape sequence is passed on as characters.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.pending);
    }
}

/// The decision a read forces, if any.
fn classify(data: &[u8], at_start: bool) -> Option<Detected> {
    if data.contains(&0) {
        return Some(match data {
            [0xFE, 0xFF, ..] if at_start => Detected::Utf16(Utf16Form::BeWithSignature),
            [0xFF, 0xFE, ..] if at_start => Detected::Utf16(Utf16Form::LeWithSignature),
            _ => Detected::NoConversion,
        });
    }
    if data.is_ascii() {
        let designates = data.iter().enumerate().any(|(at, &byte)| {
            byte == 0x1B && matches!(designation(Iso2022::SevenBit, &data[at..]), Match::Complete(_))
        });
        return designates.then_some(Detected::Iso2022SevenBit);
    }
    if plausible_utf8(data) {
        Some(Detected::Utf8)
    } else if data.iter().any(|b| (0x80..=0x9F).contains(b)) {
        Some(Detected::RawText)
    } else {
        Some(Detected::Latin1)
    }
}

/// UTF-8, except possibly for an incomplete or invalid sequence at the very end, which the
/// next read may complete (Emacs's detector stops at the end of the data without rejecting).
fn plausible_utf8(data: &[u8]) -> bool {
    match std::str::from_utf8(data) {
        Ok(_) => true,
        Err(error) => match error.error_len() {
            None => true,
            Some(bad) => error.valid_up_to() + bad >= data.len(),
        },
    }
}

/// How many bytes at the end of `data` are the unfinished start of an escape sequence.
fn escape_prefix_len(data: &[u8]) -> usize {
    let tail_start = data.len().saturating_sub(3);
    match data[tail_start..].iter().rposition(|&b| b == 0x1B) {
        Some(offset) => {
            let at = tail_start + offset;
            match designation(Iso2022::SevenBit, &data[at..]) {
                Match::Prefix => data.len() - at,
                _ => 0,
            }
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_match_emacs_process_reads() {
        assert_eq!(classify(b"abc\r\n", true), None);
        assert_eq!(classify(b"\x1B(Jx", true), Some(Detected::Iso2022SevenBit));
        assert_eq!(classify(b"\x1Bx", true), None);
        assert_eq!(classify(b"a\0b", true), Some(Detected::NoConversion));
        assert_eq!(classify(b"\xFE\xFF\0a", true), Some(Detected::Utf16(Utf16Form::BeWithSignature)));
        assert_eq!(classify(b"\xFF\xFEab", true), Some(Detected::Latin1));
        assert_eq!(classify(b"a\xC3", true), Some(Detected::Utf8));
        assert_eq!(classify(b"\xC3\xA9\x80", true), Some(Detected::Utf8));
        assert_eq!(classify(b"\xE9a", true), Some(Detected::Latin1));
        assert_eq!(classify(b"\xE9\xC3\xA9", true), Some(Detected::Latin1));
        assert_eq!(classify(b"\x80abc", true), Some(Detected::RawText));
        assert_eq!(classify(b"\x1B$B$\"\x1B(B\xC3\xA9", true), Some(Detected::Utf8));
    }

    #[test]
    fn escape_split_between_reads_is_held() {
        let mut undecided = Undecided::new();
        let mut out = Vec::new();
        assert_eq!(undecided.decode(b"ab\x1B$", &mut out), None);
        assert_eq!(out, b"ab");
        let (found, data) = undecided.decode(b"B$\"", &mut out).unwrap_or((Detected::Utf8, vec![]));
        assert_eq!((found, data.as_slice()), (Detected::Iso2022SevenBit, &b"\x1B$B$\""[..]));
    }
}
