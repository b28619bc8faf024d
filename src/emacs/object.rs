//! Process objects in Lisp: one `netproc-process` record per process, the same object every
//! time. The record (a `cl-defstruct` of netproc.el: NAME, a user pointer, the process
//! mark) is made once and kept, through a global reference, in the process's attachment.
//!
//! The user pointer owns a `ProcRef` and its finalizer only drops that Rust reference. The
//! attachment's reference to the record is released once the process has left
//! `process-list` (see [`release_unlisted`]), so the record can then be collected like any
//! Emacs process object that nothing refers to.

use std::ffi::c_void;
use std::sync::Arc;

use super::env::Env;
use super::error::LispResult;
use super::global::GlobalRef;
use super::state::Module;
use super::sys::emacs_value;
use crate::core::ProcRef;

/// Slot of the user pointer in the record: [TAG NAME POINTER MARK].
const POINTER_SLOT: i64 = 2;

/// What the Emacs layer keeps with each process that has a Lisp object.
struct Attachment {
    record: Arc<GlobalRef>,
    /// Filter calls so far, for `netproc-accept-process-output` with a PROCESS.
    outputs: u64,
}

/// Finalizer of the user pointer: drop our reference to the process, nothing else.
unsafe extern "C" fn finalize_process(pointer: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        if !pointer.is_null() {
            // SAFETY: `pointer` came from Box::into_raw in `lisp_process`, and Emacs calls a
            // user pointer's finalizer exactly once.
            drop(unsafe { Box::from_raw(pointer.cast::<ProcRef>()) });
        }
    });
}

/// The Lisp object of `process`, made on first use.
pub(crate) fn lisp_process(env: &Env, process: &ProcRef) -> LispResult<emacs_value> {
    let existing = process.with_attachment(|data| {
        data.and_then(|data| data.downcast_ref::<Attachment>()).map(|a| a.record.value())
    });
    if let Some(record) = existing {
        return Ok(record);
    }
    let pointer = Box::into_raw(Box::new(process.clone())).cast::<c_void>();
    let user_ptr = match env.user_ptr(finalize_process, pointer) {
        Ok(value) => value,
        Err(failure) => {
            // SAFETY: Emacs did not take the pointer, so it is still ours alone.
            drop(unsafe { Box::from_raw(pointer.cast::<ProcRef>()) });
            return Err(failure);
        }
    };
    let name = env.string(process.name())?;
    let record = env.call("netproc--make-process-object", &[name, user_ptr])?;
    let global = GlobalRef::new(env, record)?;
    let previous = process.set_attachment(Some(Box::new(Attachment { record: global, outputs: 0 })));
    drop(previous);
    Ok(record)
}

/// The process a `netproc-process` record stands for; `(wrong-type-argument processp X)`
/// for anything else, as Emacs's CHECK_PROCESS says.
pub(crate) fn process_arg(env: &Env, value: emacs_value) -> LispResult<ProcRef> {
    if !env.type_is(value, "netproc-process")? {
        return Err(env.wrong_type("processp", value));
    }
    let user_ptr = env.call("aref", &[value, env.int(POINTER_SLOT)?])?;
    if !env.type_is(user_ptr, "user-ptr")? {
        return Err(env.wrong_type("processp", value));
    }
    let pointer = env.get_user_ptr(user_ptr)?;
    if pointer.is_null() {
        return Err(env.wrong_type("processp", value));
    }
    // SAFETY: only `lisp_process` makes user pointers that netproc--make-process-object
    // stores in this slot, and it stores a live Box<ProcRef> there, freed only by the
    // finalizer once the record is garbage.
    let process = unsafe { &*pointer.cast::<ProcRef>() };
    Ok(process.clone())
}

/// Count a filter call for `process`.
pub(crate) fn count_output(process: &ProcRef) {
    process.with_attachment(|data| {
        if let Some(attachment) = data.and_then(|data| data.downcast_mut::<Attachment>()) {
            attachment.outputs += 1;
        }
    });
}

/// Filter calls counted for `process`.
pub(crate) fn output_count(process: &ProcRef) -> u64 {
    process.with_attachment(|data| {
        data.and_then(|data| data.downcast_ref::<Attachment>()).map_or(0, |a| a.outputs)
    })
}

/// Drop the record reference of each process that had a status change (the only way out
/// of `process-list`) and is no longer listed. Still-listed ones leave the set: a later
/// removal comes with another sentinel call, which notes them again.
pub(crate) fn release_unlisted(module: &Module) {
    for process in module.take_status_changed() {
        let listed = module.shared().get_process(process.name()).is_some_and(|p| Arc::ptr_eq(&p, &process));
        if !listed {
            // The attachment (and its global reference) is dropped here, outside any lock.
            drop(process.set_attachment(None));
        }
    }
}
