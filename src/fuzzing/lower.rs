//! Building C values from [`Node`]s, in memory that lives as long as the [`Arena`], and the
//! host functions that FILTER, SENTINEL and LOG values point at.

use std::ffi::{c_char, c_void};

use super::input::{FunctionKind, Node};
use crate::ffi::netproc_process;
use crate::ffi::value::*;

/// Owns everything the C values built from it point into.
#[derive(Default)]
pub(crate) struct Arena {
    bytes: Vec<Box<[u8]>>,
    items: Vec<Box<[netproc_value]>>,
}

/// A pointer no field should ever be read through: misaligned and in the unmapped first
/// page, so a read of it faults at once.
const POISON: usize = 1;

impl Arena {
    /// The C value for `node`. With `garbage`, the fields its kind does not use hold poison
    /// pointers and huge lengths, and empty strings and sequences get a dangling (never
    /// NULL) pointer: legal, because only the fields of the kind may be read.
    pub(crate) fn lower(&mut self, node: &Node, garbage: bool) -> netproc_value {
        let mut value = if garbage { poisoned() } else { netproc_nil() };
        match node {
            Node::Nil => value.kind = NETPROC_VALUE_NIL,
            Node::T => value.kind = NETPROC_VALUE_T,
            Node::Int(n) => {
                value.kind = NETPROC_VALUE_INTEGER;
                value.integer = *n;
            }
            Node::Str(bytes) | Node::Sym(bytes) => {
                value.kind =
                    if matches!(node, Node::Str(_)) { NETPROC_VALUE_STRING } else { NETPROC_VALUE_SYMBOL };
                value.bytes = self.keep_bytes(bytes, garbage);
                value.length = bytes.len();
            }
            Node::Vector(items) | Node::List(items) | Node::Cons(items) => {
                value.kind = match node {
                    Node::Vector(_) => NETPROC_VALUE_VECTOR,
                    Node::List(_) => NETPROC_VALUE_LIST,
                    _ => NETPROC_VALUE_CONS,
                };
                let lowered: Vec<netproc_value> =
                    items.iter().map(|item| self.lower(item, garbage)).collect();
                value.items = self.keep_items(lowered, garbage);
                value.count = items.len();
            }
            Node::Pointer(address) => {
                value.kind = NETPROC_VALUE_POINTER;
                value.pointer = *address as *mut c_void;
            }
            Node::Function { kind, null, userdata } => {
                value.kind = kind.value_kind();
                value.pointer = *userdata as *mut c_void;
                if garbage {
                    value.filter = None;
                    value.sentinel = None;
                    value.log = None;
                }
                if !null {
                    match kind {
                        FunctionKind::Filter => value.filter = Some(fuzz_filter),
                        FunctionKind::Sentinel => value.sentinel = Some(fuzz_sentinel),
                        FunctionKind::Log => value.log = Some(fuzz_log),
                    }
                }
            }
            Node::Unknown(kind) => value.kind = *kind,
            Node::NullBytes { kind, length } => {
                value.kind = *kind;
                value.bytes = std::ptr::null();
                value.length = *length;
            }
            Node::NullItems { kind, count } => {
                value.kind = *kind;
                value.items = std::ptr::null();
                value.count = *count;
            }
            Node::Deep { depth, inner } => {
                let mut current = self.lower(inner, garbage);
                for _ in 0..*depth {
                    let items = self.keep_items(vec![current], garbage);
                    current = netproc_list(items, 1);
                }
                value = current;
            }
        }
        value
    }

    fn keep_bytes(&mut self, bytes: &[u8], garbage: bool) -> *const u8 {
        if bytes.is_empty() {
            return if garbage { std::ptr::NonNull::<u8>::dangling().as_ptr() } else { std::ptr::null() };
        }
        let kept: Box<[u8]> = bytes.into();
        let pointer = kept.as_ptr();
        self.bytes.push(kept);
        pointer
    }

    fn keep_items(&mut self, items: Vec<netproc_value>, garbage: bool) -> *const netproc_value {
        if items.is_empty() {
            return if garbage {
                std::ptr::NonNull::<netproc_value>::dangling().as_ptr()
            } else {
                std::ptr::null()
            };
        }
        let kept = items.into_boxed_slice();
        let pointer = kept.as_ptr();
        self.items.push(kept);
        pointer
    }
}

fn poisoned() -> netproc_value {
    // SAFETY: a non-null function pointer is a valid value of these Option<fn> types; it is
    // never called unless netproc reads a field the value's kind does not use, which is
    // exactly the bug a crash here reports.
    let poison_filter: netproc_filter_fn = unsafe { std::mem::transmute::<usize, _>(POISON) };
    let poison_sentinel: netproc_sentinel_fn = unsafe { std::mem::transmute::<usize, _>(POISON) };
    let poison_log: netproc_log_fn = unsafe { std::mem::transmute::<usize, _>(POISON) };
    netproc_value {
        kind: NETPROC_VALUE_NIL,
        integer: 0x5A5A_5A5A,
        bytes: POISON as *const u8,
        length: usize::MAX,
        items: POISON as *const netproc_value,
        count: usize::MAX,
        pointer: POISON as *mut c_void,
        filter: poison_filter,
        sentinel: poison_sentinel,
        log: poison_log,
    }
}

use crate::ffi::callbacks::{netproc_filter_fn, netproc_log_fn, netproc_sentinel_fn};

/// A filter that checks what it is given.
pub(crate) unsafe extern "C" fn fuzz_filter(
    _userdata: *mut c_void,
    process: *mut netproc_process,
    data: *const u8,
    length: usize,
) {
    assert!(!process.is_null(), "filter called without a process");
    assert!(length == 0 || !data.is_null(), "filter given NULL data with length {length}");
}

/// A sentinel that checks its message is a NUL-terminated line.
pub(crate) unsafe extern "C" fn fuzz_sentinel(
    _userdata: *mut c_void,
    process: *mut netproc_process,
    message: *const c_char,
    length: usize,
) {
    assert!(!process.is_null(), "sentinel called without a process");
    assert!(!message.is_null(), "sentinel given a NULL message");
    // SAFETY: netproc passes `length` bytes and a NUL after them.
    let text = unsafe { std::slice::from_raw_parts(message.cast::<u8>(), length + 1) };
    assert_eq!(text[length], 0, "sentinel message not NUL-terminated");
    assert!(text[..length].ends_with(b"\n"), "sentinel message {:?} is not a line", &text[..length]);
}

/// A log function that checks its message is a line.
pub(crate) unsafe extern "C" fn fuzz_log(
    _userdata: *mut c_void,
    server: *mut netproc_process,
    _client: *mut netproc_process,
    message: *const c_char,
    length: usize,
) {
    assert!(!server.is_null(), "log called without a server");
    assert!(!message.is_null(), "log given a NULL message");
    // SAFETY: netproc passes `length` readable bytes.
    let text = unsafe { std::slice::from_raw_parts(message.cast::<u8>(), length) };
    assert!(text.ends_with(b"\n"), "log message {text:?} is not a line");
}
