//! The last error of a context or a thread, kept as C strings so that the host can borrow
//! them from netproc_last_error() until the next failure replaces them.

use std::ffi::{c_char, CString};

use super::status::{self, netproc_status};
use crate::core::Error;

/// A failed call's status, Emacs error symbol, message and errno.
pub(crate) struct LastError {
    symbol: CString,
    message: CString,
    errno: i32,
    status: netproc_status,
}

impl Default for LastError {
    /// No error yet: NETPROC_OK, empty strings.
    fn default() -> LastError {
        LastError {
            symbol: CString::default(),
            message: CString::default(),
            errno: 0,
            status: netproc_status::NETPROC_OK,
        }
    }
}

impl LastError {
    /// `error`, which made a call return `status`.
    pub(crate) fn new(error: &Error, status: netproc_status) -> LastError {
        LastError {
            symbol: c_string(status::symbol_name(error).as_bytes()),
            message: c_string(error.message().as_bytes()),
            errno: error.errno,
            status,
        }
    }

    /// The error symbol, NUL-terminated; valid while this record is.
    pub(crate) fn symbol(&self) -> *const c_char {
        self.symbol.as_ptr()
    }

    /// The message, NUL-terminated; valid while this record is.
    pub(crate) fn message(&self) -> *const c_char {
        self.message.as_ptr()
    }

    /// The errno behind the error, or 0.
    pub(crate) fn errno(&self) -> i32 {
        self.errno
    }

    /// The status the failed call returned; NETPROC_OK when nothing failed.
    pub(crate) fn status(&self) -> netproc_status {
        self.status
    }
}

/// A C string from bytes, dropping interior NULs rather than failing: for the error texts
/// netproc_last_error() hands out without a length. Strings handed out with a length keep
/// their NULs (see `CHost::c_text`).
fn c_string(bytes: &[u8]) -> CString {
    let clean: Vec<u8> = bytes.iter().copied().filter(|b| *b != 0).collect();
    CString::new(clean).unwrap_or_default()
}
