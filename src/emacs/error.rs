//! Why a module function did not return normally, as data: a Lisp non-local exit taken
//! out of the environment, a core [`Error`], or a fault of the module itself. Nothing here
//! calls Emacs; `signal.rs` turns a failure back into the pending exit of a module call.

use super::sys::emacs_value;
use crate::core::Error;

/// A non-local exit taken out of the environment, to be raised again.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Exit {
    /// `(signal SYMBOL DATA)`.
    Signal(emacs_value, emacs_value),
    /// `(throw TAG VALUE)`.
    Throw(emacs_value, emacs_value),
}

/// Why a module function did not return normally.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Lisp exited non-locally (a signal or a throw) inside something we called.
    Exit(Exit),
    /// An Emacs-style error from the core.
    Error(Error),
    /// `(netproc-error MESSAGE)`: something wrong in the module itself, not in the call.
    Internal(String),
}

/// Shorthand for results at the boundary.
pub(crate) type LispResult<T> = Result<T, Failure>;

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Error(error)
    }
}

impl Failure {
    /// `(netproc-error MESSAGE)`: something wrong in the module itself, not in the call.
    pub(crate) fn internal(message: &str) -> Failure {
        Failure::Internal(message.to_string())
    }
}

/// The text of a caught panic's payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_string()
    }
}
