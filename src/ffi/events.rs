//! What a C host can learn of a process without parsing Emacs's strings or contact plist:
//! its status as an enum, what its sentinel is being told (an orderly close and a reset
//! told apart, a failure's errno), the context it belongs to, and its peer's address. The
//! strings stay, as Emacs gives them; these stand beside them.

use super::boundary::{ok_or_return, out_ptr, process_ref};
use super::guard::{fail_argument, guard};
use super::netproc_context;
use super::netproc_process;
use super::sentinel_event::netproc_event;
use super::status::netproc_status::{self, *};
use super::value::{netproc_value, write_out};
use crate::core::ProcessStatus;

/// A process's status, as netproc_process_status() names it.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum netproc_process_state {
    /// Not a status: the handle was NULL or stale.
    NETPROC_STATE_INVALID = 0,
    /// "open": a connection (or a datagram process) that is up.
    NETPROC_STATE_OPEN = 1,
    /// "listen": a stream server.
    NETPROC_STATE_LISTEN = 2,
    /// "connect": a `:nowait` client still looking up, connecting or in its TLS handshake.
    NETPROC_STATE_CONNECT = 3,
    /// "stop": reading (or accepting) stopped by netproc_stop_process() or `:stop`.
    NETPROC_STATE_STOP = 4,
    /// "failed": a `:nowait` lookup, connect or TLS handshake failed.
    NETPROC_STATE_FAILED = 5,
    /// "closed": the peer went away, or the process was deleted.
    NETPROC_STATE_CLOSED = 6,
}

/// The status of `process` as an enum: the same status netproc_process_status() names.
/// NETPROC_STATE_INVALID for a NULL or stale handle.
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else NETPROC_STATE_INVALID (and NETPROC_E_WRONG_THREAD
///            for netproc_last_error); any thread once the context is freed.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_state_of(process: *mut netproc_process) -> netproc_process_state {
    use netproc_process_state::*;
    guard(NETPROC_STATE_INVALID, || {
        let Ok(process) = process_ref(process, "netproc_process_state_of") else {
            return NETPROC_STATE_INVALID;
        };
        match process.status() {
            ProcessStatus::Open => NETPROC_STATE_OPEN,
            ProcessStatus::Listen => NETPROC_STATE_LISTEN,
            ProcessStatus::Connect => NETPROC_STATE_CONNECT,
            ProcessStatus::Stop => NETPROC_STATE_STOP,
            ProcessStatus::Failed => NETPROC_STATE_FAILED,
            ProcessStatus::Closed => NETPROC_STATE_CLOSED,
        }
    })
}

/// Inside a sentinel call of `process`: what the sentinel is being told, beside its
/// message. A sentinel that runs another process's sentinel (by deleting it) gets its own
/// event back once that call returns. Outside a sentinel call of `process`,
/// NETPROC_E_ERROR.
///
/// Ownership: *out is the caller's; nothing to free.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_sentinel_event(
    process: *mut netproc_process,
    out: *mut netproc_event,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_sentinel_event";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = process.context();
        ok_or_return!(out_ptr(context.as_deref(), out, FUNCTION));
        let event = context
            .as_deref()
            .and_then(super::cstate::CState::of)
            .and_then(|state| state.sentinel_event_of(&process));
        match event {
            Some(event) => {
                // SAFETY: out is not NULL and the host promises it is writable.
                unsafe { out.write(event) };
                NETPROC_OK
            }
            None => fail_argument(
                context.as_deref(),
                NETPROC_E_ERROR,
                &format!("{FUNCTION}: not inside a sentinel call of this process"),
            ),
        }
    })
}

/// The context `process` belongs to: the pointer netproc_context_new() gave, borrowed;
/// NULL for a NULL or stale handle, or once the context was freed.
///
/// Ownership: borrowed; do not free it through this pointer.
/// Lifetime:  until netproc_context_free().
/// Thread:    context thread only, else NULL (and NETPROC_E_WRONG_THREAD for
///            netproc_last_error); any thread once the context is freed (then NULL).
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_context(process: *mut netproc_process) -> *mut netproc_context {
    guard(std::ptr::null_mut(), || {
        let Ok(process) = process_ref(process, "netproc_process_context") else {
            return std::ptr::null_mut();
        };
        // netproc_context_new handed out Arc::into_raw of this same Shared.
        process.context().map_or(std::ptr::null_mut(), |context| {
            std::sync::Arc::as_ptr(&context).cast::<netproc_context>().cast_mut()
        })
    })
}

/// The peer's address of `process` into *out, as netproc_format_network_address() takes
/// it: a VECTOR `[a b c d port]` (IPv4) or `[a b c d e f g h port]` (IPv6), a STRING for
/// a unix socket's path. For a datagram process, where replies go now
/// (netproc_process_datagram_address()); for a stream connection, the address it connected
/// to or was accepted from; NIL for a server or a client still connecting.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  independent of the process.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_peer_address(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_peer_address";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        ok_or_return!(out_ptr(process.context().as_deref(), out, FUNCTION));
        // SAFETY: out is checked above.
        unsafe { write_out(out, &process.peer_address()) }
    })
}
