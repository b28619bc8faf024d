//! Status codes: 0 is success and every error is negative, so `if (rc < 0)` works.
//! Numbers are never reused; a retired code stays here as a comment.
//!
//! One home for each code: its number and C documentation are the enum below, written out
//! because cbindgen reads the source, not macro output; its text (netproc_status_str), its
//! name (netproc_status_name, the variant's own name) and the Emacs error symbols that map
//! to it are its row in `status_table!`, whose exhaustive match does not compile while a
//! code lacks a row. Every `core::Error` becomes a status ([`of_error`]) or a symbol name
//! ([`symbol_name`]) here and nowhere else in src/ffi.

use std::ffi::c_char;

use crate::core::error::Symbol;
use crate::core::Error;

/// The result of a fallible netproc function. After an error,
/// netproc_last_error() gives the Emacs error symbol, message and errno.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum netproc_status {
    /// Success, and the process's queued output is above its high-water mark (netproc's
    /// `:high-water`, `:drain`): wait for its drain function before sending more. Only a
    /// send to a process with a mark returns it. Since 0.2.
    NETPROC_HIGH_WATER = 1,
    /// Success.
    NETPROC_OK = 0,
    /// A required pointer argument was NULL.
    NETPROC_E_NULL = -1,
    /// An argument was malformed: unknown value type, bad length, bad structure.
    NETPROC_E_INVALID = -2,
    /// A value had the wrong type (Emacs's `wrong-type-argument`).
    NETPROC_E_WRONG_TYPE = -3,
    /// Emacs's plain `error`, e.g. "Process NAME not running".
    NETPROC_E_ERROR = -4,
    /// A system call failed (`file-error`, `file-missing`, …); the errno is kept.
    NETPROC_E_FILE = -5,
    /// An unknown coding system (`coding-system-error`).
    NETPROC_E_CODING = -6,
    /// Called from inside a callback where that is not allowed (netproc_poll,
    /// netproc_context_free).
    NETPROC_E_REENTRANT = -7,
    /// The process's context was freed.
    NETPROC_E_CLOSED = -8,
    /// netproc caught an internal panic; the context is unusable from now on.
    NETPROC_E_PANIC = -9,
    /// The handle is not a live netproc handle: its process is gone, it was freed more
    /// often than referenced, or it never was a handle.
    NETPROC_E_BAD_HANDLE = -10,
    /// Called from a thread that does not own the context (see
    /// netproc_context_set_owner_thread()). Since 0.2.
    NETPROC_E_WRONG_THREAD = -11,
}

/// The rows of the status table: per code, its text and the Emacs error symbols that map
/// to it. A symbol in no row maps to NETPROC_E_ERROR, as Emacs's plain `error` does.
macro_rules! status_table {
    ($($code:ident => $text:literal, [$($symbol:ident),*];)*) => {
        impl netproc_status {
            /// Every status, in number order.
            const ALL: &[netproc_status] = &[$(netproc_status::$code),*];

            /// The code's constant name and text, NUL-terminated, and its error symbols.
            const fn row(self) -> (&'static str, &'static str, &'static [Symbol]) {
                match self {
                    $(netproc_status::$code => {
                        (concat!(stringify!($code), "\0"), concat!($text, "\0"), &[$(Symbol::$symbol),*])
                    })*
                }
            }
        }
    };
}

status_table! {
    NETPROC_HIGH_WATER => "success; the output queue is above its high-water mark", [];
    NETPROC_OK => "success", [];
    NETPROC_E_NULL => "a required pointer argument was NULL", [];
    NETPROC_E_INVALID => "invalid argument", [];
    NETPROC_E_WRONG_TYPE => "wrong type argument", [WrongTypeArgument];
    NETPROC_E_ERROR => "error", [Error];
    NETPROC_E_FILE => "system call failed", [FileError, FileMissing, FileAlreadyExists];
    NETPROC_E_CODING => "invalid coding system", [CodingSystemError];
    NETPROC_E_REENTRANT => "not allowed inside a callback", [];
    NETPROC_E_CLOSED => "the context was freed", [];
    NETPROC_E_PANIC => "internal error; context unusable", [NetprocPanic];
    NETPROC_E_BAD_HANDLE => "not a live netproc handle", [];
    NETPROC_E_WRONG_THREAD => "called from a thread that does not own the context", [];
}

impl netproc_status {
    /// The status with this number, if there is one.
    pub(crate) fn from_code(code: i32) -> Option<netproc_status> {
        netproc_status::ALL.iter().copied().find(|status| *status as i32 == code)
    }

    /// The status for an Emacs error symbol.
    fn from_symbol(symbol: Symbol) -> netproc_status {
        netproc_status::ALL
            .iter()
            .copied()
            .find(|status| status.row().2.contains(&symbol))
            .unwrap_or(netproc_status::NETPROC_E_ERROR)
    }
}

/// The name of an error's Emacs symbol ("file-error").
pub(crate) fn symbol_name(error: &Error) -> &'static str {
    error.symbol.name()
}

/// The status a core error returns to C, chosen by its symbol.
pub(crate) fn of_error(error: &Error) -> netproc_status {
    netproc_status::from_symbol(error.symbol)
}

/// A short description of a status code ("invalid argument"); "unknown status" for a
/// number that is not a status.
///
/// Ownership: static storage; never free it.
/// Lifetime:  the whole program.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_status_str(code: i32) -> *const c_char {
    let text = netproc_status::from_code(code).map_or("unknown status\0", |s| s.row().1);
    text.as_ptr().cast()
}

/// The name of a status code's constant ("NETPROC_E_INVALID"); "NETPROC_E_UNKNOWN" for a
/// number that is not a status.
///
/// Ownership: static storage; never free it.
/// Lifetime:  the whole program.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_status_name(code: i32) -> *const c_char {
    let text = netproc_status::from_code(code).map_or("NETPROC_E_UNKNOWN\0", |s| s.row().0);
    text.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::netproc_status::{self, *};
    use super::*;

    #[test]
    fn names_and_numbers_come_from_the_enum() {
        for pair in netproc_status::ALL.windows(2) {
            assert!(pair[0] as i32 > pair[1] as i32, "codes are listed in number order");
        }
        for status in netproc_status::ALL {
            assert_eq!(netproc_status::from_code(*status as i32), Some(*status));
            assert_eq!(status.row().0, format!("{status:?}\0"));
        }
        assert_eq!(netproc_status::from_code(2), None);
        assert_eq!(netproc_status::from_code(-12), None);
    }

    #[test]
    fn error_symbols_map_as_before() {
        let cases = [
            (Symbol::WrongTypeArgument, NETPROC_E_WRONG_TYPE),
            (Symbol::FileError, NETPROC_E_FILE),
            (Symbol::FileMissing, NETPROC_E_FILE),
            (Symbol::FileAlreadyExists, NETPROC_E_FILE),
            (Symbol::CodingSystemError, NETPROC_E_CODING),
            (Symbol::NetprocPanic, NETPROC_E_PANIC),
            (Symbol::Error, NETPROC_E_ERROR),
            (Symbol::ArgsOutOfRange, NETPROC_E_ERROR),
            (Symbol::NetprocError, NETPROC_E_ERROR),
        ];
        for (symbol, status) in cases {
            assert_eq!(netproc_status::from_symbol(symbol), status, "{symbol}");
        }
        assert_eq!(cases.len(), Symbol::ALL.len(), "every symbol has a case");
        let symbols: Vec<Symbol> =
            netproc_status::ALL.iter().flat_map(|status| status.row().2).copied().collect();
        let distinct: std::collections::HashSet<Symbol> = symbols.iter().copied().collect();
        assert_eq!(symbols.len(), distinct.len(), "a symbol maps to one status");
        assert_eq!(of_error(&Error::msg("x")), NETPROC_E_ERROR);
        assert_eq!(of_error(&Error::panic("x")), NETPROC_E_PANIC);
        assert_eq!(symbol_name(&Error::msg("x")), "error");
    }
}
