//! Typed values at the C boundary: what keyword arguments carry in, and what contacts,
//! plists and buffers carry out. Their Lisp shapes are kept, so an IPv4 address is a
//! VECTOR of five INTEGERs and a coding pair is a CONS, with no strings to parse.

use std::any::Any;
use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::callbacks::{netproc_filter_fn, netproc_log_fn, netproc_sentinel_fn, CFunction};
use super::guard::guard;
use super::status::netproc_status;
use crate::core::{Budget, HostObject, Value};

/// The kind of a netproc_value, one of the NETPROC_VALUE_* constants. An integer, not a C
/// enum, so that any number a host passes is checked rather than trusted.
#[allow(non_camel_case_types)]
pub type netproc_value_type = u32;

/// `nil` (also the empty list).
pub const NETPROC_VALUE_NIL: netproc_value_type = 0;
/// `t`.
pub const NETPROC_VALUE_T: netproc_value_type = 1;
/// An integer: `integer`.
pub const NETPROC_VALUE_INTEGER: netproc_value_type = 2;
/// A string: `bytes` and `length` (not necessarily NUL-terminated on input).
pub const NETPROC_VALUE_STRING: netproc_value_type = 3;
/// A symbol, by name in `bytes` and `length`; keywords keep their colon.
pub const NETPROC_VALUE_SYMBOL: netproc_value_type = 4;
/// A vector: `count` values at `items`.
pub const NETPROC_VALUE_VECTOR: netproc_value_type = 5;
/// A proper list: `count` values at `items`.
pub const NETPROC_VALUE_LIST: netproc_value_type = 6;
/// A cons cell `(CAR . CDR)`: `items` holds exactly 2 values, `count` is 2.
pub const NETPROC_VALUE_CONS: netproc_value_type = 7;
/// A host object, e.g. a buffer: `pointer`. netproc never dereferences it.
pub const NETPROC_VALUE_POINTER: netproc_value_type = 8;
/// A filter function: `filter` with `pointer` as its userdata.
pub const NETPROC_VALUE_FILTER: netproc_value_type = 9;
/// A sentinel function: `sentinel` with `pointer` as its userdata.
pub const NETPROC_VALUE_SENTINEL: netproc_value_type = 10;
/// A log function: `log` with `pointer` as its userdata.
pub const NETPROC_VALUE_LOG: netproc_value_type = 11;

/// A Lisp-shaped value. Only the fields of its `kind` are read; the others should be zero.
///
/// Values the host builds (by hand or with netproc_integer() and friends) point into the
/// host's memory and are only read during the call they are passed to. Values netproc
/// writes into an out-parameter own their memory: release them with netproc_value_free().
/// Strings netproc hands out carry a terminating NUL after `length` bytes.
///
/// An input value is read as a tree within a budget: at most 1,048,576 elements, 256 MiB
/// of string and symbol bytes in all, and 64 levels of nesting (the top level is 0). Items
/// shared many times over are counted each time, so a value whose structure doubles at
/// each level, or that contains itself, fails with NETPROC_E_INVALID and the message
/// "Value too large or circular: …" instead of exhausting time, memory or the stack.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy)]
pub struct netproc_value {
    /// One of the NETPROC_VALUE_* constants.
    pub kind: netproc_value_type,
    /// INTEGER: the number.
    pub integer: i64,
    /// STRING, SYMBOL: the bytes.
    pub bytes: *const u8,
    /// STRING, SYMBOL: how many bytes.
    pub length: usize,
    /// VECTOR, LIST, CONS: the elements.
    pub items: *const netproc_value,
    /// VECTOR, LIST, CONS: how many elements (2 for CONS).
    pub count: usize,
    /// POINTER: the host object. FILTER, SENTINEL, LOG: the userdata.
    pub pointer: *mut c_void,
    /// FILTER: the function.
    pub filter: netproc_filter_fn,
    /// SENTINEL: the function.
    pub sentinel: netproc_sentinel_fn,
    /// LOG: the function.
    pub log: netproc_log_fn,
}

/// One keyword argument of netproc_make_network_process().
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy)]
pub struct netproc_arg {
    /// The keyword's name with its colon, NUL-terminated: ":name", ":service", …
    pub key: *const c_char,
    /// Its value.
    pub value: netproc_value,
}

impl netproc_value {
    const fn empty(kind: netproc_value_type) -> netproc_value {
        netproc_value {
            kind,
            integer: 0,
            bytes: std::ptr::null(),
            length: 0,
            items: std::ptr::null(),
            count: 0,
            pointer: std::ptr::null_mut(),
            filter: None,
            sentinel: None,
            log: None,
        }
    }
}

/// A host pointer kept as a Lisp value (`NETPROC_VALUE_POINTER`).
#[derive(Debug)]
pub(crate) struct CPointer(usize);

impl CPointer {
    /// Keep a host pointer.
    pub(crate) fn new(pointer: *mut c_void) -> CPointer {
        CPointer(pointer as usize)
    }

    /// The host's pointer, as the value C gave.
    pub(crate) fn pointer(&self) -> *mut c_void {
        self.0 as *mut c_void
    }
}

impl HostObject for CPointer {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn describe(&self) -> String {
        format!("#<pointer {:#x}>", self.0)
    }
    fn same(&self, other: &dyn HostObject) -> bool {
        other.as_any().downcast_ref::<CPointer>().is_some_and(|o| o.0 == self.0)
    }
}

/// Why a C value could not be read.
pub(crate) struct BadValue(pub(crate) String);

impl From<crate::core::Error> for BadValue {
    fn from(error: crate::core::Error) -> BadValue {
        BadValue(error.message())
    }
}

/// Read a value the host built. A value is read as a tree within a [`Budget`] (nodes,
/// string bytes, depth), so items shared many times over, or a LIST whose items point
/// back at itself, are refused ("Value too large or circular: …") after bounded work.
///
/// # Safety
/// Pointers in `value` (recursively) must be valid for the lengths it states.
pub(crate) unsafe fn from_c(value: &netproc_value) -> Result<Value, BadValue> {
    unsafe { from_c_at(value, 0, &mut Budget::default()) }
}

unsafe fn from_c_at(value: &netproc_value, depth: usize, budget: &mut Budget) -> Result<Value, BadValue> {
    budget.node(depth)?;
    // slice::from_raw_parts requires a slice of at most isize::MAX bytes: beyond that it is
    // undefined behaviour before anything is read, so absurd lengths are refused first.
    let bytes = |budget: &mut Budget| -> Result<&[u8], BadValue> {
        if value.length == 0 {
            return Ok(&[]);
        }
        if value.length > isize::MAX as usize {
            let what = if value.kind == NETPROC_VALUE_SYMBOL { "symbol" } else { "string" };
            return Err(BadValue(format!("{what} length {} is out of range", value.length)));
        }
        if value.bytes.is_null() {
            return Err(BadValue("string value with NULL bytes".into()));
        }
        budget.bytes(value.length)?;
        // SAFETY: the caller guarantees `bytes` points at `length` readable bytes.
        Ok(unsafe { std::slice::from_raw_parts(value.bytes, value.length) })
    };
    let items = |budget: &mut Budget| -> Result<Vec<Value>, BadValue> {
        if value.count == 0 {
            return Ok(Vec::new());
        }
        if value.count > isize::MAX as usize / std::mem::size_of::<netproc_value>() {
            return Err(BadValue(format!("sequence count {} is out of range", value.count)));
        }
        if value.items.is_null() {
            return Err(BadValue("sequence value with NULL items".into()));
        }
        // SAFETY: the caller guarantees `items` points at `count` values.
        let slice = unsafe { std::slice::from_raw_parts(value.items, value.count) };
        slice.iter().map(|item| unsafe { from_c_at(item, depth + 1, budget) }).collect()
    };
    Ok(match value.kind {
        NETPROC_VALUE_NIL => Value::Nil,
        NETPROC_VALUE_T => Value::T,
        NETPROC_VALUE_INTEGER => Value::Int(value.integer),
        NETPROC_VALUE_STRING => Value::string(bytes(budget)?),
        NETPROC_VALUE_SYMBOL => {
            let name = std::str::from_utf8(bytes(budget)?)
                .map_err(|_| BadValue("symbol name is not UTF-8".into()))?;
            match name {
                "nil" => Value::Nil,
                "t" => Value::T,
                _ => Value::symbol(name),
            }
        }
        NETPROC_VALUE_VECTOR => Value::vector(items(budget)?),
        NETPROC_VALUE_LIST => Value::list(items(budget)?),
        NETPROC_VALUE_CONS => {
            if value.count != 2 {
                return Err(BadValue("cons value must have exactly 2 items".into()));
            }
            let mut pair = items(budget)?;
            let cdr = pair.pop().unwrap_or(Value::Nil);
            let car = pair.pop().unwrap_or(Value::Nil);
            match cdr {
                // (A . (B C)) is the list (A B C).
                Value::List(rest) => {
                    Value::list(std::iter::once(car).chain(rest.iter().cloned()).collect::<Vec<_>>())
                }
                Value::Nil => Value::list(vec![car]),
                cdr => Value::cons(car, cdr),
            }
        }
        NETPROC_VALUE_POINTER => Value::Host(Arc::new(CPointer::new(value.pointer))),
        NETPROC_VALUE_FILTER | NETPROC_VALUE_SENTINEL | NETPROC_VALUE_LOG => {
            let function = c_function_of(value)
                .ok_or_else(|| BadValue("function value with a NULL function pointer".into()))?;
            Value::Host(Arc::new(function))
        }
        other => return Err(BadValue(format!("unknown value kind {other}"))),
    })
}

/// Write a value for the host to own (see netproc_value_free).
pub(crate) fn to_c(value: &Value) -> netproc_value {
    match value {
        Value::Nil => netproc_value::empty(NETPROC_VALUE_NIL),
        Value::T => netproc_value::empty(NETPROC_VALUE_T),
        Value::Int(n) => netproc_value { integer: *n, ..netproc_value::empty(NETPROC_VALUE_INTEGER) },
        Value::Str(bytes) => owned_bytes(NETPROC_VALUE_STRING, bytes),
        Value::Symbol(name) => owned_bytes(NETPROC_VALUE_SYMBOL, name.as_bytes()),
        Value::Vector(items) => owned_items(NETPROC_VALUE_VECTOR, items.iter().map(to_c).collect()),
        Value::List(items) if items.is_empty() => netproc_value::empty(NETPROC_VALUE_NIL),
        Value::List(items) => owned_items(NETPROC_VALUE_LIST, items.iter().map(to_c).collect()),
        Value::Cons(car, cdr) => owned_items(NETPROC_VALUE_CONS, vec![to_c(car), to_c(cdr)]),
        Value::Host(object) => host_to_c(object.as_ref()),
    }
}

fn host_to_c(object: &dyn HostObject) -> netproc_value {
    if let Some(pointer) = object.as_any().downcast_ref::<CPointer>() {
        return netproc_value {
            pointer: pointer.0 as *mut c_void,
            ..netproc_value::empty(NETPROC_VALUE_POINTER)
        };
    }
    if let Some(function) = object.as_any().downcast_ref::<CFunction>() {
        return function_to_c(*function);
    }
    // A host object of another boundary layer: nothing C could use.
    netproc_value::empty(NETPROC_VALUE_POINTER)
}

/// Read a FILTER, SENTINEL or LOG value; None if its function pointer is NULL.
fn c_function_of(value: &netproc_value) -> Option<CFunction> {
    let userdata = value.pointer as usize;
    match value.kind {
        NETPROC_VALUE_FILTER => value.filter.map(|f| CFunction::Filter(f, userdata)),
        NETPROC_VALUE_SENTINEL => value.sentinel.map(|f| CFunction::Sentinel(f, userdata)),
        NETPROC_VALUE_LOG => value.log.map(|f| CFunction::Log(f, userdata)),
        _ => None,
    }
}

/// The value the host built a function from.
fn function_to_c(function: CFunction) -> netproc_value {
    match function {
        CFunction::Filter(f, userdata) => netproc_filter(Some(f), userdata as *mut c_void),
        CFunction::Sentinel(f, userdata) => netproc_sentinel(Some(f), userdata as *mut c_void),
        CFunction::Log(f, userdata) => netproc_log(Some(f), userdata as *mut c_void),
    }
}

fn owned_bytes(kind: netproc_value_type, bytes: &[u8]) -> netproc_value {
    let mut buffer = Vec::with_capacity(bytes.len() + 1);
    buffer.extend_from_slice(bytes);
    buffer.push(0);
    let boxed: Box<[u8]> = buffer.into_boxed_slice();
    let length = bytes.len();
    netproc_value { bytes: Box::into_raw(boxed).cast::<u8>(), length, ..netproc_value::empty(kind) }
}

fn owned_items(kind: netproc_value_type, items: Vec<netproc_value>) -> netproc_value {
    let count = items.len();
    let boxed: Box<[netproc_value]> = items.into_boxed_slice();
    netproc_value { items: Box::into_raw(boxed).cast::<netproc_value>(), count, ..netproc_value::empty(kind) }
}

/// Release a value netproc wrote.
///
/// # Safety
/// `value` must have come from [`to_c`] and not been released before.
pub(crate) unsafe fn release(value: &mut netproc_value) {
    match value.kind {
        NETPROC_VALUE_STRING | NETPROC_VALUE_SYMBOL if !value.bytes.is_null() => {
            let slice = std::ptr::slice_from_raw_parts_mut(value.bytes.cast_mut(), value.length + 1);
            // SAFETY: allocated by owned_bytes as a boxed slice of length + 1 bytes.
            drop(unsafe { Box::from_raw(slice) });
        }
        NETPROC_VALUE_VECTOR | NETPROC_VALUE_LIST | NETPROC_VALUE_CONS if !value.items.is_null() => {
            let slice = std::ptr::slice_from_raw_parts_mut(value.items.cast_mut(), value.count);
            // SAFETY: allocated by owned_items as a boxed slice of `count` values, each of
            // which was written by to_c.
            let mut items = unsafe { Box::from_raw(slice) };
            for item in items.iter_mut() {
                unsafe { release(item) };
            }
        }
        _ => {}
    }
    *value = netproc_value::empty(NETPROC_VALUE_NIL);
}

/// Write `value` into a host's out-parameter.
///
/// # Safety
/// `out` must be valid for writes.
pub(crate) unsafe fn write_out(out: *mut netproc_value, value: &Value) -> netproc_status {
    // SAFETY: the caller checked `out` is not NULL and the host promises it is writable.
    unsafe { out.write(to_c(value)) };
    netproc_status::NETPROC_OK
}

/// Release a value that netproc wrote into an out-parameter, and reset it to NIL. NULL,
/// and a NIL value, are accepted and ignored. Never pass a value the host built itself.
///
/// Ownership: takes back what netproc allocated inside *value; the struct itself stays
///            the host's.
/// Lifetime:  pointers inside *value are invalid afterwards.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_value_free(value: *mut netproc_value) {
    guard((), || {
        if value.is_null() {
            return;
        }
        // SAFETY: the host passes a value netproc wrote, not yet released.
        unsafe { release(&mut *value) };
    })
}

/// A NIL value.
///
/// Ownership: nothing allocated.
/// Lifetime:  n/a.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_nil() -> netproc_value {
    netproc_value::empty(NETPROC_VALUE_NIL)
}

/// A T value.
///
/// Ownership: nothing allocated.
/// Lifetime:  n/a.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_t() -> netproc_value {
    netproc_value::empty(NETPROC_VALUE_T)
}

/// An INTEGER value.
///
/// Ownership: nothing allocated.
/// Lifetime:  n/a.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_integer(number: i64) -> netproc_value {
    netproc_value { integer: number, ..netproc_value::empty(NETPROC_VALUE_INTEGER) }
}

/// A STRING value over a NUL-terminated C string (NULL gives an empty string).
///
/// Ownership: borrows `text`; nothing allocated.
/// Lifetime:  `text` must outlive every use of the value.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_string(text: *const c_char) -> netproc_value {
    let length = if text.is_null() { 0 } else { unsafe { libc::strlen(text) } };
    netproc_value { bytes: text.cast(), length, ..netproc_value::empty(NETPROC_VALUE_STRING) }
}

/// A STRING value over `length` bytes (which may contain NULs). A length beyond
/// PTRDIFF_MAX is refused (NETPROC_E_INVALID) by the call the value is given to.
///
/// Ownership: borrows `bytes`; nothing allocated.
/// Lifetime:  `bytes` must outlive every use of the value.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_string_n(bytes: *const u8, length: usize) -> netproc_value {
    netproc_value { bytes, length, ..netproc_value::empty(NETPROC_VALUE_STRING) }
}

/// A SYMBOL value by name ("ipv6", "datagram", "local"); "nil" and "t" read as NIL and T.
///
/// Ownership: borrows `name`; nothing allocated.
/// Lifetime:  `name` must outlive every use of the value.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_symbol(name: *const c_char) -> netproc_value {
    let length = if name.is_null() { 0 } else { unsafe { libc::strlen(name) } };
    netproc_value { bytes: name.cast(), length, ..netproc_value::empty(NETPROC_VALUE_SYMBOL) }
}

/// A POINTER value: a host object such as a buffer.
///
/// Ownership: netproc never dereferences or frees `pointer`.
/// Lifetime:  the host decides.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_pointer(pointer: *mut c_void) -> netproc_value {
    netproc_value { pointer, ..netproc_value::empty(NETPROC_VALUE_POINTER) }
}

/// A VECTOR value over `count` values. A count beyond PTRDIFF_MAX bytes of values is
/// refused (NETPROC_E_INVALID) by the call the value is given to.
///
/// Ownership: borrows `items`; nothing allocated.
/// Lifetime:  `items` must outlive every use of the value.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_vector(items: *const netproc_value, count: usize) -> netproc_value {
    netproc_value { items, count, ..netproc_value::empty(NETPROC_VALUE_VECTOR) }
}

/// A LIST value over `count` values. A count beyond PTRDIFF_MAX bytes of values is refused
/// (NETPROC_E_INVALID) by the call the value is given to.
///
/// Ownership: borrows `items`; nothing allocated.
/// Lifetime:  `items` must outlive every use of the value.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_list(items: *const netproc_value, count: usize) -> netproc_value {
    netproc_value { items, count, ..netproc_value::empty(NETPROC_VALUE_LIST) }
}

/// A CONS value; `pair` points at two values, the car and the cdr.
///
/// Ownership: borrows `pair`; nothing allocated.
/// Lifetime:  `pair` must outlive every use of the value.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_cons(pair: *const netproc_value) -> netproc_value {
    netproc_value { items: pair, count: 2, ..netproc_value::empty(NETPROC_VALUE_CONS) }
}

/// A FILTER value: `filter` called with `userdata` first.
///
/// Ownership: netproc never frees `userdata` (see netproc_process_set_userdata for that).
/// Lifetime:  `userdata` must stay valid while any process may call the filter.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_filter(filter: netproc_filter_fn, userdata: *mut c_void) -> netproc_value {
    netproc_value { filter, pointer: userdata, ..netproc_value::empty(NETPROC_VALUE_FILTER) }
}

/// A SENTINEL value: `sentinel` called with `userdata` first.
///
/// Ownership: netproc never frees `userdata`.
/// Lifetime:  `userdata` must stay valid while any process may call the sentinel.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_sentinel(sentinel: netproc_sentinel_fn, userdata: *mut c_void) -> netproc_value {
    netproc_value { sentinel, pointer: userdata, ..netproc_value::empty(NETPROC_VALUE_SENTINEL) }
}

/// A LOG value: `log` called with `userdata` first.
///
/// Ownership: netproc never frees `userdata`.
/// Lifetime:  `userdata` must stay valid while the server may call it.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_log(log: netproc_log_fn, userdata: *mut c_void) -> netproc_value {
    netproc_value { log, pointer: userdata, ..netproc_value::empty(NETPROC_VALUE_LOG) }
}
