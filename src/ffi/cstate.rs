//! What the C boundary keeps per context ([`CState`], attached to the core context): the
//! last error, the default filter and sentinel, the buffer hooks, the owning thread, and the
//! process references released on other threads. Its fields are private: the rules of when
//! a reference may be let go, and of the closing flags, are kept here.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::callbacks::{FilterFn, SentinelFn};
use super::last_error::LastError;
use super::owner::Owner;
use super::sentinel_event::netproc_event;
use crate::core::{ProcRef, Shared};

/// A `get_buffer_create` hook of netproc_buffer_hooks (never NULL).
pub(crate) type GetBufferCreateFn = unsafe extern "C" fn(*mut c_void, *const c_char, usize) -> *mut c_void;
/// A `buffer_name` hook of netproc_buffer_hooks (never NULL).
pub(crate) type BufferNameFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut usize) -> *const c_char;

/// The buffer hooks as netproc keeps them (pointers as integers so the state is Send).
#[derive(Clone, Copy)]
pub(crate) struct BufferHooks {
    userdata: usize,
    get_buffer_create: Option<GetBufferCreateFn>,
    buffer_name: Option<BufferNameFn>,
}

impl BufferHooks {
    /// The hooks a host installed; either may be absent.
    pub(crate) fn new(
        userdata: *mut c_void,
        get_buffer_create: Option<GetBufferCreateFn>,
        buffer_name: Option<BufferNameFn>,
    ) -> BufferHooks {
        BufferHooks { userdata: userdata as usize, get_buffer_create, buffer_name }
    }

    /// The `get_buffer_create` hook and its userdata, if the host gave one.
    pub(crate) fn get_buffer_create(&self) -> Option<(GetBufferCreateFn, *mut c_void)> {
        self.get_buffer_create.map(|f| (f, self.userdata as *mut c_void))
    }

    /// The `buffer_name` hook and its userdata, if the host gave one.
    pub(crate) fn buffer_name(&self) -> Option<(BufferNameFn, *mut c_void)> {
        self.buffer_name.map(|f| (f, self.userdata as *mut c_void))
    }
}

/// What the C boundary keeps per context.
#[derive(Default)]
pub(crate) struct CState {
    last_error: Mutex<LastError>,
    default_filter: Mutex<Option<(FilterFn, usize)>>,
    default_sentinel: Mutex<Option<(SentinelFn, usize)>>,
    buffer_hooks: Mutex<Option<BufferHooks>>,
    /// The thread that owns the context (the creator, unless handed over).
    owner: Owner,
    /// Process references the host released on other threads, for the owner to let go
    /// of: the last one may run a userdata destructor, which belongs on the owner's thread.
    deferred: Mutex<Vec<ProcRef>>,
    /// Set after a push to `deferred`, cleared by the owner before it takes them.
    has_deferred: AtomicBool,
    /// Set when netproc_context_free begins: references released elsewhere from then on
    /// are let go where they are released.
    closing: AtomicBool,
    /// Set when netproc_context_free has deleted processes for FREE_ROUNDS rounds and its
    /// sentinels still make more: from then on, making a process is refused.
    refuse_new: AtomicBool,
    /// The sentinel calls under way, innermost last, with what each is told
    /// (netproc_sentinel_event): a sentinel may delete another process, whose sentinel
    /// then runs inside it. Each call is known by its process's address.
    sentinel_calls: Mutex<Vec<(usize, netproc_event)>>,
}

impl CState {
    /// Give a new core context its C state; the calling thread owns it.
    pub(crate) fn attach(context: &Shared) {
        context.set_extension(Box::new(CState::default()));
    }

    /// The C state of a context (None for a context the C boundary did not make).
    pub(crate) fn of(context: &Shared) -> Option<&CState> {
        context.extension::<CState>()
    }

    /// The context's owning thread.
    pub(crate) fn owner(&self) -> &Owner {
        &self.owner
    }

    /// Keep `error` as the context's last error.
    pub(crate) fn set_last_error(&self, error: LastError) {
        *self.last_error.lock() = error;
    }

    /// Run `f` on the context's last error.
    pub(crate) fn with_last_error<R>(&self, f: impl FnOnce(&LastError) -> R) -> R {
        f(&self.last_error.lock())
    }

    /// The filter of processes whose filter is nil, with its userdata.
    pub(crate) fn default_filter(&self) -> Option<(FilterFn, usize)> {
        *self.default_filter.lock()
    }

    /// Set or (None) remove the default filter.
    pub(crate) fn set_default_filter(&self, filter: Option<FilterFn>, userdata: *mut c_void) {
        *self.default_filter.lock() = filter.map(|f| (f, userdata as usize));
    }

    /// Run `call`, a sentinel call of `process` told `event`, with the event on record for
    /// netproc_sentinel_event.
    pub(crate) fn with_sentinel_event<R>(
        &self,
        process: &ProcRef,
        event: netproc_event,
        call: impl FnOnce() -> R,
    ) -> R {
        // The process's address only, compared and never followed: the process lives
        // through the call (its caller holds it), so no other can take the address then.
        self.sentinel_calls.lock().push((Arc::as_ptr(process) as usize, event));
        let result = call();
        // The lock is not held during the call: the sentinel may read the record.
        self.sentinel_calls.lock().pop();
        result
    }

    /// The event of the innermost sentinel call of `process` under way, if any.
    pub(crate) fn sentinel_event_of(&self, process: &ProcRef) -> Option<netproc_event> {
        let calls = self.sentinel_calls.lock();
        calls
            .iter()
            .rev()
            .find(|(called, _)| *called == Arc::as_ptr(process) as usize)
            .map(|(_, event)| *event)
    }

    /// The sentinel of processes whose sentinel is nil, with its userdata.
    pub(crate) fn default_sentinel(&self) -> Option<(SentinelFn, usize)> {
        *self.default_sentinel.lock()
    }

    /// Set or (None) remove the default sentinel.
    pub(crate) fn set_default_sentinel(&self, sentinel: Option<SentinelFn>, userdata: *mut c_void) {
        *self.default_sentinel.lock() = sentinel.map(|f| (f, userdata as usize));
    }

    /// The buffer hooks, if the host installed them.
    pub(crate) fn buffer_hooks(&self) -> Option<BufferHooks> {
        *self.buffer_hooks.lock()
    }

    /// Install or (None) remove the buffer hooks.
    pub(crate) fn set_buffer_hooks(&self, hooks: Option<BufferHooks>) {
        *self.buffer_hooks.lock() = hooks;
    }

    /// Let go of the references released on other threads (outside every lock of ours).
    pub(crate) fn release_deferred(&self) {
        // Twice per poll: spare the lock, and the atomic exchange, when nothing was
        // deferred (the common case). A release that lands just after the load is taken
        // by the next poll, which its wakeup brings.
        if !self.has_deferred.load(Ordering::Acquire) || !self.has_deferred.swap(false, Ordering::SeqCst) {
            return;
        }
        let released = std::mem::take(&mut *self.deferred.lock());
        drop(released);
    }

    /// netproc_context_free has begun: references are let go where they are released.
    pub(crate) fn begin_closing(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    /// From now on, making a process on this context is refused.
    pub(crate) fn refuse_new_processes(&self) {
        self.refuse_new.store(true, Ordering::SeqCst);
    }

    /// Whether making a process on this context is refused.
    pub(crate) fn refuses_new_processes(&self) -> bool {
        self.refuse_new.load(Ordering::SeqCst)
    }
}

/// Drop the host's last reference to `process` where its destructor may run: here on the
/// owning thread (or once the context is freed or being freed), else on the owner's next
/// turn.
pub(crate) fn release_on_owner_thread(process: ProcRef) {
    let Some(context) = process.context() else { return drop(process) };
    let Some(state) = CState::of(&context) else { return drop(process) };
    if state.closing.load(Ordering::SeqCst) {
        return drop(process);
    }
    if state.owner.enter() {
        drop(process);
        state.owner.leave();
        return;
    }
    state.deferred.lock().push(process);
    // After the push: an owner that finds the flag set finds the reference.
    state.has_deferred.store(true, Ordering::SeqCst);
    // The owner may be waiting in netproc_poll; the release is its to make.
    let _ = context.wakeup();
}
