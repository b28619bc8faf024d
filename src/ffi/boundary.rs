//! Boundary helpers: the panic guard, pointer checks, handle casts and error recording.
//! Every `extern "C"` function body runs inside [`guard`], so no unwind reaches C.

use std::cell::RefCell;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::status::netproc_status::{self, *};
use super::value::{from_c, netproc_value};
use super::{netproc_context, netproc_process};
use crate::core::Value;
use crate::core::{Error, ProcRef, Process, Shared};

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
            symbol: c_string(error.symbol.as_bytes()),
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

thread_local! {
    /// Errors with no usable context (a NULL or stale handle) land here.
    static THREAD_LAST_ERROR: RefCell<LastError> = RefCell::new(LastError::default());
    /// The context the current call works on, so a panic can mark it failed.
    static CURRENT_CONTEXT: RefCell<Option<Weak<Shared>>> = const { RefCell::new(None) };
}

/// Run an `extern "C"` body, turning a panic into `on_panic` after recording it and
/// marking the context the body was using as failed.
pub(crate) fn guard<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    let previous = CURRENT_CONTEXT.with(|current| current.borrow_mut().take());
    let outcome = catch_unwind(AssertUnwindSafe(body));
    let used = CURRENT_CONTEXT.with(|current| std::mem::replace(&mut *current.borrow_mut(), previous));
    match outcome {
        Ok(value) => value,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            let error = Error::panic(&what);
            let context = used.and_then(|weak| weak.upgrade());
            if let Some(context) = &context {
                context.mark_failed();
            }
            record(context.as_deref(), &error, netproc_status::NETPROC_E_PANIC);
            on_panic
        }
    }
}

/// Note the context a call works on (for the panic guard).
pub(crate) fn enter(context: &Arc<Shared>) {
    CURRENT_CONTEXT.with(|current| *current.borrow_mut() = Some(Arc::downgrade(context)));
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
    record(context, error, netproc_status::from_symbol(error.symbol))
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
    enter(&context);
    Ok(context)
}

/// Borrow the process behind a handle, as a new strong reference.
///
/// # Safety
/// `process` must be NULL or a handle netproc gave out that is still referenced.
pub(crate) unsafe fn process_ref(
    process: *const netproc_process,
    function: &str,
) -> Result<ProcRef, netproc_status> {
    if process.is_null() {
        return Err(fail_argument(
            None,
            netproc_status::NETPROC_E_NULL,
            &format!("{function}: process is NULL"),
        ));
    }
    let raw = process.cast::<Process>();
    // SAFETY: the caller guarantees the handle is live; the check below only catches some
    // misuse after the fact.
    if !unsafe { &*raw }.handle_is_live() {
        return Err(fail_argument(
            None,
            netproc_status::NETPROC_E_BAD_HANDLE,
            &format!("{function}: not a live process handle"),
        ));
    }
    // SAFETY: as above; the increment is balanced by the Arc we return.
    let process = unsafe {
        Arc::increment_strong_count(raw);
        Arc::from_raw(raw)
    };
    if let Some(context) = process.context() {
        enter(&context);
    }
    Ok(process)
}

/// The handle C sees for a process; stable for the life of the process object.
pub(crate) fn process_handle(process: &ProcRef) -> *mut netproc_process {
    Arc::as_ptr(process).cast::<netproc_process>().cast_mut()
}

/// Give the host its own reference to a process.
pub(crate) fn process_into_handle(process: ProcRef) -> *mut netproc_process {
    Arc::into_raw(process).cast::<netproc_process>().cast_mut()
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
