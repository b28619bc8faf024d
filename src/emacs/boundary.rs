//! The boundary every Lisp-callable function crosses: a panic guard, freeing of dropped
//! global references, conversion of failures into signals, and the shape of the tables
//! of functions (`FUNCTIONS` in primitives.rs and io.rs, registered by init.rs).

use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use super::env::Env;
use super::error::{panic_message, Failure, LispResult};
use super::global::free_pending;
use super::signal::raise;
use super::state::{module, Module};
use super::sys::{emacs_env, emacs_value, EMACS_VARIADIC_FUNCTION};
use crate::core::Error;

/// The body of a module function: the environment, the module, the arguments (missing
/// optional arguments are absent from the slice).
pub(crate) type Body = fn(&Env, &Module, &[emacs_value]) -> LispResult<emacs_value>;

/// One Lisp-callable function.
pub(crate) struct Function {
    name: &'static str,
    min: isize,
    /// None for `&rest`.
    max: Option<isize>,
    body: Body,
    doc: &'static CStr,
}

impl Function {
    /// The function `name`, taking `min` to `max` arguments (None: any number more).
    pub(crate) const fn new(
        name: &'static str,
        min: isize,
        max: Option<isize>,
        body: Body,
        doc: &'static CStr,
    ) -> Function {
        Function { name, min, max, body, doc }
    }
}

/// `defalias` every function of `table`.
pub(crate) fn register(env: &Env, table: &'static [Function]) -> LispResult<()> {
    for function in table {
        let max = function.max.unwrap_or(EMACS_VARIADIC_FUNCTION);
        // The data pointer is the entry's address: the tables are statics, never freed.
        let data = std::ptr::from_ref(function).cast_mut().cast::<c_void>();
        env.defun(function.name, function.min, max, trampoline, function.doc, data)?;
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
    // SAFETY: `register` made `data` the address of an entry of a static table, and Emacs
    // passes it back unchanged.
    let function = unsafe { data.cast::<Function>().as_ref() };
    let outcome = catch_unwind(AssertUnwindSafe(|| -> LispResult<emacs_value> {
        free_pending(&env);
        let module = module()?;
        let Some(function) = function else {
            return Err(Failure::internal("unknown module function"));
        };
        let result = (function.body)(&env, module, args);
        // Calls such as set-process-filter may leave events for the next poll: make sure
        // the watcher sees the reactor ready. Not from inside a callback: the dispatch
        // running it looks again when it ends.
        let shared = module.shared();
        if !shared.in_callback() && shared.next_timeout() == Some(Duration::ZERO) {
            let _ = shared.wakeup();
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
                module.shared().mark_failed();
            }
            raise(&env, Failure::Error(Error::panic(&panic_message(payload.as_ref()))));
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
