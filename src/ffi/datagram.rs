//! Datagram addresses: `process-datagram-address` and `set-process-datagram-address`.

use super::boundary::{input, ok_or_return, out_ptr, process_ref};
use super::guard::guard;
use super::netproc_process;
use super::status::netproc_status::{self, *};
use super::value::{netproc_value, write_out};
use crate::core::Value;

/// `process-datagram-address`: where sends of a datagram process go (for a server, the
/// last sender), as an address value; before any datagram a server reports the zeroed
/// `(0 . [0 … 0])` form. NIL for other processes and closed ones.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_datagram_address(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_datagram_address";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        ok_or_return!(out_ptr(process.context().as_deref(), out, FUNCTION));
        let address = process.datagram_address();
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &address) }
    })
}

/// During a filter call of a datagram process: the sender of the datagram being delivered,
/// as an address value; NIL outside a filter call. netproc's: Emacs gives only
/// netproc_process_datagram_address(), one slot per process, which is the same sender
/// when the filter starts (replies go there by default) but which the filter may change.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released (it outlives the filter call).
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_datagram_sender(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_datagram_sender";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        ok_or_return!(out_ptr(process.context().as_deref(), out, FUNCTION));
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &process.datagram_sender()) }
    })
}

/// `set-process-datagram-address`: send to `address` from now on. *applied (if not NULL)
/// is false when the process is not an open datagram process, or the address is malformed
/// or of another family than the socket; Emacs returns nil then, so it is not an error.
///
/// Ownership: *address is copied.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_datagram_address(
    process: *mut netproc_process,
    address: *const netproc_value,
    applied: *mut bool,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_set_process_datagram_address";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let address: Value =
            ok_or_return!(unsafe { input(process.context().as_deref(), address, FUNCTION, "address") });
        let done = process.set_datagram_address(&address);
        if !applied.is_null() {
            // SAFETY: checked not NULL.
            unsafe { applied.write(done) };
        }
        NETPROC_OK
    })
}
