//! Short text kept inline, for what every accepted connection formats: its peer's host
//! (`127.0.0.1`) and its client id (`<127.0.0.1:40312>`). As `String`s they were three heap
//! allocations, a copy and three frees per connection (W3's profile).

use std::fmt;
use std::ops::Deref;

/// At most `N` bytes of text (`N` below 256), stored in place. Whatever is pushed past
/// `N` bytes is left out, cut at a character boundary; the types below are sized so that
/// what they hold always fits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortText<const N: usize> {
    length: u8,
    bytes: [u8; N],
}

/// An address's host part as Emacs writes it in accepted connections' names and
/// messages: an IPv4 address, or an IPv6 one as eight hex groups (at most 39 bytes).
pub type HostText = ShortText<39>;

/// An accepted connection's client id, `<HOST:PORT>` or `<[HOST]:PORT>` or `<N>`.
pub(crate) type ClientId = ShortText<52>;

/// The decimal digits of each byte value, and how many there are.
const BYTE_DIGITS: [([u8; 3], u8); 256] = {
    let mut table = [([0u8; 3], 0u8); 256];
    let mut value = 0;
    while value < 256 {
        let (hundreds, tens, ones) = ((value / 100) as u8, (value / 10 % 10) as u8, (value % 10) as u8);
        table[value] = if value >= 100 {
            ([b'0' + hundreds, b'0' + tens, b'0' + ones], 3)
        } else if value >= 10 {
            ([b'0' + tens, b'0' + ones, 0], 2)
        } else {
            ([b'0' + ones, 0, 0], 1)
        };
        value += 1;
    }
    table
};

impl<const N: usize> ShortText<N> {
    /// Empty text.
    pub const fn new() -> Self {
        assert!(N < 256, "a ShortText's length is one byte");
        ShortText { length: 0, bytes: [0; N] }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: the first `length` bytes are whole characters: push_str stores whole
        // characters of a str, push_ascii ASCII bytes only, and nothing else writes them.
        // (Checking them again each time was a sixth of W3's instructions here.)
        unsafe { std::str::from_utf8_unchecked(&self.bytes[..usize::from(self.length)]) }
    }

    /// Append `text`, as much of it as fits.
    pub fn push_str(&mut self, text: &str) {
        let start = usize::from(self.length);
        let mut take = text.len().min(N - start);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[start..start + take].copy_from_slice(&text.as_bytes()[..take]);
        // Below 256: N is (checked in `new`).
        self.length = (start + take) as u8;
    }

    /// Append an ASCII byte, if it fits (any other byte is left out: not a character).
    pub fn push_ascii(&mut self, byte: u8) {
        let start = usize::from(self.length);
        if byte.is_ascii() && start < N {
            self.bytes[start] = byte;
            self.length += 1;
        }
    }

    /// Append `n` in decimal (as much of it as fits).
    pub fn push_decimal(&mut self, n: u64) {
        // An accepted connection writes five numbers (four octets and a port): a byte's
        // digits come from a table, others are written last digit first into a scratch
        // buffer. Counting the digits first, or a digit at a time through push_ascii, cost
        // more than the rest of the name (W3's profile).
        if let Ok(byte) = u8::try_from(n) {
            let (digits, length) = BYTE_DIGITS[usize::from(byte)];
            let start = usize::from(self.length);
            if let Some(place) = self.bytes.get_mut(start..start + 3) {
                // All three places written (a fixed-size copy, no call); only `length`
                // of them count, and what lies past the length is never read.
                place.copy_from_slice(&digits);
                self.length += length;
            } else {
                self.push_ascii_bytes(&digits[..usize::from(length)]);
            }
            return;
        }
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = n;
        while rest > 0 {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        self.push_ascii_bytes(&digits[start..]);
    }

    /// Append ASCII bytes, as many as fit.
    fn push_ascii_bytes(&mut self, ascii: &[u8]) {
        debug_assert!(ascii.is_ascii());
        let start = usize::from(self.length);
        let take = ascii.len().min(N - start);
        self.bytes[start..start + take].copy_from_slice(&ascii[..take]);
        self.length = (start + take) as u8;
    }

    /// Append `n` in lowercase hex, without leading zeros.
    pub fn push_hex(&mut self, n: u16) {
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let digit = (n >> shift) & 0xf;
            if digit != 0 || started || shift == 0 {
                started = true;
                self.push_ascii(b"0123456789abcdef"[usize::from(digit)]);
            }
        }
    }
}

impl<const N: usize> Default for ShortText<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Deref for ShortText<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<[u8]> for ShortText<N> {
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl<const N: usize> From<&str> for ShortText<N> {
    /// As much of `text` as fits.
    fn from(text: &str) -> Self {
        let mut short = Self::new();
        short.push_str(text);
        short
    }
}

impl<const N: usize> fmt::Debug for ShortText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for ShortText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_appended_and_numbers_written_as_std_writes_them() {
        let mut text = ClientId::new();
        text.push_ascii(b'<');
        text.push_str("127.0.0.1");
        text.push_ascii(b':');
        text.push_decimal(40312);
        text.push_ascii(b'>');
        assert_eq!(&*text, "<127.0.0.1:40312>");
        for n in [0u64, 7, 10, 99, 65535, u64::MAX] {
            let mut decimal = ShortText::<20>::new();
            decimal.push_decimal(n);
            assert_eq!(decimal.as_str(), n.to_string());
        }
        for n in [0u16, 1, 0xf, 0x10, 0xabc, 0x1000, 0xffff] {
            let mut hex = ShortText::<4>::new();
            hex.push_hex(n);
            assert_eq!(hex.as_str(), format!("{n:x}"));
        }
    }

    #[test]
    fn text_past_the_capacity_is_cut_at_a_character_boundary() {
        let text = ShortText::<5>::from("abcdéf");
        assert_eq!(text.as_str(), "abcd");
        let mut full = ShortText::<3>::from("abc");
        full.push_ascii(b'd');
        full.push_decimal(12);
        assert_eq!(full.as_str(), "abc");
        let mut partly = ShortText::<5>::from("abc");
        partly.push_decimal(1234);
        assert_eq!(partly.as_str(), "abc12", "the leading digits that fit");
        let mut ascii_only = ShortText::<3>::new();
        ascii_only.push_ascii(0xe9);
        assert_eq!(ascii_only.as_str(), "");
    }
}
