//! Host callbacks: the C function types (filters, sentinels, log functions), and
//! [`CFunction`], such a function with its userdata kept as a Lisp value, with the checks of
//! which keyword may hold which kind. A leaf of src/ffi: `value` converts a `CFunction` to
//! and from a `netproc_value`, and `host` calls it during dispatch.

use std::any::Any;
use std::ffi::{c_char, c_void};

use super::netproc_process;
use crate::core::{FunctionRole, HostObject, Value};

/// A filter: `data` holds `length` bytes that arrived for `process`: unibyte bytes, or
/// multibyte text, as netproc_process_filter_multibyte_p() called during the call says.
/// `process` and `data` are borrowed for the call only (take netproc_process_ref() to keep
/// the handle).
///
/// When and where (filters, sentinels and log functions alike): on the context's thread,
/// from inside netproc_poll() only — except sentinels, which netproc_delete_process() and
/// netproc_context_free() also run, before returning, with "deleted\n". No netproc lock is
/// held during the call, so the callback may call any netproc function except
/// netproc_poll() and netproc_context_free() (those return NETPROC_E_REENTRANT), including
/// deleting `process` itself. It must not unwind, throw or longjmp through netproc.
#[allow(non_camel_case_types)]
pub type netproc_filter_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        process: *mut netproc_process,
        data: *const u8,
        length: usize,
    ),
>;

/// A sentinel: `message` (`length` bytes, then a NUL) describes the status change, e.g.
/// "open\n", "deleted\n". NUL bytes inside (from a :host that has them) are part of the
/// `length` bytes. Borrowed for the call only.
///
/// When and where (filters, sentinels and log functions alike): on the context's thread,
/// from inside netproc_poll() only — except sentinels, which netproc_delete_process() and
/// netproc_context_free() also run, before returning, with "deleted\n". No netproc lock is
/// held during the call, so the callback may call any netproc function except
/// netproc_poll() and netproc_context_free() (those return NETPROC_E_REENTRANT), including
/// deleting `process` itself. It must not unwind, throw or longjmp through netproc.
#[allow(non_camel_case_types)]
pub type netproc_sentinel_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        process: *mut netproc_process,
        message: *const c_char,
        length: usize,
    ),
>;

/// A log function: `server` accepted `client` ("accept from HOST\n"), or accept failed and
/// `client` is NULL ("accept failed with codeN\n"). `message` is `length` bytes, then a
/// NUL. All borrowed for the call only.
///
/// When and where (filters, sentinels and log functions alike): on the context's thread,
/// from inside netproc_poll() only — except sentinels, which netproc_delete_process() and
/// netproc_context_free() also run, before returning, with "deleted\n". No netproc lock is
/// held during the call, so the callback may call any netproc function except
/// netproc_poll() and netproc_context_free() (those return NETPROC_E_REENTRANT), including
/// deleting `process` itself. It must not unwind, throw or longjmp through netproc.
#[allow(non_camel_case_types)]
pub type netproc_log_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        server: *mut netproc_process,
        client: *mut netproc_process,
        message: *const c_char,
        length: usize,
    ),
>;

/// A filter as netproc calls it (never NULL).
pub(crate) type FilterFn = unsafe extern "C" fn(*mut c_void, *mut netproc_process, *const u8, usize);
/// A sentinel as netproc calls it (never NULL).
pub(crate) type SentinelFn = unsafe extern "C" fn(*mut c_void, *mut netproc_process, *const c_char, usize);
/// A log function as netproc calls it (never NULL).
pub(crate) type LogFn =
    unsafe extern "C" fn(*mut c_void, *mut netproc_process, *mut netproc_process, *const c_char, usize);

/// A C function with its userdata, kept as a Lisp value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CFunction {
    Filter(FilterFn, usize),
    Sentinel(SentinelFn, usize),
    Log(LogFn, usize),
}

impl CFunction {
    fn address(&self) -> (usize, usize) {
        match *self {
            CFunction::Filter(f, u) => (f as usize, u),
            CFunction::Sentinel(f, u) => (f as usize, u),
            CFunction::Log(f, u) => (f as usize, u),
        }
    }
}

impl HostObject for CFunction {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn describe(&self) -> String {
        let (function, userdata) = self.address();
        format!("#<c-function {function:#x} {userdata:#x}>")
    }
    fn same(&self, other: &dyn HostObject) -> bool {
        other.as_any().downcast_ref::<CFunction>().is_some_and(|o| o.address() == self.address())
    }
    fn function_role(&self) -> Option<FunctionRole> {
        Some(match self {
            CFunction::Filter(..) => FunctionRole::Filter,
            CFunction::Sentinel(..) => FunctionRole::Sentinel,
            CFunction::Log(..) => FunctionRole::Log,
        })
    }
}

/// The function a value holds, if it is one of ours.
pub(crate) fn c_function(value: &Value) -> Option<CFunction> {
    match value {
        Value::Host(object) => object.as_any().downcast_ref::<CFunction>().copied(),
        _ => None,
    }
}
