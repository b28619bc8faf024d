//! End-of-line conversion: CR LF and CR to LF when decoding (streaming, with detection), and
//! LF to CR LF or CR when encoding.
//!
//! Conversion works on decoded text, after the character decoder, as in Emacs: CR and LF are
//! single bytes in the representation, never part of a multibyte sequence or a raw-byte pair.

use std::borrow::Cow;

use super::Eol;

const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// How many end-of-lines Emacs's `detect_eol` looks at before it decides
/// (`MAX_EOL_CHECK_COUNT` in coding.c).
const EOL_CHECK_COUNT: usize = 3;

/// The streaming end-of-line decoder.
#[derive(Clone, Debug)]
pub(crate) struct EolDecoder {
    mode: Eol,
    /// A CR that ended the previous read: whether it is half of a CR LF is not known yet.
    held_cr: bool,
}

impl EolDecoder {
    pub(crate) fn new(mode: Eol) -> EolDecoder {
        EolDecoder { mode, held_cr: false }
    }

    /// The convention in force, `Undecided` until detection has seen an end-of-line.
    pub(crate) fn mode(&self) -> Eol {
        self.mode
    }

    /// Whether text passes through unchanged: LF line ends already detected (or given)
    /// and no CR held.
    pub(crate) fn passes_unchanged(&self) -> bool {
        self.mode == Eol::Unix && !self.held_cr
    }

    /// Called before the text of a read is appended: puts back a CR held from the last read,
    /// so that [`EolDecoder::convert`] sees it together with what follows.
    pub(crate) fn begin(&mut self, out: &mut Vec<u8>) {
        if self.held_cr {
            out.push(CR);
            self.held_cr = false;
        }
    }

    /// Convert the text appended to `out` since `start`. Unless `last`, a CR at the very end
    /// is taken out and held, since the next read may begin with its LF.
    pub(crate) fn convert(&mut self, out: &mut Vec<u8>, start: usize, last: bool) {
        if self.mode == Eol::Undecided {
            match detect(&out[start..]) {
                Some(found) => self.mode = found,
                None => {
                    self.hold_trailing_cr(out, start, last);
                    return;
                }
            }
        }
        match self.mode {
            Eol::Unix | Eol::Undecided => {}
            Eol::Mac => {
                for byte in &mut out[start..] {
                    if *byte == CR {
                        *byte = LF;
                    }
                }
            }
            Eol::Dos => self.convert_dos(out, start, last),
        }
    }

    fn hold_trailing_cr(&mut self, out: &mut Vec<u8>, start: usize, last: bool) {
        if !last && out.len() > start && out.last() == Some(&CR) {
            out.pop();
            self.held_cr = true;
        }
    }

    /// CR LF becomes LF in place; a lone CR stays; a final CR is held unless `last`.
    fn convert_dos(&mut self, out: &mut Vec<u8>, start: usize, last: bool) {
        let end = out.len();
        let mut read = start;
        let mut write = start;
        while let Some(offset) = find_byte(CR, &out[read..end]) {
            let cr = read + offset;
            if write != read {
                out.copy_within(read..cr, write);
            }
            write += cr - read;
            read = cr + 1;
            if read == end {
                if last {
                    out[write] = CR;
                    write += 1;
                } else {
                    self.held_cr = true;
                }
                break;
            }
            if out[read] != LF {
                out[write] = CR;
                write += 1;
            }
        }
        if read < end {
            if write != read {
                out.copy_within(read..end, write);
            }
            write += end - read;
        }
        out.truncate(write);
    }
}

/// Emacs's `detect_eol` on the text of one read: the kind of the first end-of-line, looking
/// at up to three; CR and CR LF mixed count as CR LF (stray CRs in DOS files), any other mix
/// as LF. A CR at the very end is not counted: it may be the first half of a CR LF split
/// between reads (Emacs counts it as a Mac end-of-line; netproc waits for the next byte).
fn detect(text: &[u8]) -> Option<Eol> {
    let mut seen: Option<Eol> = None;
    let mut counted = 0;
    let mut at = 0;
    while let Some(offset) = text[at..].iter().position(|&b| b == CR || b == LF) {
        let eol_at = at + offset;
        let this = if text[eol_at] == LF {
            at = eol_at + 1;
            Eol::Unix
        } else if eol_at + 1 == text.len() {
            break;
        } else if text[eol_at + 1] == LF {
            at = eol_at + 2;
            Eol::Dos
        } else {
            at = eol_at + 1;
            Eol::Mac
        };
        seen = Some(match (seen, this) {
            (None, this) => this,
            (Some(before), this) if before == this => this,
            (Some(Eol::Mac), Eol::Dos) | (Some(Eol::Dos), Eol::Mac) => Eol::Dos,
            _ => return Some(Eol::Unix),
        });
        counted += 1;
        if counted == EOL_CHECK_COUNT {
            break;
        }
    }
    seen
}

/// The position of `needle` in `haystack`. Scans in blocks whose test the compiler can
/// vectorize, so long lines without the byte cost about as much as a copy.
pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = haystack.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |found, &byte| found | (byte == needle)) {
            return block.iter().position(|&byte| byte == needle).map(|at| offset + at);
        }
        offset += BLOCK;
    }
    blocks.remainder().iter().position(|&byte| byte == needle).map(|at| offset + at)
}

/// `text` with each LF turned into the end-of-line of `eol` (an undecided one encodes as LF,
/// as Emacs's system EOL type on GNU/Linux).
pub(crate) fn encode_eol(text: &[u8], eol: Eol) -> Cow<'_, [u8]> {
    let replacement: &[u8] = match eol {
        Eol::Unix | Eol::Undecided => return Cow::Borrowed(text),
        Eol::Dos => b"\r\n",
        Eol::Mac => b"\r",
    };
    let Some(first) = find_byte(LF, text) else {
        return Cow::Borrowed(text);
    };
    let mut out = Vec::with_capacity(text.len() + text.len() / 16 + 1);
    out.extend_from_slice(&text[..first]);
    let mut rest = &text[first..];
    while let Some(at) = find_byte(LF, rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(replacement);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_reads(mode: Eol, reads: &[&[u8]]) -> (Vec<u8>, Eol) {
        let mut eol = EolDecoder::new(mode);
        let mut out = Vec::new();
        for read in reads {
            let start = out.len();
            eol.begin(&mut out);
            out.extend_from_slice(read);
            eol.convert(&mut out, start, false);
        }
        let start = out.len();
        eol.begin(&mut out);
        eol.convert(&mut out, start, true);
        (out, eol.mode())
    }

    #[test]
    fn dos_joins_cr_lf_across_reads() {
        assert_eq!(decode_reads(Eol::Dos, &[b"c\r", b"\nd"]).0, b"c\nd");
        assert_eq!(decode_reads(Eol::Dos, &[b"a\r\nb\rc\n"]).0, b"a\nb\rc\n");
        assert_eq!(decode_reads(Eol::Dos, &[b"c\r"]).0, b"c\r");
        assert_eq!(decode_reads(Eol::Dos, &[b"\r", b"\r", b"\n\r"]).0, b"\r\n\r");
    }

    #[test]
    fn mac_and_unix() {
        assert_eq!(decode_reads(Eol::Mac, &[b"a\r\nb\rc\n"]).0, b"a\n\nb\nc\n");
        assert_eq!(decode_reads(Eol::Unix, &[b"a\r\nb\r"]).0, b"a\r\nb\r");
    }

    #[test]
    fn detection_follows_emacs_detect_eol() {
        // (decode-coding-string "abc\r\ndef" 'undecided) → last-coding-system-used undecided-dos
        assert_eq!(decode_reads(Eol::Undecided, &[b"abc\r\ndef"]), (b"abc\ndef".to_vec(), Eol::Dos));
        // "abc\rdef" → undecided-mac
        assert_eq!(decode_reads(Eol::Undecided, &[b"abc\rdef"]), (b"abc\ndef".to_vec(), Eol::Mac));
        // "abc\ndef\r\n" → undecided-unix, the CR is kept
        assert_eq!(decode_reads(Eol::Undecided, &[b"abc\ndef\r\n"]).1, Eol::Unix);
        // a process read "a\r\nb\nc" → undecided-unix; "a\rb\r\nc" → undecided-dos
        assert_eq!(decode_reads(Eol::Undecided, &[b"a\r\nb\nc"]).1, Eol::Unix);
        assert_eq!(decode_reads(Eol::Undecided, &[b"a\rb\r\nc"]), (b"a\rb\nc".to_vec(), Eol::Dos));
        // A CR at the end of a read waits for the next one.
        assert_eq!(decode_reads(Eol::Undecided, &[b"abc\r", b"\ndef"]), (b"abc\ndef".to_vec(), Eol::Dos));
        assert_eq!(decode_reads(Eol::Undecided, &[b"abc\r"]), (b"abc\r".to_vec(), Eol::Undecided));
    }

    #[test]
    fn encoding() {
        assert_eq!(&*encode_eol(b"a\nb\n", Eol::Dos), b"a\r\nb\r\n");
        assert_eq!(&*encode_eol(b"a\r\nb", Eol::Dos), b"a\r\r\nb");
        assert_eq!(&*encode_eol(b"a\nb", Eol::Mac), b"a\rb");
        assert_eq!(&*encode_eol(b"a\nb", Eol::Undecided), b"a\nb");
    }

    #[test]
    fn find_byte_in_every_position() {
        for len in 0..80 {
            for at in 0..len {
                let mut hay = vec![b'x'; len];
                hay[at] = CR;
                assert_eq!(find_byte(CR, &hay), Some(at));
            }
            assert_eq!(find_byte(CR, &vec![b'x'; len]), None);
        }
    }
}
