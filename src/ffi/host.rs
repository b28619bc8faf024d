//! The core's [`Host`] for C hosts: during dispatch it calls the filters, sentinels and log
//! functions a host registered, and the buffer hooks, with no netproc lock held.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::boundary::process_handle;
use super::callbacks::{c_function, CFunction};
use super::cstate::CState;
use super::guard::with_callback_process;
use super::sentinel_event::netproc_event;
use super::value::CPointer;
use crate::core::event::{LogEvent, SentinelEvent};
use crate::core::{Host, ProcRef, Shared, Value};

/// Run `f` with a host that calls this context's C callbacks.
pub(crate) fn with_host<R>(context: &Arc<Shared>, f: impl FnOnce(&mut CHost) -> R) -> R {
    match CState::of(context) {
        Some(state) => f(&mut CHost::new(context, state)),
        // Built only when needed: a default CState allocates (its error strings).
        None => f(&mut CHost::new(context, &CState::default())),
    }
}

/// Calls C callbacks for the core's dispatch.
pub(crate) struct CHost<'a> {
    /// The context whose dispatch this host serves.
    context: &'a Arc<Shared>,
    state: &'a CState,
    /// The NUL-terminated copy of the message being passed, reused from call to call
    /// (a fresh CString per sentinel was a tenth of W3's accept cost).
    text: Vec<u8>,
}

impl<'a> CHost<'a> {
    fn new(context: &'a Arc<Shared>, state: &'a CState) -> CHost<'a> {
        CHost { context, state, text: Vec::new() }
    }

    /// `bytes` with a NUL after them, and their length, valid until the next call. NUL
    /// bytes inside (a name or a :host can hold them) are kept: the host reads exactly the
    /// length it is told, and that many bytes are there.
    fn c_text(&mut self, bytes: &[u8]) -> (*const c_char, usize) {
        self.c_text_with(|text| text.extend_from_slice(bytes))
    }

    /// [`CHost::c_text`] of what `write` appends to an empty buffer.
    fn c_text_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> (*const c_char, usize) {
        self.text.clear();
        write(&mut self.text);
        let length = self.text.len();
        self.text.push(0);
        (self.text.as_ptr().cast(), length)
    }
}

impl Host for CHost<'_> {
    fn filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8]) {
        let function = match c_function(filter) {
            Some(CFunction::Filter(f, userdata)) => Some((f, userdata)),
            _ if filter.is_nil() => self.state.default_filter(),
            _ => None,
        };
        if let Some((f, userdata)) = function {
            let handle = process_handle(process);
            // SAFETY: the host registered this function with this userdata; the process
            // handle and data are valid for the duration of the call.
            with_callback_process(handle as usize, process, self.context, || unsafe {
                f(userdata as *mut c_void, handle, data.as_ptr(), data.len())
            });
        }
    }

    fn sentinel(&mut self, process: &ProcRef, sentinel: &Value, event: &SentinelEvent) {
        let function = match c_function(sentinel) {
            Some(CFunction::Sentinel(f, userdata)) => Some((f, userdata)),
            _ if sentinel.is_nil() => self.state.default_sentinel(),
            _ => None,
        };
        if let Some((f, userdata)) = function {
            let (text, length) = self.c_text_with(|text| event.write_message(text));
            let code = netproc_event::of(event);
            self.state.with_sentinel_event(process, code, || {
                // SAFETY: as for filters; `text` lives until the call returns.
                unsafe { f(userdata as *mut c_void, process_handle(process), text, length) }
            });
        }
    }

    fn log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, event: &LogEvent) {
        if let Some(CFunction::Log(f, userdata)) = c_function(log) {
            let (text, length) = self.c_text_with(|text| event.write_message(text));
            let client = client.map_or(std::ptr::null_mut(), process_handle);
            // SAFETY: as for filters.
            unsafe { f(userdata as *mut c_void, process_handle(server), client, text, length) };
        }
    }

    fn buffer_name(&mut self, buffer: &Value) -> Option<Vec<u8>> {
        match buffer {
            Value::Str(name) => Some(name.to_vec()),
            Value::Host(object) => {
                let pointer = object.as_any().downcast_ref::<CPointer>()?.pointer();
                let (name_of, userdata) = self.state.buffer_hooks()?.buffer_name()?;
                let mut length = 0usize;
                // SAFETY: the host registered this hook; we pass back a buffer it gave us.
                let name = unsafe { name_of(userdata, pointer, &mut length) };
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
        let Some((create, userdata)) = self.state.buffer_hooks().and_then(|hooks| hooks.get_buffer_create())
        else {
            // No buffers in this host: the buffer is known by its name.
            return Value::string(name);
        };
        // The name with its NUL bytes and its true length: dropping the NULs while stating
        // the full length made the host read past the end of the copy.
        let (text, length) = self.c_text(name);
        // SAFETY: the host registered this hook; `text` lives across the call.
        let buffer = unsafe { create(userdata, text, length) };
        if buffer.is_null() {
            Value::Nil
        } else {
            Value::Host(Arc::new(CPointer::new(buffer)))
        }
    }
}
