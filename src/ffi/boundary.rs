//! Boundary helpers: the panic guard, the owning-thread check, pointer and length checks,
//! handle look-ups and error recording. Every `extern "C"` function body runs inside
//! [`guard`], so no unwind reaches C.

use std::cell::RefCell;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::handles;
use super::status;
use super::status::netproc_status::{self, *};
use super::value::{from_c, netproc_value};
use super::{netproc_context, netproc_process};
use crate::core::Value;
use crate::core::{Error, ProcRef, Shared};

/// The last error, kept as C strings so the host can borrow them.
#[derive(Default)]
pub(crate) struct LastError {
    pub(crate) symbol: CString,
    pub(crate) message: CString,
    pub(crate) errno: i32,
    pub(crate) status: i32,
}

impl LastError {
    fn from_error(error: &Error, status: netproc_status) -> LastError {
        LastError {
            symbol: c_string(status::symbol_name(error).as_bytes()),
            message: c_string(error.message().as_bytes()),
            errno: error.errno,
            status: status as i32,
        }
    }
}

/// A C string from bytes, dropping interior NULs rather than failing: for the error texts
/// netproc_last_error() hands out without a length. Strings handed out with a length keep
/// their NULs (see `CHost::c_text`).
fn c_string(bytes: &[u8]) -> CString {
    let clean: Vec<u8> = bytes.iter().copied().filter(|b| *b != 0).collect();
    CString::new(clean).unwrap_or_default()
}

/// The context a call works on: for the panic guard, and to end the call's turn as owner.
struct Entered {
    context: Weak<Shared>,
    /// Whether the call was admitted by the context's [`super::owner::Owner`].
    counted: bool,
}

impl Entered {
    /// The call is over: it no longer counts as the owner's.
    fn leave(&self) -> Option<Arc<Shared>> {
        let context = self.context.upgrade();
        if self.counted {
            if let Some(state) = context.as_deref().and_then(c_state) {
                state.owner.leave();
            }
        }
        context
    }
}

thread_local! {
    /// Errors with no usable context (a NULL or stale handle, the wrong thread) land here.
    static THREAD_LAST_ERROR: RefCell<LastError> = RefCell::new(LastError::default());
    /// The context the current call works on.
    static CURRENT_CONTEXT: RefCell<Option<Entered>> = const { RefCell::new(None) };
}

/// Run an `extern "C"` body, turning a panic into `on_panic` after recording it and
/// marking the context the body was using as failed.
pub(crate) fn guard<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    let previous = CURRENT_CONTEXT.with(|current| current.borrow_mut().take());
    let outcome = catch_unwind(AssertUnwindSafe(body));
    let used = CURRENT_CONTEXT.with(|current| std::mem::replace(&mut *current.borrow_mut(), previous));
    let context = used.as_ref().and_then(Entered::leave);
    match outcome {
        Ok(value) => value,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            let error = Error::panic(&what);
            if let Some(context) = &context {
                context.mark_failed();
            }
            record(context.as_deref(), &error, netproc_status::NETPROC_E_PANIC);
            on_panic
        }
    }
}

/// Admit a call on `context` from its owning thread (for the rest of the `guard`ed body),
/// or refuse it with NETPROC_E_WRONG_THREAD. The refusal is recorded for the calling thread
/// only: the context's own record belongs to the owner, who may be reading it.
pub(crate) fn enter(context: &Arc<Shared>, function: &str) -> Result<(), netproc_status> {
    let counted = match c_state(context) {
        Some(state) if !state.owner.enter() => return Err(wrong_thread(function)),
        Some(_) => true,
        None => false,
    };
    let entered = Entered { context: Arc::downgrade(context), counted };
    let replaced = CURRENT_CONTEXT.with(|current| current.borrow_mut().replace(entered));
    if let Some(replaced) = replaced {
        replaced.leave();
    }
    Ok(())
}

/// Record NETPROC_E_WRONG_THREAD for `function` (on the calling thread only).
pub(crate) fn wrong_thread(function: &str) -> netproc_status {
    fail_argument(
        None,
        NETPROC_E_WRONG_THREAD,
        &format!("{function}: called from a thread that does not own the context"),
    )
}

/// Per-context data of the C boundary, attached to the core context.
pub(crate) fn c_state(context: &Shared) -> Option<&super::context::CState> {
    context.extension::<super::context::CState>()
}

/// Record an error for `netproc_last_error` and return its status code.
pub(crate) fn record(context: Option<&Shared>, error: &Error, status: netproc_status) -> netproc_status {
    THREAD_LAST_ERROR.with(|last| *last.borrow_mut() = LastError::from_error(error, status));
    if let Some(state) = context.and_then(c_state) {
        *state.last_error.lock() = LastError::from_error(error, status);
    }
    status
}

/// Record a core error, choosing the status from its symbol.
pub(crate) fn fail(context: Option<&Shared>, error: &Error) -> netproc_status {
    record(context, error, status::of_error(error))
}

/// Record a C-level argument error (a NULL pointer, an unknown enum value, a bad handle).
pub(crate) fn fail_argument(
    context: Option<&Shared>,
    status: netproc_status,
    message: &str,
) -> netproc_status {
    record(context, &Error::msg(message), status)
}

/// Run `f` on the thread's last error (for calls without a context).
pub(crate) fn with_thread_last_error<R>(f: impl FnOnce(&LastError) -> R) -> R {
    THREAD_LAST_ERROR.with(|last| f(&last.borrow()))
}

/// Run `f` on a context's last error.
pub(crate) fn with_context_last_error<R>(context: &Shared, f: impl FnOnce(&LastError) -> R) -> Option<R> {
    c_state(context).map(|state| f(&state.last_error.lock()))
}

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

/// The process behind a handle, with no thread check.
fn lookup_handle(process: *const netproc_process, function: &str) -> Result<ProcRef, netproc_status> {
    if process.is_null() {
        return Err(fail_argument(
            None,
            netproc_status::NETPROC_E_NULL,
            &format!("{function}: process is NULL"),
        ));
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

/// A mutex-protected value the boundary keeps per context.
pub(crate) type Guarded<T> = Mutex<T>;

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
