//! How failures leave a module function: Lisp's own non-local exits are re-raised as they
//! came; the core's `Error { symbol, data }` becomes `(signal SYMBOL DATA)` with the data
//! converted to Lisp; a caught panic becomes `netproc-panic`, a symbol whose only condition
//! is itself, so `(condition-case nil … (error …))` never swallows one.

use super::convert::to_lisp;
use super::env::Env;
use super::sys::emacs_value;
use crate::core::error::Symbol;
use crate::core::{Error, Value};

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
    /// An Emacs-style error from the core or from our own argument checks.
    Error(Error),
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
        Failure::Error(Error::new(Symbol::NetprocError, vec![Value::string(message)]))
    }

    /// `(wrong-type-argument PREDICATE VALUE)` for a Lisp value we could not convert.
    pub(crate) fn wrong_type(env: &Env, predicate: &str, value: emacs_value) -> Failure {
        let data = env
            .intern(predicate)
            .and_then(|symbol| env.list(&[symbol, value]))
            .and_then(|data| Ok((env.intern(Symbol::WrongTypeArgument.name())?, data)));
        match data {
            Ok((symbol, data)) => Failure::Exit(Exit::Signal(symbol, data)),
            Err(failure) => failure,
        }
    }

    /// Make this failure the pending non-local exit of the module call.
    pub(crate) fn raise(self, env: &Env) {
        match self {
            Failure::Exit(exit) => env.raise(&exit),
            Failure::Error(error) => signal_error(env, &error),
        }
    }
}

/// `(signal SYMBOL DATA)` for a core error. If even building the data fails, the exit that
/// failure left pending is raised instead, so something is always signalled.
pub(crate) fn signal_error(env: &Env, error: &Error) {
    let built = (|| -> LispResult<(emacs_value, emacs_value)> {
        let symbol = env.intern(error.symbol.name())?;
        let items = error.data.iter().map(|item| to_lisp(env, item)).collect::<LispResult<Vec<_>>>()?;
        Ok((symbol, env.list(&items)?))
    })();
    match built {
        Ok((symbol, data)) => env.signal(symbol, data),
        Err(Failure::Exit(exit)) => env.raise(&exit),
        Err(Failure::Error(_)) => {
            // Only reachable if interning failed without an exit; say so plainly.
            if let (Ok(symbol), Ok(message)) =
                (env.intern(Symbol::Error.name()), env.string(error.message().as_bytes()))
            {
                if let Ok(data) = env.list(&[message]) {
                    env.signal(symbol, data);
                }
            }
        }
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
