//! Host callbacks: the C function types, how they are kept inside Lisp-shaped values, and
//! the [`Host`] that calls them during dispatch.

use std::any::Any;
use std::ffi::{c_char, c_void};

use super::boundary::process_handle;
use super::context::{BufferHooks, CState};
use super::netproc_process;
use super::value::{
    netproc_value, CPointer, NETPROC_VALUE_FILTER, NETPROC_VALUE_LOG, NETPROC_VALUE_SENTINEL,
};
use crate::core::event::{LogEvent, SentinelEvent};
use crate::core::{Host, HostObject, ProcRef, Value};

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

/// A C function with its userdata, kept as a Lisp value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CFunction {
    Filter(unsafe extern "C" fn(*mut c_void, *mut netproc_process, *const u8, usize), usize),
    Sentinel(unsafe extern "C" fn(*mut c_void, *mut netproc_process, *const c_char, usize), usize),
    Log(
        unsafe extern "C" fn(*mut c_void, *mut netproc_process, *mut netproc_process, *const c_char, usize),
        usize,
    ),
}

impl CFunction {
    /// Read a FILTER, SENTINEL or LOG value; None if its function pointer is NULL.
    pub(crate) fn from_value(value: &netproc_value) -> Option<CFunction> {
        let userdata = value.pointer as usize;
        match value.kind {
            NETPROC_VALUE_FILTER => value.filter.map(|f| CFunction::Filter(f, userdata)),
            NETPROC_VALUE_SENTINEL => value.sentinel.map(|f| CFunction::Sentinel(f, userdata)),
            NETPROC_VALUE_LOG => value.log.map(|f| CFunction::Log(f, userdata)),
            _ => None,
        }
    }

    /// The value the host built this from.
    pub(crate) fn to_value(self) -> netproc_value {
        match self {
            CFunction::Filter(f, userdata) => super::value::netproc_filter(Some(f), userdata as *mut c_void),
            CFunction::Sentinel(f, userdata) => {
                super::value::netproc_sentinel(Some(f), userdata as *mut c_void)
            }
            CFunction::Log(f, userdata) => super::value::netproc_log(Some(f), userdata as *mut c_void),
        }
    }

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
}

/// The function a value holds, if it is one of ours.
fn c_function(value: &Value) -> Option<CFunction> {
    match value {
        Value::Host(object) => object.as_any().downcast_ref::<CFunction>().copied(),
        _ => None,
    }
}

/// Whether `value` is a FILTER, SENTINEL or LOG: a function, so never a buffer.
pub(crate) fn is_function(value: &Value) -> bool {
    c_function(value).is_some()
}

/// Whether `value` may be stored as a filter: nil (default), t (no reading), or a FILTER.
pub(crate) fn valid_filter(value: &Value) -> bool {
    value.is_nil() || value.is_symbol("t") || matches!(c_function(value), Some(CFunction::Filter(..)))
}

/// Whether `value` may be stored as a sentinel: nil (default) or a SENTINEL.
pub(crate) fn valid_sentinel(value: &Value) -> bool {
    value.is_nil() || matches!(c_function(value), Some(CFunction::Sentinel(..)))
}

/// Whether `value` may be stored as a log function: nil or a LOG.
pub(crate) fn valid_log(value: &Value) -> bool {
    value.is_nil() || matches!(c_function(value), Some(CFunction::Log(..)))
}

/// Calls C callbacks for the core's dispatch.
pub(crate) struct CHost<'a> {
    pub(crate) state: &'a CState,
    /// The NUL-terminated copy of the message being passed, reused from call to call
    /// (a fresh CString per sentinel was a tenth of W3's accept cost).
    text: Vec<u8>,
}

impl<'a> CHost<'a> {
    pub(crate) fn new(state: &'a CState) -> CHost<'a> {
        CHost { state, text: Vec::new() }
    }

    /// `bytes` with a NUL after them, and their length, valid until the next call. NUL
    /// bytes inside (a name or a :host can hold them) are kept: the host reads exactly the
    /// length it is told, and that many bytes are there.
    fn c_text(&mut self, bytes: &[u8]) -> (*const c_char, usize) {
        self.text.clear();
        self.text.extend_from_slice(bytes);
        self.text.push(0);
        (self.text.as_ptr().cast(), bytes.len())
    }
}

impl Host for CHost<'_> {
    fn filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8]) {
        let function = match c_function(filter) {
            Some(CFunction::Filter(f, userdata)) => Some((f, userdata)),
            _ if filter.is_nil() => *self.state.default_filter.lock(),
            _ => None,
        };
        if let Some((f, userdata)) = function {
            // SAFETY: the host registered this function with this userdata; the process
            // handle and data are valid for the duration of the call.
            unsafe { f(userdata as *mut c_void, process_handle(process), data.as_ptr(), data.len()) };
        }
    }

    fn sentinel(&mut self, process: &ProcRef, sentinel: &Value, event: &SentinelEvent) {
        let function = match c_function(sentinel) {
            Some(CFunction::Sentinel(f, userdata)) => Some((f, userdata)),
            _ if sentinel.is_nil() => *self.state.default_sentinel.lock(),
            _ => None,
        };
        if let Some((f, userdata)) = function {
            let (text, length) = self.c_text(event.message().as_bytes());
            // SAFETY: as for filters; `text` lives until the call returns.
            unsafe { f(userdata as *mut c_void, process_handle(process), text, length) };
        }
    }

    fn log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, event: &LogEvent) {
        if let Some(CFunction::Log(f, userdata)) = c_function(log) {
            let (text, length) = self.c_text(event.message().as_bytes());
            let client = client.map_or(std::ptr::null_mut(), process_handle);
            // SAFETY: as for filters.
            unsafe { f(userdata as *mut c_void, process_handle(server), client, text, length) };
        }
    }

    fn buffer_name(&mut self, buffer: &Value) -> Option<Vec<u8>> {
        match buffer {
            Value::Str(name) => Some(name.to_vec()),
            Value::Host(object) => {
                let pointer = object.as_any().downcast_ref::<CPointer>()?.0;
                let hooks: Option<BufferHooks> = *self.state.buffer_hooks.lock();
                let hooks = hooks?;
                let name_of = hooks.buffer_name?;
                let mut length = 0usize;
                // SAFETY: the host registered this hook; we pass back a buffer it gave us.
                let name =
                    unsafe { name_of(hooks.userdata as *mut c_void, pointer as *mut c_void, &mut length) };
                // A length past isize::MAX cannot describe real bytes (and would make
                // from_raw_parts undefined): taken as no name, like a dead buffer.
                if name.is_null() || length > isize::MAX as usize {
                    return None;
                }
                // SAFETY: the hook returns `length` readable bytes, valid until it returns
                // to us (we copy them at once).
                Some(unsafe { std::slice::from_raw_parts(name.cast::<u8>(), length) }.to_vec())
            }
            _ => None,
        }
    }

    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        let hooks: Option<BufferHooks> = *self.state.buffer_hooks.lock();
        let create = hooks.and_then(|hooks| hooks.get_buffer_create.map(|f| (f, hooks.userdata)));
        let Some((create, userdata)) = create else {
            // No buffers in this host: the buffer is known by its name.
            return Value::string(name);
        };
        // The name with its NUL bytes and its true length: dropping the NULs while stating
        // the full length made the host read past the end of the copy.
        let (text, length) = self.c_text(name);
        // SAFETY: the host registered this hook; `text` lives across the call.
        let buffer = unsafe { create(userdata as *mut c_void, text, length) };
        if buffer.is_null() {
            Value::Nil
        } else {
            Value::Host(std::sync::Arc::new(CPointer(buffer as usize)))
        }
    }
}
