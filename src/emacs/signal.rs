//! How failures leave a module function: Lisp's own non-local exits are re-raised as they
//! came; the core's `Error { symbol, data }` becomes `(signal SYMBOL DATA)` with the data
//! converted to Lisp; the module's own faults become `netproc-error`; a caught panic is the
//! core's `netproc-panic` error, a symbol whose only condition is itself, so
//! `(condition-case nil … (error …))` never swallows one.
//!
//! This is the one place that reads a core error's symbol (`error_symbol`).

use super::convert::to_lisp;
use super::env::Env;
use super::error::{Failure, LispResult};
use super::sys::emacs_value;
use crate::core::error::Symbol;
use crate::core::Error;

/// Make `failure` the pending non-local exit of the module call. If even building the
/// signal's data fails, the exit that failure left pending is raised instead, so something
/// is always signalled.
pub(crate) fn raise(env: &Env, failure: Failure) {
    let built = match &failure {
        Failure::Exit(exit) => return env.raise(exit),
        Failure::Error(error) => core_signal(env, error),
        Failure::Internal(message) => internal_signal(env, message),
    };
    match built {
        Ok((symbol, data)) => env.signal(symbol, data),
        Err(Failure::Exit(exit)) => env.raise(&exit),
        Err(_) => {
            // Only reachable if interning failed without an exit; say so plainly.
            let message = match &failure {
                Failure::Error(error) => error.message(),
                Failure::Internal(message) => message.clone(),
                Failure::Exit(_) => return,
            };
            if let (Ok(symbol), Ok(message)) =
                (env.intern(Symbol::Error.name()), env.string(message.as_bytes()))
            {
                if let Ok(data) = env.list(&[message]) {
                    env.signal(symbol, data);
                }
            }
        }
    }
}

/// The name of a core error's symbol.
fn error_symbol(error: &Error) -> &'static str {
    error.symbol.name()
}

/// `(SYMBOL . DATA)` of a core error.
fn core_signal(env: &Env, error: &Error) -> LispResult<(emacs_value, emacs_value)> {
    let symbol = env.intern(error_symbol(error))?;
    let items = error.data.iter().map(|item| to_lisp(env, item)).collect::<LispResult<Vec<_>>>()?;
    Ok((symbol, env.list(&items)?))
}

/// `(netproc-error MESSAGE)`.
fn internal_signal(env: &Env, message: &str) -> LispResult<(emacs_value, emacs_value)> {
    let symbol = env.intern(Symbol::NetprocError.name())?;
    let message = env.string(message.as_bytes())?;
    Ok((symbol, env.list(&[message])?))
}
