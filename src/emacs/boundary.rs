//! The boundary every Lisp-callable function crosses: a panic guard, freeing of dropped
//! global references, conversion of failures into signals, and the table of functions.

use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use super::env::Env;
use super::error::{panic_message, Failure, LispResult};
use super::global::free_pending;
use super::init::{module, Module};
use super::signal::raise;
use super::sys::{emacs_env, emacs_value, EMACS_VARIADIC_FUNCTION};
use crate::core::Error;

/// The body of a module function: the environment, the module, the arguments (missing
/// optional arguments are absent from the slice).
pub(crate) type Body = fn(&Env, &Module, &[emacs_value]) -> LispResult<emacs_value>;

/// One Lisp-callable function.
pub(crate) struct Function {
    pub(crate) name: &'static str,
    pub(crate) min: isize,
    /// None for `&rest`.
    pub(crate) max: Option<isize>,
    pub(crate) body: Body,
    pub(crate) doc: &'static CStr,
}

fn table() -> impl Iterator<Item = &'static Function> {
    super::primitives::FUNCTIONS.iter().chain(super::io::FUNCTIONS.iter())
}

/// `defalias` every function of the table.
pub(crate) fn register_all(env: &Env) -> LispResult<()> {
    for (index, function) in table().enumerate() {
        let max = function.max.unwrap_or(EMACS_VARIADIC_FUNCTION);
        // The data pointer carries the table index, not an address.
        env.defun(function.name, function.min, max, trampoline, function.doc, index as *mut c_void)?;
    }
    Ok(())
}

/// What Emacs calls for every module function.
unsafe extern "C" fn trampoline(
    raw_env: *mut emacs_env,
    nargs: isize,
    args: *mut emacs_value,
    data: *mut c_void,
) -> emacs_value {
    // SAFETY: Emacs passes the environment of this call; `Env` does not outlive it.
    let env = unsafe { Env::from_raw(raw_env) };
    let args: &[emacs_value] = if nargs > 0 && !args.is_null() {
        // SAFETY: Emacs passes `nargs` valid values at `args` for the duration of the call.
        unsafe { std::slice::from_raw_parts(args, nargs as usize) }
    } else {
        &[]
    };
    let index = data as usize;
    let outcome = catch_unwind(AssertUnwindSafe(|| -> LispResult<emacs_value> {
        free_pending(&env);
        let module = module()?;
        let function = table().nth(index).map(|f| f.body);
        let Some(body) = function else {
            return Err(Failure::internal("unknown module function"));
        };
        let result = body(&env, module, args);
        // Calls such as set-process-filter may leave events for the next poll: make sure
        // the watcher sees the reactor ready. Not from inside a callback: the dispatch
        // running it looks again when it ends.
        if !module.shared.in_callback() && module.shared.next_timeout() == Some(Duration::ZERO) {
            let _ = module.shared.wakeup();
        }
        result
    }));
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(failure)) => {
            raise(&env, failure);
            std::ptr::null_mut()
        }
        Err(payload) => {
            if let Ok(module) = module() {
                module.shared.mark_failed();
            }
            let error = Error::panic(&panic_message(payload.as_ref()));
            raise(&env, Failure::Error(error));
            std::ptr::null_mut()
        }
    }
}

/// Argument `index`, or nil when the caller left it out.
pub(crate) fn arg(env: &Env, args: &[emacs_value], index: usize) -> LispResult<emacs_value> {
    match args.get(index) {
        Some(value) => Ok(*value),
        None => env.nil(),
    }
}
