//! Process functions, part one: a process's life. Making it (`make-network-process`), the
//! host's references to it (netproc_process_ref/_free), deleting it, its status, and what
//! drives its connection: sends, EOF, the output counters, stop and continue.
//!
//! The rule of the split: a function that creates, releases or ends a process, reports its
//! status, or moves or holds its bytes goes here; a getter or setter of something the process
//! carries (its name, buffer, filter, sentinel, plist, contact, query flag, socket options,
//! userdata) goes to `process_attrs.rs`. Coding systems are in `coding.rs`, datagram
//! addresses in `datagram.rs`, the process list in `context.rs`.

use std::ffi::{c_char, CStr};

use super::boundary::{
    bad_handle, byte_slice, context_of, context_ref, input, ok_or_return, out_ptr, process_and_context,
    process_into_handle, process_ref,
};
use super::cstate::{release_on_owner_thread, CState};
use super::guard::{fail, fail_argument, guard, status_of, status_of_send};
use super::handles::{self, Refused};
use super::host::with_host;
use super::status::netproc_status::{self, *};
use super::value::{netproc_arg, netproc_value, write_out};
use super::{netproc_context, netproc_process};
use crate::core::{Error, ExitStatus, Value};

// The paths src/fuzzing imports (`crate::ffi::process::*`, and
// `crate::ffi::process::netproc_format_network_address`) from before these functions moved
// to their nouns' files; no header declaration comes from a `use`.
pub use super::address::netproc_format_network_address;
pub use super::context::{netproc_get_process, netproc_process_list};
pub use super::process_attrs::*;

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
/// netproc's own keywords (since 0.2; README, "Whole messages"): `:framing` (`line`,
/// `content-length` or the list `(length-prefix N)`, N from 1 to 8) makes the filter get
/// exactly one whole message per call, decoded as the process decodes; `:framing-max` (an
/// integer, 64 MiB by default) is the longest message, past which the process fails with
/// the sentinel "failed with code message too large: LENGTH bytes, :framing-max is MAX\n".
/// Streams only: with `:type datagram`, `:framing` is an error.
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
        if CState::of(&context).is_some_and(CState::refuses_new_processes) {
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

/// `delete-process`: close the connection (output still queued is written in the
/// background first, unless :linger 0), take the process out of the process list, and run
/// its sentinel with "deleted\n" before returning. Then, as Emacs's notify pass does, the
/// sentinels of status changes already known for other processes (a send that found its
/// peer gone, a :nowait connect that failed inside its create call) run too, unless the
/// call comes from a callback; no filter runs. Deleting again does nothing. Safe from
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
        let (process, context) = ok_or_return!(process_and_context(process, FUNCTION));
        let bytes = ok_or_return!(unsafe { byte_slice(Some(&context), data, length, FUNCTION, "data") });
        status_of_send(&context, context.send(&process, bytes))
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
