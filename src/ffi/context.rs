//! The context: creation, freeing, pumping (netproc_poll, or the backend fd for hosts with
//! their own loop), cross-thread wakeup, defaults, the last error, and the process list
//! (netproc_process_list, netproc_get_process: the context's processes, by position or by
//! name).

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Arc;
use std::time::Duration;

use super::boundary::{context_ref, ok_or_return, out_ptr, process_handle};
use super::callbacks::{netproc_filter_fn, netproc_sentinel_fn};
use super::cstate::{BufferHooks, CState};
use super::guard::{self, fail, fail_argument, guard};
use super::host::with_host;
use super::last_error::LastError;
use super::owner::HandOver;
use super::status::netproc_status::{self, *};
use super::{netproc_context, netproc_process};
use crate::core::Shared;

/// Hooks for hosts that have buffers, so accepted connections get buffers the way Emacs
/// gives them (Emacs's server_accept_connection). Either hook may be NULL.
///
/// When and where: on the context's thread, with no netproc lock held — get_buffer_create
/// from netproc_make_network_process() (for a `:buffer` given by name) and from
/// netproc_poll() (before the log call of an accepted connection that gets a buffer),
/// buffer_name from netproc_poll() only. A hook may call netproc functions under the same
/// rules as a callback (not netproc_poll() or netproc_context_free()).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy)]
pub struct netproc_buffer_hooks {
    /// Passed first to both hooks.
    pub userdata: *mut c_void,
    /// `get-buffer-create`: return the buffer called `name` (`length` bytes, NUL bytes
    /// inside included, then a NUL), creating it if needed; NULL for none. `name` is
    /// borrowed for the call. Without this hook, a buffer given by name stays a STRING
    /// value.
    pub get_buffer_create: Option<
        unsafe extern "C" fn(userdata: *mut c_void, name: *const c_char, length: usize) -> *mut c_void,
    >,
    /// The name of a live buffer (store its byte count in *length; NUL bytes may be among
    /// them), or NULL if the buffer is dead. The bytes must stay valid until the hook
    /// returns to netproc.
    pub buffer_name: Option<
        unsafe extern "C" fn(userdata: *mut c_void, buffer: *mut c_void, length: *mut usize) -> *const c_char,
    >,
}

/// Rounds of deletion netproc_context_free makes (each round's "deleted\n" sentinels and
/// userdata destructors may make processes, which the next round deletes) before it refuses
/// new processes, so that a sentinel that always makes a new one cannot keep it going.
const FREE_ROUNDS: usize = 16;

/// Create a context: one event loop with its processes. The calling thread owns it: calls
/// on the context and its processes from other threads fail with NETPROC_E_WRONG_THREAD,
/// except those marked "Thread: any" (see netproc_context_set_owner_thread() to move it).
///
/// Ownership: caller owns *out; release it with netproc_context_free().
/// Lifetime:  until netproc_context_free().
/// Thread:    any; the calling thread owns the new context.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_new(out: *mut *mut netproc_context) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        if out.is_null() {
            return fail_argument(None, NETPROC_E_NULL, "netproc_context_new: out is NULL");
        }
        let context = match Shared::new() {
            Ok(context) => context,
            Err(err) => {
                return fail(None, &crate::core::Error::file("Cannot create event loop", &err, vec![]))
            }
        };
        CState::attach(&context);
        // A C host's functions are typed: a FILTER, a SENTINEL, a LOG (see Settings).
        context.update_settings(|settings| settings.typed_functions = true);
        // SAFETY: out is not NULL and the host promises it is writable.
        unsafe { out.write(Arc::into_raw(context).cast::<netproc_context>().cast_mut()) };
        NETPROC_OK
    })
}

/// Free a context. Every process still in the process list is deleted first, newest first,
/// and its sentinel runs with "deleted\n"; processes those sentinels (or userdata destructors)
/// make meanwhile are deleted the same way, in further rounds, so none is left open. After 16
/// rounds, making a process from inside the free is refused (NETPROC_E_CLOSED), so that a
/// sentinel that always makes another cannot keep the free going. Sockets still flushing
/// output are closed and their unsent bytes dropped (check netproc_process_output_pending()
/// first to avoid that).
/// Process handles the host still holds stay valid (status "closed") until freed; calls on
/// them that need the context (sends, EOF, stop/continue, and the filter, sentinel, buffer,
/// plist, coding, filter-multibyte and option setters) return NETPROC_E_CLOSED. Getters,
/// delete (a no-op), the query-on-exit flag and userdata setters act on the handle alone;
/// netproc_set_process_datagram_address reports false, as for any closed process.
/// NULL is accepted. Refused with NETPROC_E_REENTRANT inside a callback or a userdata
/// destructor.
///
/// Ownership: takes back the context.
/// Lifetime:  ctx is invalid afterwards.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_free(ctx: *mut netproc_context) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        if ctx.is_null() {
            return NETPROC_OK;
        }
        // SAFETY: the host passes a context it owns.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_free") });
        if context.in_callback() {
            return fail_argument(
                Some(&context),
                NETPROC_E_REENTRANT,
                "netproc_context_free: called from a callback",
            );
        }
        if let Some(state) = CState::of(&context) {
            state.begin_closing();
        }
        for round in 1..=FREE_ROUNDS + 1 {
            with_host(&context, |host| context.shutdown(host));
            if let Some(state) = CState::of(&context) {
                state.release_deferred();
                if round == FREE_ROUNDS {
                    state.refuse_new_processes();
                }
            }
            // With new processes refused, one more round leaves none: this ends the loop.
            if context.process_list().is_empty() {
                break;
            }
        }
        drop(context);
        // SAFETY: ctx came from Arc::into_raw in netproc_context_new; this releases the
        // host's reference exactly once.
        drop(unsafe { Arc::from_raw(ctx.cast::<Shared>()) });
        NETPROC_OK
    })
}

/// Wait up to `timeout_ms` milliseconds (negative: no limit; 0: do not wait) for network
/// activity, then run every filter, sentinel and log callback that is due, on this thread.
/// Returns how many callbacks ran (0 when the wait ended with nothing to report, which may
/// happen before the timeout), or a negative netproc_status. Refused with
/// NETPROC_E_REENTRANT inside a callback or a userdata destructor. References to processes
/// the host released on other threads are let go here, first and last (so their userdata
/// destructors run on this thread).
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_poll(ctx: *mut netproc_context, timeout_ms: c_int) -> c_int {
    guard(NETPROC_E_PANIC as c_int, || {
        // SAFETY: the host passes a live context or NULL.
        let context = match unsafe { context_ref(ctx, "netproc_poll") } {
            Ok(context) => context,
            Err(status) => return status as c_int,
        };
        if context.in_callback() {
            return fail_argument(Some(&context), NETPROC_E_REENTRANT, "netproc_poll: called from a callback")
                as c_int;
        }
        let state = CState::of(&context);
        if let Some(state) = state {
            state.release_deferred();
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let result = with_host(&context, |host| context.poll(timeout, host));
        // A release from another thread also wakes this poll: let it go now, not next time.
        if let Some(state) = state {
            state.release_deferred();
        }
        match result {
            Ok(ran) => c_int::try_from(ran).unwrap_or(c_int::MAX),
            Err(error) => fail(Some(&context), &error) as c_int,
        }
    })
}

/// The event loop's descriptor, for hosts that wait in their own select/poll/epoll: when it
/// is readable, or when netproc_next_timeout() expires, call netproc_poll(ctx, 0).
/// Returns the descriptor, or a negative netproc_status. Do not read, close or modify it.
///
/// Ownership: netproc owns the descriptor.
/// Lifetime:  until netproc_context_free().
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_backend_fd(ctx: *mut netproc_context) -> c_int {
    guard(NETPROC_E_PANIC as c_int, || {
        // SAFETY: the host passes a live context or NULL.
        match unsafe { context_ref(ctx, "netproc_backend_fd") } {
            Ok(context) => context.backend_fd(),
            Err(status) => status as c_int,
        }
    })
}

/// How long a host with its own loop may wait before calling netproc_poll(ctx, 0), in
/// milliseconds: 0 when callbacks are already due, -1 when only activity on the backend fd
/// can make work.
///
/// Ownership: *timeout_ms is the caller's.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_next_timeout(
    ctx: *mut netproc_context,
    timeout_ms: *mut c_int,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_next_timeout") });
        if timeout_ms.is_null() {
            return fail_argument(Some(&context), NETPROC_E_NULL, "netproc_next_timeout: timeout_ms is NULL");
        }
        let timeout = match context.next_timeout() {
            None => -1,
            // Round up so a host never wakes just before the deadline and spins.
            Some(wait) => c_int::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(c_int::MAX),
        };
        // SAFETY: checked not NULL; the host promises it is writable.
        unsafe { timeout_ms.write(timeout) };
        NETPROC_OK
    })
}

/// Make a netproc_poll() that is waiting (now or next) return soon. Wakeups coalesce. This
/// is the one context call meant for other threads; it never waits for the owner.
///
/// Ownership: n/a.
/// Lifetime:  ctx must not be freed concurrently with this call.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_wakeup(ctx: *mut netproc_context) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        if ctx.is_null() {
            return fail_argument(None, NETPROC_E_NULL, "netproc_wakeup: ctx is NULL");
        }
        // SAFETY: the host keeps the context alive during the call; only the waker is
        // touched, which is safe from any thread.
        let context = unsafe { &*ctx.cast::<Shared>() };
        match context.wakeup() {
            Ok(()) => NETPROC_OK,
            Err(err) => fail(None, &crate::core::Error::file("Cannot wake event loop", &err, vec![])),
        }
    })
}

/// Make the calling thread the context's owner: from now on the context and its processes
/// are used from this thread, and calls from the previous owner fail with
/// NETPROC_E_WRONG_THREAD. Refused with NETPROC_E_WRONG_THREAD while the owner is inside a
/// netproc call on the context (a netproc_poll(), a callback, a destructor): hand the
/// context over between calls, e.g. after the old owner's thread has finished with it. The
/// owner calling it changes nothing. Processes' userdata and callbacks move with the
/// context: they run on the new owner's thread from then on.
///
/// Ownership: n/a.
/// Lifetime:  ctx must not be freed concurrently with this call.
/// Thread:    any (this is how a context moves to another thread).
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_owner_thread(ctx: *mut netproc_context) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_context_set_owner_thread";
        if ctx.is_null() {
            return fail_argument(None, NETPROC_E_NULL, &format!("{FUNCTION}: ctx is NULL"));
        }
        // SAFETY: the host keeps the context alive during the call; only the owner record,
        // made of atomics, is touched.
        let context = unsafe { &*ctx.cast::<Shared>() };
        let Some(state) = CState::of(context) else { return NETPROC_OK };
        match state.owner().take_over() {
            Ok(()) => NETPROC_OK,
            Err(HandOver::OwnerBusy) => fail_argument(
                None,
                NETPROC_E_WRONG_THREAD,
                &format!("{FUNCTION}: the owning thread is inside a netproc call"),
            ),
            Err(HandOver::Contended) => fail_argument(
                None,
                NETPROC_E_WRONG_THREAD,
                &format!("{FUNCTION}: another thread is taking the context over"),
            ),
        }
    })
}

/// The last error on this context (or, with ctx NULL, the last error of this thread,
/// e.g. from a call that was given a NULL handle): the Emacs error symbol ("error",
/// "file-error", "wrong-type-argument", …), the message Emacs would show, and the errno
/// (0 if none). Any out-pointer may be NULL. Returns the failed call's status, or
/// NETPROC_OK if there was no error. The message is a C string: NUL bytes a name or a :host
/// brought into it are left out. Calls refused for being on the wrong thread
/// (NETPROC_E_WRONG_THREAD) are recorded only as that thread's last error, as are calls
/// refused before a context was known (a NULL or stale handle).
///
/// Ownership: the strings belong to netproc; do not free them.
/// Lifetime:  until the next failing call on the same context (or thread, for NULL).
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD (any thread
///            with ctx NULL).
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_last_error(
    ctx: *mut netproc_context,
    symbol: *mut *const c_char,
    message: *mut *const c_char,
    errno_out: *mut c_int,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        let write = |last: &LastError| {
            // SAFETY: each out-pointer is checked for NULL; the host promises it is writable.
            // The strings live in the context (or thread) until the next failure.
            unsafe {
                if !symbol.is_null() {
                    symbol.write(last.symbol());
                }
                if !message.is_null() {
                    message.write(last.message());
                }
                if !errno_out.is_null() {
                    errno_out.write(last.errno());
                }
            }
            last.status()
        };
        if ctx.is_null() {
            guard::with_thread_last_error(write)
        } else {
            // SAFETY: the host passes a live context.
            let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_last_error") });
            guard::with_context_last_error(&context, write).unwrap_or(NETPROC_OK)
        }
    })
}

/// Set the context's default filter: the one processes use when their filter is nil (the
/// host's equivalent of Emacs's internal-default-process-filter, which inserts into the
/// process buffer). NULL removes it, so such output is dropped, as with no buffer.
///
/// Ownership: netproc never frees `userdata`.
/// Lifetime:  `userdata` must stay valid while the default filter may run.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_default_filter(
    ctx: *mut netproc_context,
    filter: netproc_filter_fn,
    userdata: *mut c_void,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_default_filter") });
        if let Some(state) = CState::of(&context) {
            state.set_default_filter(filter, userdata);
        }
        NETPROC_OK
    })
}

/// Set the context's default sentinel, used by processes whose sentinel is nil (Emacs's
/// internal-default-process-sentinel). NULL removes it.
///
/// Ownership: netproc never frees `userdata`.
/// Lifetime:  `userdata` must stay valid while the default sentinel may run.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_default_sentinel(
    ctx: *mut netproc_context,
    sentinel: netproc_sentinel_fn,
    userdata: *mut c_void,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_default_sentinel") });
        if let Some(state) = CState::of(&context) {
            state.set_default_sentinel(sentinel, userdata);
        }
        NETPROC_OK
    })
}

/// Install buffer hooks (copied), or remove them with NULL.
///
/// Ownership: *hooks is copied; netproc never frees hooks->userdata.
/// Lifetime:  hooks->userdata must stay valid while the hooks may run.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_buffer_hooks(
    ctx: *mut netproc_context,
    hooks: *const netproc_buffer_hooks,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_buffer_hooks") });
        let copied = if hooks.is_null() {
            None
        } else {
            // SAFETY: not NULL; the host promises a readable struct.
            let hooks = unsafe { *hooks };
            Some(BufferHooks::new(hooks.userdata, hooks.get_buffer_create, hooks.buffer_name))
        };
        if let Some(state) = CState::of(&context) {
            state.set_buffer_hooks(copied);
        }
        NETPROC_OK
    })
}

/// The most bytes one read hands a filter (Emacs's read-process-output-max). The default
/// is 65536; 0 is taken as 1.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_read_max(
    ctx: *mut netproc_context,
    bytes: usize,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_read_max") });
        context.update_settings(|settings| settings.read_max = bytes.clamp(1, 16 << 20));
        NETPROC_OK
    })
}

/// The most bytes one process may have queued for sending (accepted by sends, not yet
/// taken by the socket). A send that would pass it fails whole with NETPROC_E_ERROR,
/// `(error "Output queue of process NAME is full: …")`, and queues nothing; the process
/// and the host go on. The default is 64 MiB. Applies to later sends of every process of
/// the context.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_send_queue_max(
    ctx: *mut netproc_context,
    bytes: usize,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_send_queue_max") });
        context.update_settings(|settings| settings.send_queue_max = bytes);
        NETPROC_OK
    })
}

/// How long a process that was deleted, or closed by its peer, keeps its socket to write
/// the output still queued for it. When the time is up the socket closes and the bytes
/// not written count in netproc_process_output_lost(). The default is 30,000 ms; 0 closes
/// at once. Applies to closes that start after the call.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_drain_timeout(
    ctx: *mut netproc_context,
    timeout_ms: u32,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_drain_timeout") });
        let timeout = std::time::Duration::from_millis(u64::from(timeout_ms));
        context.update_settings(|settings| settings.drain_timeout = timeout);
        NETPROC_OK
    })
}

/// How long a TLS handshake may take: a `:nowait` client's, a connection a TLS server
/// accepted, a STARTTLS upgrade (netproc_gnutls_negotiate()) fail when it is up, with
/// status "failed" and the sentinel "failed with code TLS handshake timed out after N
/// seconds\n"; a blocking netproc_make_network_process() with `:tls-parameters` fails with
/// that message. The default is 30,000 ms; 0 is refused with NETPROC_E_INVALID (a handshake
/// needs a round trip). Applies to handshakes that start after the call.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_tls_handshake_timeout(
    ctx: *mut netproc_context,
    timeout_ms: u32,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_context_set_tls_handshake_timeout";
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, FUNCTION) });
        if timeout_ms == 0 {
            return fail_argument(
                Some(&context),
                NETPROC_E_INVALID,
                &format!("{FUNCTION}: a timeout of 0 ms leaves no time for a handshake"),
            );
        }
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        context.update_settings(|settings| settings.tls_handshake_timeout = timeout);
        NETPROC_OK
    })
}

/// Happy Eyeballs (RFC 8305): how long a stream client's connect attempt may go unanswered
/// before the next address of its name starts alongside it (the first to connect wins,
/// the others are closed), for processes made after the call that do not give
/// `:attempt-delay`. The default is 250 ms, RFC 8305's; less than 10 ms counts as 10 ms,
/// the least RFC 8305 §5 allows.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_connect_attempt_delay(
    ctx: *mut netproc_context,
    delay_ms: u32,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_connect_attempt_delay") });
        let delay = Duration::from_millis(u64::from(delay_ms));
        context.update_settings(|settings| settings.connect_attempt_delay = delay);
        NETPROC_OK
    })
}

/// Strict keywords: with `strict` true, netproc_make_network_process() refuses a keyword it
/// does not read (a misspelt `:filtre`) with NETPROC_E_ERROR, "Unknown keyword :filtre",
/// and makes no process; the keywords are those the README lists, Emacs's and netproc's
/// own. Off by default: as in Emacs, an unknown keyword is kept in the contact plist.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_strict_keywords(
    ctx: *mut netproc_context,
    strict: bool,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, "netproc_context_set_strict_keywords") });
        context.update_settings(|settings| settings.strict_keywords = strict);
        NETPROC_OK
    })
}

/// `process-list`: writes up to `capacity` handles, newest first, into `out` (which may be
/// NULL when capacity is 0) and the total number of processes into *count. A capacity
/// beyond PTRDIFF_MAX bytes of handles is NETPROC_E_INVALID.
///
/// Ownership: the handles are borrowed: take netproc_process_ref() to keep one.
/// Lifetime:  a borrowed handle stays valid while its process is in the process list,
///            i.e. until the next netproc_poll() or delete on this context.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_list(
    ctx: *mut netproc_context,
    out: *mut *mut netproc_process,
    capacity: usize,
    count: *mut usize,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_list";
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, FUNCTION) });
        ok_or_return!(out_ptr(Some(&context), count, FUNCTION));
        if capacity > isize::MAX as usize / std::mem::size_of::<*mut netproc_process>() {
            return fail_argument(
                Some(&context),
                NETPROC_E_INVALID,
                &format!("{FUNCTION}: capacity {capacity} is out of range"),
            );
        }
        if out.is_null() && capacity > 0 {
            return fail_argument(Some(&context), NETPROC_E_NULL, &format!("{FUNCTION}: out is NULL"));
        }
        let processes = context.process_list();
        for (index, process) in processes.iter().take(capacity).enumerate() {
            // SAFETY: index < capacity, and the host promises `capacity` writable slots.
            unsafe { out.add(index).write(process_handle(process)) };
        }
        // SAFETY: checked not NULL.
        unsafe { count.write(processes.len()) };
        NETPROC_OK
    })
}

/// `get-process`: the listed process called `name` (NUL-terminated), or *out = NULL.
///
/// Ownership: *out is borrowed, as for netproc_process_list().
/// Lifetime:  as for netproc_process_list().
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_get_process(
    ctx: *mut netproc_context,
    name: *const c_char,
    out: *mut *mut netproc_process,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_get_process";
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, FUNCTION) });
        ok_or_return!(out_ptr(Some(&context), out, FUNCTION));
        if name.is_null() {
            return fail_argument(Some(&context), NETPROC_E_NULL, &format!("{FUNCTION}: name is NULL"));
        }
        // SAFETY: not NULL; the host promises a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        let found = context.get_process(name);
        // SAFETY: checked not NULL.
        unsafe { out.write(found.as_ref().map_or(std::ptr::null_mut(), process_handle)) };
        NETPROC_OK
    })
}

/// Testing aid for the panic boundary: panics inside netproc, which must come back as
/// NETPROC_E_PANIC with the context marked unusable (later calls fail the same way).
///
/// Exported but not part of the API: cbindgen leaves it out of include/netproc.h, and the C
/// tests declare it in c-tests/netproc_testing.h, so they test the library that is shipped.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_debug_panic(ctx: *mut netproc_context) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        // SAFETY: the host passes a live context or NULL.
        let _context = ok_or_return!(unsafe { context_ref(ctx, "netproc_debug_panic") });
        panic!("netproc_debug_panic was called");
    })
}
