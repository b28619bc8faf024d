//! Boundary helpers: reading what C passes in. Handles become contexts and processes
//! (admitted by the owning thread through [`enter`]), pointers and lengths are checked, and
//! values are read, each failure recorded through `guard`'s [`fail_argument`].

use std::sync::Arc;

use super::guard::{enter, fail_argument};
use super::handles;
use super::status::netproc_status::{self, *};
use super::value::{from_c, netproc_value};
use super::{netproc_context, netproc_process};
use crate::core::Value;
use crate::core::{ProcRef, Shared};

/// Borrow the context behind a handle, as a new strong reference.
///
/// # Safety
/// `ctx` must be NULL or a pointer returned by `netproc_context_new` and not yet freed.
pub(crate) unsafe fn context_ref(
    ctx: *const netproc_context,
    function: &str,
) -> Result<Arc<Shared>, netproc_status> {
    if ctx.is_null() {
        return Err(fail_argument(None, netproc_status::NETPROC_E_NULL, &format!("{function}: ctx is NULL")));
    }
    let raw = ctx.cast::<Shared>();
    // SAFETY: the caller guarantees ctx came from Arc::into_raw and is still owned by the
    // host, so adding a reference and taking it back as an Arc is balanced.
    let context = unsafe {
        Arc::increment_strong_count(raw);
        Arc::from_raw(raw)
    };
    enter(&context, function)?;
    Ok(context)
}

/// The process behind a handle, as a new strong reference, admitted as a call from the
/// owner of its context (any thread once the context is freed). A stale or forged handle is
/// NETPROC_E_BAD_HANDLE: the handle table is consulted, never the memory it points at.
pub(crate) fn process_ref(
    process: *const netproc_process,
    function: &str,
) -> Result<ProcRef, netproc_status> {
    let process = lookup_handle(process, function)?;
    if let Some(context) = process.context() {
        enter(&context, function)?;
    }
    Ok(process)
}

/// [`process_ref`] with its context, for the calls that need both (the sends): the
/// context is looked up once. NETPROC_E_CLOSED once the context was freed, as
/// [`context_of`] says.
pub(crate) fn process_and_context(
    process: *const netproc_process,
    function: &str,
) -> Result<(ProcRef, Arc<Shared>), netproc_status> {
    if let Some((process, context)) = super::guard::callback_process(process as usize) {
        super::guard::enter_within_callback(&context);
        return Ok((process, context));
    }
    let process = lookup_handle(process, function)?;
    let context = context_of(&process, function)?;
    enter(&context, function)?;
    Ok((process, context))
}

/// The process behind a handle, with no thread check.
fn lookup_handle(process: *const netproc_process, function: &str) -> Result<ProcRef, netproc_status> {
    if process.is_null() {
        return Err(fail_argument(
            None,
            netproc_status::NETPROC_E_NULL,
            &format!("{function}: process is NULL"),
        ));
    }
    if let Some((current, _)) = super::guard::callback_process(process as usize) {
        return Ok(current);
    }
    handles::lookup(process as usize).map_err(|_| bad_handle(function))
}

/// Record NETPROC_E_BAD_HANDLE for `function`.
pub(crate) fn bad_handle(function: &str) -> netproc_status {
    fail_argument(None, NETPROC_E_BAD_HANDLE, &format!("{function}: not a live process handle"))
}

/// The handle C sees for a process: the same for the life of the process object. NULL
/// only if the handle table is full (2^32 slots on 64-bit systems, beyond any memory).
pub(crate) fn process_handle(process: &ProcRef) -> *mut netproc_process {
    // An integer made into an opaque pointer; C compares it and passes it back, netproc
    // decodes it, nobody dereferences it.
    handles::handle_of(process) as *mut netproc_process
}

/// Give the host its own reference to a process (netproc_process_free releases it).
pub(crate) fn process_into_handle(process: ProcRef) -> Option<*mut netproc_process> {
    handles::hold(process).ok().map(|handle| handle as *mut netproc_process)
}

/// The process's context, or NETPROC_E_CLOSED once it was freed.
pub(crate) fn context_of(process: &ProcRef, function: &str) -> Result<Arc<Shared>, netproc_status> {
    process.context().ok_or_else(|| {
        fail_argument(None, NETPROC_E_CLOSED, &format!("{function}: the process's context was freed"))
    })
}

/// Read an input value, or fail with NETPROC_E_INVALID.
pub(crate) unsafe fn input(
    context: Option<&Shared>,
    value: *const netproc_value,
    function: &str,
    what: &str,
) -> Result<Value, netproc_status> {
    if value.is_null() {
        return Err(fail_argument(context, NETPROC_E_NULL, &format!("{function}: {what} is NULL")));
    }
    // SAFETY: not NULL; the host promises a valid value.
    unsafe { from_c(&*value) }
        .map_err(|bad| fail_argument(context, NETPROC_E_INVALID, &format!("{function}: {what}: {}", bad.0)))
}

/// Check an out-pointer. `context` is the one the call works on (a process's own, for
/// process calls), so that netproc_last_error(ctx) reports the failure too.
pub(crate) fn out_ptr<T>(
    context: Option<&Shared>,
    out: *mut T,
    function: &str,
) -> Result<(), netproc_status> {
    if out.is_null() {
        return Err(fail_argument(context, NETPROC_E_NULL, &format!("{function}: out is NULL")));
    }
    Ok(())
}

/// An optional value argument: NULL reads as NIL.
///
/// # Safety
/// As for [`input`].
pub(crate) unsafe fn optional_input(
    value: *const netproc_value,
    function: &str,
    what: &str,
) -> Result<Value, netproc_status> {
    if value.is_null() {
        Ok(Value::Nil)
    } else {
        unsafe { input(None, value, function, what) }
    }
}

/// A byte buffer from C: `length` bytes at `data`, which may be NULL only when `length` is 0.
///
/// # Safety
/// A non-NULL `data` must point at `length` readable bytes that outlive `'a`.
pub(crate) unsafe fn byte_slice<'a>(
    context: Option<&Shared>,
    data: *const u8,
    length: usize,
    function: &str,
    what: &str,
) -> Result<&'a [u8], netproc_status> {
    if length == 0 {
        return Ok(&[]);
    }
    // slice::from_raw_parts requires at most isize::MAX bytes; past that is undefined
    // behaviour even before a byte is read.
    if length > isize::MAX as usize {
        return Err(fail_argument(
            context,
            NETPROC_E_INVALID,
            &format!("{function}: {what} length {length} is out of range"),
        ));
    }
    if data.is_null() {
        return Err(fail_argument(context, NETPROC_E_NULL, &format!("{function}: {what} is NULL")));
    }
    // SAFETY: not NULL; the caller guarantees `length` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(data, length) })
}

/// Early-return helper: unwrap a Result whose error is already a status code.
macro_rules! ok_or_return {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(status) => return status,
        }
    };
}
pub(crate) use ok_or_return;
