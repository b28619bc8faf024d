//! Status codes: 0 is success and every error is negative, so `if (rc < 0)` works.
//! Numbers are never reused; a retired code stays here as a comment.

use std::ffi::c_char;

/// The result of a fallible netproc function. After an error,
/// netproc_last_error() gives the Emacs error symbol, message and errno.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum netproc_status {
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

impl netproc_status {
    /// The status for an Emacs error symbol.
    pub(crate) fn from_symbol(symbol: &str) -> netproc_status {
        match symbol {
            "wrong-type-argument" => netproc_status::NETPROC_E_WRONG_TYPE,
            "file-error" | "file-missing" | "file-already-exists" => netproc_status::NETPROC_E_FILE,
            "coding-system-error" => netproc_status::NETPROC_E_CODING,
            "netproc-panic" => netproc_status::NETPROC_E_PANIC,
            _ => netproc_status::NETPROC_E_ERROR,
        }
    }

    /// The status with this number, if there is one.
    pub(crate) fn from_code(code: i32) -> Option<netproc_status> {
        use netproc_status::*;
        [
            NETPROC_OK,
            NETPROC_E_NULL,
            NETPROC_E_INVALID,
            NETPROC_E_WRONG_TYPE,
            NETPROC_E_ERROR,
            NETPROC_E_FILE,
            NETPROC_E_CODING,
            NETPROC_E_REENTRANT,
            NETPROC_E_CLOSED,
            NETPROC_E_PANIC,
            NETPROC_E_BAD_HANDLE,
            NETPROC_E_WRONG_THREAD,
        ]
        .into_iter()
        .find(|status| *status as i32 == code)
    }

    fn texts(self) -> (&'static str, &'static str) {
        use netproc_status::*;
        match self {
            NETPROC_OK => ("NETPROC_OK\0", "success\0"),
            NETPROC_E_NULL => ("NETPROC_E_NULL\0", "a required pointer argument was NULL\0"),
            NETPROC_E_INVALID => ("NETPROC_E_INVALID\0", "invalid argument\0"),
            NETPROC_E_WRONG_TYPE => ("NETPROC_E_WRONG_TYPE\0", "wrong type argument\0"),
            NETPROC_E_ERROR => ("NETPROC_E_ERROR\0", "error\0"),
            NETPROC_E_FILE => ("NETPROC_E_FILE\0", "system call failed\0"),
            NETPROC_E_CODING => ("NETPROC_E_CODING\0", "invalid coding system\0"),
            NETPROC_E_REENTRANT => ("NETPROC_E_REENTRANT\0", "not allowed inside a callback\0"),
            NETPROC_E_CLOSED => ("NETPROC_E_CLOSED\0", "the context was freed\0"),
            NETPROC_E_PANIC => ("NETPROC_E_PANIC\0", "internal error; context unusable\0"),
            NETPROC_E_BAD_HANDLE => ("NETPROC_E_BAD_HANDLE\0", "not a live netproc handle\0"),
            NETPROC_E_WRONG_THREAD => {
                ("NETPROC_E_WRONG_THREAD\0", "called from a thread that does not own the context\0")
            }
        }
    }
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
    let text = netproc_status::from_code(code).map_or("unknown status\0", |s| s.texts().1);
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
    let text = netproc_status::from_code(code).map_or("NETPROC_E_UNKNOWN\0", |s| s.texts().0);
    text.as_ptr().cast()
}
