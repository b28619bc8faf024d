//! Process functions: `make-network-process` and every primitive that applies to a network
//! process. Handles are reference counted: see netproc_process_ref/_free.

use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use super::boundary::{
    bad_handle, byte_slice, c_state, context_of, context_ref, fail, fail_argument, guard, input,
    ok_or_return, out_ptr, process_into_handle, process_ref,
};
use super::callbacks::{is_function, valid_filter, valid_log, valid_sentinel};
use super::context::with_host;
use super::handles::{self, Refused};
use super::status::netproc_status::{self, *};
use super::value::{netproc_arg, netproc_value, write_out};
use super::{netproc_context, netproc_process};
use crate::core::{ContactQuery, Error, ExitStatus, ProcRef, Shared, Value};

fn status_of(context: &Shared, result: crate::core::Result<()>) -> netproc_status {
    match result {
        Ok(()) => NETPROC_OK,
        Err(error) => fail(Some(context), &error),
    }
}

/// More keyword pairs than any call needs; a larger nargs is a corrupt count, refused before
/// `args` is read.
const MAX_ARGS: usize = 1 << 20;

/// `make-network-process`: create a network client or server from keyword arguments
/// (":name", ":host", ":service", ":server", ":filter", …; see the README's table). Keys are
/// NUL-terminated keyword names; when a key appears twice the first wins. With nargs 0,
/// nothing is created and *out is set to NULL, as Emacs returns nil. nargs above 1048576
/// (2^20), and a string length or sequence count in a value beyond PTRDIFF_MAX, are
/// NETPROC_E_INVALID.
///
/// Ownership: caller owns *out (one reference); release it with netproc_process_free().
///            args and everything they point to are only read during the call.
/// Lifetime:  the handle stays valid, even after the process is deleted or closed, until
///            freed.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_make_network_process(
    ctx: *mut netproc_context,
    args: *const netproc_arg,
    nargs: usize,
    out: *mut *mut netproc_process,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_make_network_process";
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, FUNCTION) });
        ok_or_return!(out_ptr(Some(&context), out, FUNCTION));
        if nargs > MAX_ARGS {
            return fail_argument(
                Some(&context),
                NETPROC_E_INVALID,
                &format!("{FUNCTION}: nargs {nargs} is more than {MAX_ARGS}"),
            );
        }
        if c_state(&context).is_some_and(|state| state.refuse_new.load(Ordering::SeqCst)) {
            return fail_argument(
                Some(&context),
                NETPROC_E_CLOSED,
                &format!("{FUNCTION}: the context is being freed"),
            );
        }
        if args.is_null() && nargs > 0 {
            return fail_argument(Some(&context), NETPROC_E_NULL, &format!("{FUNCTION}: args is NULL"));
        }
        let args: &[netproc_arg] = if nargs == 0 {
            &[]
        } else {
            // SAFETY: not NULL; the host promises nargs readable entries.
            unsafe { std::slice::from_raw_parts(args, nargs) }
        };
        let mut pairs = Vec::with_capacity(args.len());
        for (index, arg) in args.iter().enumerate() {
            if arg.key.is_null() {
                return fail_argument(
                    Some(&context),
                    NETPROC_E_NULL,
                    &format!("{FUNCTION}: args[{index}].key is NULL"),
                );
            }
            // SAFETY: not NULL; the host promises a NUL-terminated string.
            let key = unsafe { CStr::from_ptr(arg.key) }.to_string_lossy().into_owned();
            let value = ok_or_return!(unsafe { input(Some(&context), &arg.value, FUNCTION, &key) });
            let valid = match key.as_str() {
                ":filter" => valid_filter(&value),
                ":sentinel" => valid_sentinel(&value),
                ":log" => valid_log(&value),
                _ => true,
            };
            if !valid {
                return fail(Some(&context), &Error::wrong_type("functionp", &value));
            }
            // A function is a host object too, but never a buffer (Emacs: stringp).
            if key == ":buffer" && is_function(&value) {
                return fail(Some(&context), &Error::wrong_type("stringp", &value));
            }
            pairs.push((Value::Symbol(key), value));
        }
        match with_host(&context, |host| context.make_network_process(pairs, host)) {
            Ok(None) => {
                // SAFETY: checked not NULL above.
                unsafe { out.write(std::ptr::null_mut()) };
                NETPROC_OK
            }
            Ok(Some(process)) => match process_into_handle(process.clone()) {
                Some(handle) => {
                    // SAFETY: checked not NULL above.
                    unsafe { out.write(handle) };
                    NETPROC_OK
                }
                None => {
                    // No handle to give (the table is full): the process must not run on
                    // unseen, so it is deleted again.
                    let _ = with_host(&context, |host| context.delete_process(&process, host));
                    fail(Some(&context), &Error::msg("Too many process handles"))
                }
            },
            Err(error) => fail(Some(&context), &error),
        }
    })
}

/// Take another reference to a process, e.g. to keep a handle a callback was given.
/// Returns `process` itself (handles are stable: the same process always has the same
/// handle), or NULL for NULL and for a handle whose process is gone (NETPROC_E_BAD_HANDLE,
/// recorded for netproc_last_error(NULL, …)).
///
/// Ownership: caller owns the new reference; release it with netproc_process_free().
/// Lifetime:  until that release.
/// Thread:    any: it only counts a reference in netproc's handle table.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_ref(process: *mut netproc_process) -> *mut netproc_process {
    guard(std::ptr::null_mut(), || {
        const FUNCTION: &str = "netproc_process_ref";
        if process.is_null() {
            fail_argument(None, NETPROC_E_NULL, &format!("{FUNCTION}: process is NULL"));
            return std::ptr::null_mut();
        }
        match handles::add_reference(process as usize) {
            Ok(()) => process,
            Err(_) => {
                bad_handle(FUNCTION);
                std::ptr::null_mut()
            }
        }
    })
}

/// Release one reference. This is not delete-process: a process that is still open keeps
/// running (the context holds its own reference while it is in the process list). NULL is
/// accepted. The per-process userdata destructor runs when the last reference goes. A
/// handle whose process is gone, or one the host holds no reference to (freed more often
/// than referenced, or borrowed from a callback or netproc_process_list()), is refused
/// without effect: NETPROC_E_BAD_HANDLE, recorded for netproc_last_error(NULL, …).
///
/// Ownership: takes back one reference.
/// Lifetime:  the handle must not be used afterwards unless another reference is held.
/// Thread:    any. Released on a thread that does not own the context, the reference is
///            let go by the owner (at its next netproc_poll() or netproc_context_free()), so
///            a userdata destructor still runs on the owning thread.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_free(process: *mut netproc_process) {
    guard((), || {
        const FUNCTION: &str = "netproc_process_free";
        if process.is_null() {
            return;
        }
        match handles::release_reference(process as usize) {
            Ok(Some(last)) => release_on_owner_thread(last),
            Ok(None) => {}
            Err(Refused::NotHeld) => {
                fail_argument(
                    None,
                    NETPROC_E_BAD_HANDLE,
                    &format!("{FUNCTION}: the host holds no reference to this process"),
                );
            }
            Err(_) => {
                bad_handle(FUNCTION);
            }
        }
    })
}

/// Drop the host's last reference where its destructor may run: here on the owning thread
/// (or once the context is freed or being freed), else on the owner's next turn.
fn release_on_owner_thread(process: ProcRef) {
    let Some(context) = process.context() else { return drop(process) };
    let Some(state) = c_state(&context) else { return drop(process) };
    if state.closing.load(Ordering::SeqCst) {
        return drop(process);
    }
    if state.owner.enter() {
        drop(process);
        state.owner.leave();
        return;
    }
    state.deferred.lock().push(process);
    // The owner may be waiting in netproc_poll; the release is its to make.
    let _ = context.wakeup();
}

/// `delete-process`: close the connection (output still queued is written in the
/// background first, unless :linger 0), take the process out of the process list, and run
/// its sentinel with "deleted\n" before returning. Deleting again does nothing. Safe from
/// inside any callback, including the process's own.
///
/// Ownership: the handle stays the caller's.
/// Lifetime:  the handle stays valid until freed.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_delete_process(process: *mut netproc_process) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_delete_process";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let Some(context) = process.context() else { return NETPROC_OK };
        let result = with_host(&context, |host| context.delete_process(&process, host));
        status_of(&context, result)
    })
}

/// `process-status`: "open", "listen", "connect", "stop", "failed" or "closed"; NULL for a
/// NULL or stale handle.
///
/// Ownership: static storage.
/// Lifetime:  the whole program.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_status(process: *mut netproc_process) -> *const c_char {
    guard(std::ptr::null(), || {
        let Ok(process) = process_ref(process, "netproc_process_status") else {
            return std::ptr::null();
        };
        process.status().name_with_nul().as_ptr().cast()
    })
}

/// `process-live-p`: true when the status is open, listen, connect or stop.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_live_p(process: *mut netproc_process) -> bool {
    guard(false, || {
        let Ok(process) = process_ref(process, "netproc_process_live_p") else { return false };
        process.status().is_live()
    })
}

/// `process-exit-status`: an INTEGER (0 while running or after delete, 256 after the peer
/// closed, the errno after a failed :nowait connect), or a STRING after a failed name lookup
/// ("Name lookup of HOST failed").
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_exit_status(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_exit_status";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        ok_or_return!(out_ptr(process.context().as_deref(), out, FUNCTION));
        let value = match process.exit_status() {
            ExitStatus::Code(code) => Value::Int(code as i64),
            ExitStatus::Message(message) => Value::string(message),
        };
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &value) }
    })
}

/// `process-name`: the unique name. If `length` is not NULL it receives the byte count
/// (names may contain NUL bytes; the string is NUL-terminated in any case).
///
/// Ownership: the string belongs to the process.
/// Lifetime:  as long as the caller holds a reference to the process.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_name(
    process: *mut netproc_process,
    length: *mut usize,
) -> *const c_char {
    guard(std::ptr::null(), || {
        let Ok(owned) = process_ref(process, "netproc_process_name") else {
            return std::ptr::null();
        };
        if !length.is_null() {
            // SAFETY: checked not NULL.
            unsafe { length.write(owned.name().len()) };
        }
        // The bytes live in the process object, which the caller's reference keeps alive.
        owned.name_with_nul().as_ptr().cast()
    })
}

/// Write what `getter` reads from a process into a host's out-parameter.
// Written out as plain functions, not generated by a macro: cbindgen does not expand
// macros, so generated functions would be exported but missing from the header.
unsafe fn get_value(
    process: *mut netproc_process,
    out: *mut netproc_value,
    function: &str,
    getter: fn(&ProcRef) -> Value,
) -> netproc_status {
    let process = ok_or_return!(process_ref(process, function));
    ok_or_return!(out_ptr(process.context().as_deref(), out, function));
    // SAFETY: checked not NULL.
    unsafe { write_out(out, &getter(&process)) }
}

/// `process-buffer`: NIL, a POINTER (a host buffer), or a STRING (a buffer known only by
/// name, in a host without buffer hooks).
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_buffer(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe { get_value(process, out, "netproc_process_buffer", |p| p.buffer()) })
}

/// `process-filter`: a FILTER, T, or the SYMBOL internal-default-process-filter.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_filter(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe { get_value(process, out, "netproc_process_filter", |p| p.filter()) })
}

/// `process-sentinel`: a SENTINEL, or the SYMBOL internal-default-process-sentinel.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_sentinel(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe {
        get_value(process, out, "netproc_process_sentinel", |p| p.sentinel())
    })
}

/// `process-plist`.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_plist(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe { get_value(process, out, "netproc_process_plist", |p| p.plist()) })
}

/// Apply a setter that takes one value.
unsafe fn set_value(
    process: *mut netproc_process,
    value: *const netproc_value,
    function: &str,
    check: fn(&Value) -> Option<Error>,
    apply: fn(&Shared, &ProcRef, Value) -> crate::core::Result<()>,
) -> netproc_status {
    let process = ok_or_return!(process_ref(process, function));
    let context = ok_or_return!(context_of(&process, function));
    let value = ok_or_return!(unsafe { input(Some(&context), value, function, "value") });
    if let Some(error) = check(&value) {
        return fail(Some(&context), &error);
    }
    status_of(&context, apply(&context, &process, value))
}

/// `set-process-buffer`: NIL, a POINTER, or a STRING.
///
/// Ownership: *buffer is copied.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_buffer(
    process: *mut netproc_process,
    buffer: *const netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe {
        set_value(
            process,
            buffer,
            "netproc_set_process_buffer",
            |v| {
                (!matches!(v, Value::Nil | Value::Host(_) | Value::Str(_)) || is_function(v))
                    .then(|| Error::wrong_type("bufferp", v))
            },
            |c, p, v| c.set_buffer(p, v),
        )
    })
}

/// `set-process-filter`: NIL (the context's default filter), T (stop reading), or a FILTER.
/// Input read while the filter was T is then delivered.
///
/// Ownership: *filter is copied.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_filter(
    process: *mut netproc_process,
    filter: *const netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe {
        set_value(
            process,
            filter,
            "netproc_set_process_filter",
            |v| (!valid_filter(v)).then(|| Error::wrong_type("functionp", v)),
            |c, p, v| c.set_filter(p, v),
        )
    })
}

/// `set-process-sentinel`: NIL (the context's default sentinel) or a SENTINEL. Takes effect
/// for the next status change, even when called from the running sentinel.
///
/// Ownership: *sentinel is copied.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_sentinel(
    process: *mut netproc_process,
    sentinel: *const netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe {
        set_value(
            process,
            sentinel,
            "netproc_set_process_sentinel",
            |v| (!valid_sentinel(v)).then(|| Error::wrong_type("functionp", v)),
            |c, p, v| c.set_sentinel(p, v),
        )
    })
}

/// `set-process-plist`: a LIST or NIL.
///
/// Ownership: *plist is copied.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_plist(
    process: *mut netproc_process,
    plist: *const netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || unsafe {
        set_value(process, plist, "netproc_set_process_plist", |_| None, |c, p, v| c.set_plist(p, v))
    })
}

/// `process-contact`. `key` NULL gives the list (HOST SERVICE); "t" gives the whole contact
/// plist; a keyword such as ":service" or ":local" gives its value (NIL if absent). With
/// `no_block`, a process without an open socket (still resolving, closed, failed) gives NIL.
///
/// Ownership: caller owns *out; release it with netproc_value_free(). key is only read.
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_contact(
    process: *mut netproc_process,
    key: *const c_char,
    no_block: bool,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_contact";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        ok_or_return!(out_ptr(process.context().as_deref(), out, FUNCTION));
        let query = if key.is_null() {
            ContactQuery::HostService
        } else {
            // SAFETY: not NULL; the host promises a NUL-terminated string.
            match unsafe { CStr::from_ptr(key) }.to_string_lossy().as_ref() {
                "t" => ContactQuery::All,
                other => ContactQuery::Key(other.to_string()),
            }
        };
        let value = process.contact(&query, no_block);
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &value) }
    })
}

/// `process-send-string` with bytes: never blocks. Bytes the socket does not take at once
/// are queued in order and written as it drains; netproc_process_output_pending() tells how
/// many wait. A send while a :nowait connect is in progress is queued until it completes.
/// Fails with "Process NAME not running" unless the process is open (stopped is fine), and
/// after netproc_process_send_eof(). Never raises SIGPIPE. length 0 sends nothing; a length
/// beyond PTRDIFF_MAX is NETPROC_E_INVALID.
///
/// Ownership: data is copied before returning.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_send(
    process: *mut netproc_process,
    data: *const u8,
    length: usize,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_send";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = ok_or_return!(context_of(&process, FUNCTION));
        let bytes = ok_or_return!(unsafe { byte_slice(Some(&context), data, length, FUNCTION, "data") });
        status_of(&context, context.send(&process, bytes))
    })
}

/// `process-send-eof`: once queued output is written, shut down the sending side; reading
/// goes on until the peer closes. No effect on datagram processes.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_send_eof(process: *mut netproc_process) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_send_eof";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = ok_or_return!(context_of(&process, FUNCTION));
        status_of(&context, context.send_eof(&process))
    })
}

/// Bytes accepted by sends and not yet handed to the kernel (0 for NULL).
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_output_pending(process: *mut netproc_process) -> usize {
    guard(0, || {
        let Ok(process) = process_ref(process, "netproc_process_output_pending") else {
            return 0;
        };
        process.context().map_or(0, |context| context.output_pending(&process))
    })
}

/// Bytes accepted by sends that were never written because the connection died (or was
/// closed abortively) first: the "reported" part of "delivered or reported".
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_output_lost(process: *mut netproc_process) -> u64 {
    guard(0, || {
        let Ok(process) = process_ref(process, "netproc_process_output_lost") else { return 0 };
        // Read from the process itself: after netproc_context_free it still tells what the
        // free dropped.
        process.output_lost()
    })
}

/// `stop-process`: stop reading (clients) or accepting (servers). Sending still works.
/// No sentinel runs.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_stop_process(process: *mut netproc_process) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        let process = ok_or_return!(process_ref(process, "netproc_stop_process"));
        let context = ok_or_return!(context_of(&process, "netproc_stop_process"));
        status_of(&context, context.stop_process(&process))
    })
}

/// `continue-process`: resume reading or accepting; data and connections that waited are
/// delivered by the next netproc_poll(). No sentinel runs.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_continue_process(process: *mut netproc_process) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        let process = ok_or_return!(process_ref(process, "netproc_continue_process"));
        let context = ok_or_return!(context_of(&process, "netproc_continue_process"));
        status_of(&context, context.continue_process(&process))
    })
}

/// `process-query-on-exit-flag` (false for NULL).
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_query_on_exit_flag(process: *mut netproc_process) -> bool {
    guard(false, || {
        let Ok(process) = process_ref(process, "netproc_process_query_on_exit_flag") else {
            return false;
        };
        process.query_on_exit()
    })
}

/// `set-process-query-on-exit-flag`.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_query_on_exit_flag(
    process: *mut netproc_process,
    flag: bool,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        let process = ok_or_return!(process_ref(process, "netproc_set_process_query_on_exit_flag"));
        process.set_query_on_exit(flag);
        NETPROC_OK
    })
}

/// `set-network-process-option`: set `option` (":keepalive", ":linger", ":priority",
/// ":reuseaddr", ":broadcast", ":dontroute", ":oobinline", ":bindtodevice") on the open
/// socket and record it in the contact. An unknown option is an error unless `no_error`, in
/// which case *applied (if not NULL) says false.
///
/// Ownership: option and *value are only read.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_network_process_option(
    process: *mut netproc_process,
    option: *const c_char,
    value: *const netproc_value,
    no_error: bool,
    applied: *mut bool,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_set_network_process_option";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = ok_or_return!(context_of(&process, FUNCTION));
        if option.is_null() {
            return fail_argument(Some(&context), NETPROC_E_NULL, &format!("{FUNCTION}: option is NULL"));
        }
        // SAFETY: not NULL; the host promises a NUL-terminated string.
        let option = unsafe { CStr::from_ptr(option) }.to_string_lossy().into_owned();
        let value = ok_or_return!(unsafe { input(Some(&context), value, FUNCTION, "value") });
        match context.set_network_option(&process, &option, &value, no_error) {
            Ok(done) => {
                if !applied.is_null() {
                    // SAFETY: checked not NULL.
                    unsafe { applied.write(done) };
                }
                NETPROC_OK
            }
            Err(error) => fail(Some(&context), &error),
        }
    })
}

/// A host-owned pointer kept with the process, and its destructor.
struct Userdata {
    pointer: usize,
    destructor: Option<unsafe extern "C" fn(*mut c_void)>,
    /// The process's context, so the destructor runs as a callback of it.
    context: Weak<crate::core::Shared>,
}

impl Drop for Userdata {
    fn drop(&mut self) {
        let Some(destructor) = self.destructor else { return };
        let pointer = self.pointer as *mut c_void;
        // SAFETY: the host registered this destructor for this pointer; it runs once.
        let run = || unsafe { destructor(pointer) };
        // Host code, run the way callbacks are: while it runs, netproc_poll() and
        // netproc_context_free() are refused, so a destructor run during a dispatch cannot
        // deliver later events ahead of the rest of the batch, nor free the context under
        // the free that released it.
        match self.context.upgrade() {
            Some(context) => context.call_host(run),
            None => run(),
        }
    }
}

/// Keep `userdata` with the process. `destructor` (may be NULL) runs exactly once: when the
/// userdata is replaced by another call, or when the last reference to the process goes.
/// It runs with no netproc lock held, under a callback's rules: it may call netproc
/// functions, but netproc_poll() and netproc_context_free() return NETPROC_E_REENTRANT. It
/// runs on the thread that owns the context (a reference released on another thread is let
/// go by the owner); once netproc_context_free() has begun, on the thread that releases the
/// last reference.
///
/// Ownership: netproc calls `destructor(userdata)`; it never frees userdata otherwise.
/// Lifetime:  until replaced or the process object is released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_set_userdata(
    process: *mut netproc_process,
    userdata: *mut c_void,
    destructor: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        let process = ok_or_return!(process_ref(process, "netproc_process_set_userdata"));
        let context = process.context().map(|context| Arc::downgrade(&context)).unwrap_or_default();
        let data = Userdata { pointer: userdata as usize, destructor, context };
        let previous = process.set_attachment(Some(Box::new(data)));
        drop(previous);
        NETPROC_OK
    })
}

/// The userdata set with netproc_process_set_userdata(), or NULL.
///
/// Ownership: the host's.
/// Lifetime:  as the host decides.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_userdata(process: *mut netproc_process) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        let Ok(process) = process_ref(process, "netproc_process_userdata") else {
            return std::ptr::null_mut();
        };
        process.with_attachment(|data| {
            data.and_then(|d| d.downcast_ref::<Userdata>())
                .map_or(std::ptr::null_mut(), |u| u.pointer as *mut c_void)
        })
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
            unsafe { out.add(index).write(super::boundary::process_handle(process)) };
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
        unsafe { out.write(found.as_ref().map_or(std::ptr::null_mut(), super::boundary::process_handle)) };
        NETPROC_OK
    })
}

/// `format-network-address`: *out is a STRING, or NIL when `address` is not an address.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_format_network_address(
    address: *const netproc_value,
    omit_port: bool,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_format_network_address";
        let value = ok_or_return!(unsafe { input(None, address, FUNCTION, "address") });
        ok_or_return!(out_ptr(None, out, FUNCTION));
        match crate::core::address::format_network_address(&value, omit_port) {
            // SAFETY: checked not NULL.
            Ok(text) => unsafe { write_out(out, &text) },
            Err(error) => fail(None, &error),
        }
    })
}
