//! The call: every `extern "C"` body runs inside [`guard`], so no unwind reaches C. A call
//! on a context is admitted by the context's owning thread ([`enter`]), and a failing call
//! records its error ([`fail`], [`fail_argument`]) for netproc_last_error(): on the context
//! it works on and on the calling thread.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::cstate::CState;
use super::last_error::LastError;
use super::status::{self, netproc_status};
use crate::core::{Error, ProcRef, Process, Shared};

/// The context a call works on: for the panic guard, and to end the call's turn as owner.
/// Kept in a thread-local as a raw strong reference (`Arc::into_raw`), so that the
/// thread-local needs no destructor: the lazily registered kind cost every call a check,
/// and the weak reference held before cost four atomic operations where this costs two.
/// Outside `guard` the slot is empty, so nothing is leaked when a thread exits.
#[derive(Clone, Copy)]
struct Entered {
    context: *const Shared,
    /// Whether the call was admitted by the context's [`super::owner::Owner`].
    counted: bool,
}

impl Entered {
    const NONE: Entered = Entered { context: std::ptr::null(), counted: false };

    /// The call is over: it no longer counts as the owner's. Hands back the reference.
    fn leave(self) -> Option<Arc<Shared>> {
        if self.context.is_null() {
            return None;
        }
        // SAFETY: a non-null `context` came from `Arc::into_raw` in `enter`, and each is
        // taken back exactly once: by the `guard` that took it out of the slot, or by the
        // `enter` that replaced it.
        let context = unsafe { Arc::from_raw(self.context) };
        if self.counted {
            if let Some(state) = CState::of(&context) {
                state.owner().leave();
            }
        }
        Some(context)
    }
}

thread_local! {
    /// Errors with no usable context (a NULL or stale handle, the wrong thread) land here.
    static THREAD_LAST_ERROR: RefCell<LastError> = RefCell::new(LastError::default());
    /// The context the current call works on.
    static CURRENT_CONTEXT: Cell<Entered> = const { Cell::new(Entered::NONE) };
    /// The handle and process of the filter call under way on this thread
    /// (see `with_callback_process`).
    static CALLBACK_PROCESS: Cell<CallbackTarget> = const { Cell::new(CallbackTarget::NONE) };
}

/// The filter call under way on this thread: its process's handle, the process and its
/// context (see `with_callback_process`).
#[derive(Clone, Copy)]
struct CallbackTarget {
    handle: usize,
    process: *const Process,
    context: *const Shared,
}

impl CallbackTarget {
    const NONE: CallbackTarget =
        CallbackTarget { handle: 0, process: std::ptr::null(), context: std::ptr::null() };
}

/// Make `call`, a C filter call of `process` (whose handle is `handle`) delivered by
/// `context`, with both on record for this thread: a call the filter makes on that same
/// process, as a filter that answers does, then finds them without the handle table's
/// lock and lookup or the process's weak reference to its context (W2's profile: a
/// twentieth of a round trip's instructions).
pub(crate) fn with_callback_process<R>(
    handle: usize,
    process: &ProcRef,
    context: &Arc<Shared>,
    call: impl FnOnce() -> R,
) -> R {
    let target = CallbackTarget { handle, process: Arc::as_ptr(process), context: Arc::as_ptr(context) };
    CALLBACK_PROCESS.with(|current| {
        let previous = current.replace(target);
        let result = call();
        current.set(previous);
        result
    })
}

/// The process of the filter call under way on this thread, and its context, if `handle`
/// is that process's handle.
pub(crate) fn callback_process(handle: usize) -> Option<(ProcRef, Arc<Shared>)> {
    let target = CALLBACK_PROCESS.with(Cell::get);
    if handle == 0 || handle != target.handle {
        return None;
    }
    // SAFETY: both pointers were recorded by `with_callback_process` from live `Arc`s that
    // its caller holds until that function returns and restores the slot; this runs during
    // that call, on the same thread (a handle is never given to another process, so the
    // equal handle names this very one). Each count is raised before the new reference is
    // made from the pointer, so they stay balanced.
    unsafe {
        Arc::increment_strong_count(target.process);
        Arc::increment_strong_count(target.context);
        Some((Arc::from_raw(target.process), Arc::from_raw(target.context)))
    }
}

/// Run an `extern "C"` body, turning a panic into `on_panic` after recording it and
/// marking the context the body was using as failed.
pub(crate) fn guard<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    // One thread-local lookup for the whole call: in a shared library each costs a call
    // to __tls_get_addr, and a call used three.
    CURRENT_CONTEXT.with(|current| {
        let previous = current.replace(Entered::NONE);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let value = body();
            // The reference may be the context's last (netproc_context_free): its drop
            // runs destructors, so it too runs under the guard.
            drop(current.replace(Entered::NONE).leave());
            value
        }));
        // Empty unless the body panicked.
        let used = current.replace(previous);
        let context = used.leave();
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
                // This may be the context's last reference, whose drop runs destructors: no
                // second panic may leave the call.
                let _ = catch_unwind(AssertUnwindSafe(|| drop(context)));
                on_panic
            }
        }
    })
}

/// Admit a call on `context` from its owning thread (for the rest of the `guard`ed body),
/// or refuse it with NETPROC_E_WRONG_THREAD. The refusal is recorded for the calling thread
/// only: the context's own record belongs to the owner, who may be reading it.
pub(crate) fn enter(context: &Arc<Shared>, function: &str) -> Result<(), netproc_status> {
    let counted = match CState::of(context) {
        Some(state) if !state.owner().enter() => return Err(wrong_thread(function)),
        Some(_) => true,
        None => false,
    };
    let entered = Entered { context: Arc::into_raw(Arc::clone(context)), counted };
    let replaced = CURRENT_CONTEXT.with(|current| current.replace(entered));
    drop(replaced.leave());
    Ok(())
}

/// Admit a call made from inside a filter call of `context`'s dispatch (found by
/// `callback_process`). Its thread is the owner's, which admitted the poll that runs the
/// dispatch and stays counted until it returns (so no other thread can take the context
/// over meanwhile: `Owner::take_over` refuses a counted owner). The call is recorded for
/// the panic guard without being counted again.
pub(crate) fn enter_within_callback(context: &Arc<Shared>) {
    let entered = Entered { context: Arc::into_raw(Arc::clone(context)), counted: false };
    let replaced = CURRENT_CONTEXT.with(|current| current.replace(entered));
    drop(replaced.leave());
}

/// Record NETPROC_E_WRONG_THREAD for `function` (on the calling thread only).
pub(crate) fn wrong_thread(function: &str) -> netproc_status {
    fail_argument(
        None,
        netproc_status::NETPROC_E_WRONG_THREAD,
        &format!("{function}: called from a thread that does not own the context"),
    )
}

/// Record an error for `netproc_last_error` and return its status code.
pub(crate) fn record(context: Option<&Shared>, error: &Error, status: netproc_status) -> netproc_status {
    THREAD_LAST_ERROR.with(|last| *last.borrow_mut() = LastError::new(error, status));
    if let Some(state) = context.and_then(CState::of) {
        state.set_last_error(LastError::new(error, status));
    }
    status
}

/// Record a core error, choosing the status from its symbol.
pub(crate) fn fail(context: Option<&Shared>, error: &Error) -> netproc_status {
    record(context, error, status::of_error(error))
}

/// NETPROC_OK, or the recorded failure of a core call.
pub(crate) fn status_of(context: &Shared, result: crate::core::Result<()>) -> netproc_status {
    match result {
        Ok(()) => netproc_status::NETPROC_OK,
        Err(error) => fail(Some(context), &error),
    }
}

/// The status of a send: NETPROC_HIGH_WATER when the queue is above the process's mark.
pub(crate) fn status_of_send(
    context: &Shared,
    result: crate::core::Result<crate::core::WaterLevel>,
) -> netproc_status {
    match result {
        Ok(crate::core::WaterLevel::Below) => netproc_status::NETPROC_OK,
        Ok(crate::core::WaterLevel::Above) => netproc_status::NETPROC_HIGH_WATER,
        Err(error) => fail(Some(context), &error),
    }
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
    CState::of(context).map(|state| state.with_last_error(f))
}
