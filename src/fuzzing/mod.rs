#![doc(hidden)]
//! Fuzz target bodies, one `pub fn <target>(data: &[u8])` each. cargo-fuzz (`fuzz/`, on
//! nightly) calls them through libFuzzer, and `tests/fuzz_corpus.rs` (on stable) replays the
//! committed corpus `fuzz/corpus/<target>/` through the same functions, so `make test`
//! checks every input ever kept. A target panics when an invariant breaks; it opens sockets
//! on loopback only (see [`sandbox`]) and frees everything it made before returning.
//!
//! Not part of the API: hidden from the docs and from the C header.

mod address;
mod coding;
mod contact;
mod input;
mod kv;
mod lower;
mod sandbox;

pub use address::address;
pub use coding::coding;
pub use contact::contact;
pub use kv::keyword_values;

use std::ffi::CStr;

use crate::core::Value;
use crate::ffi::context::netproc_last_error;
use crate::ffi::netproc_context;
use crate::ffi::status::netproc_status;
use crate::ffi::value::{from_c, netproc_nil, netproc_value, netproc_value_free};

/// A target's body: one fuzzer input in, a panic out if an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` and corpus directory.
pub const TARGETS: &[(&str, Target)] =
    &[("keyword_values", keyword_values), ("address", address), ("contact", contact), ("coding", coding)];

/// Read a value netproc wrote into an out-parameter, then free it.
fn take_value(out: &mut netproc_value) -> Value {
    // SAFETY: netproc wrote `out`, so every pointer in it is valid for its stated length.
    let value = unsafe { read_owned(out) };
    // SAFETY: netproc wrote it and it is released once; it is NIL afterwards.
    unsafe { netproc_value_free(out) };
    *out = netproc_nil();
    value
}

/// The decoder's reading of a value netproc wrote, without its nesting limit: a contact
/// holds the arguments one level down, so an argument at the limit comes back past it.
///
/// # Safety
/// `value` must be one netproc wrote and has not released.
unsafe fn read_owned(value: &netproc_value) -> Value {
    use crate::ffi::value::{NETPROC_VALUE_CONS, NETPROC_VALUE_LIST, NETPROC_VALUE_VECTOR};
    let items = || -> Vec<Value> {
        if value.count == 0 {
            return Vec::new();
        }
        // SAFETY: netproc wrote `count` values at `items`.
        let slice = unsafe { std::slice::from_raw_parts(value.items, value.count) };
        slice.iter().map(|item| unsafe { read_owned(item) }).collect()
    };
    match value.kind {
        NETPROC_VALUE_VECTOR => Value::vector(items()),
        NETPROC_VALUE_LIST => Value::list(items()),
        NETPROC_VALUE_CONS => {
            let mut pair = items();
            assert_eq!(pair.len(), 2, "netproc wrote a CONS of {}", pair.len());
            let (cdr, car) = (pair.pop().unwrap_or(Value::Nil), pair.pop().unwrap_or(Value::Nil));
            match cdr {
                Value::List(rest) => {
                    Value::list(std::iter::once(car).chain(rest.iter().cloned()).collect::<Vec<_>>())
                }
                Value::Nil => Value::list(vec![car]),
                cdr => Value::cons(car, cdr),
            }
        }
        // SAFETY: as for this function.
        _ => match unsafe { from_c(value) } {
            Ok(value) => value,
            Err(bad) => panic!("netproc handed out a value its own decoder refuses: {}", bad.0),
        },
    }
}

/// A failed call left an Emacs error behind: its status, a symbol and a message.
fn assert_error_recorded(ctx: *mut netproc_context, status: netproc_status) {
    let mut symbol = std::ptr::null();
    let mut message = std::ptr::null();
    let mut errno = 0;
    // SAFETY: ctx is NULL or live; the out-pointers are valid.
    let recorded = unsafe { netproc_last_error(ctx, &mut symbol, &mut message, &mut errno) };
    assert_eq!(recorded, status, "last error disagrees with the status returned");
    assert!(!symbol.is_null() && !message.is_null(), "error without symbol or message");
    // SAFETY: netproc hands out NUL-terminated strings that live until the next failure.
    let (symbol, message) = unsafe { (CStr::from_ptr(symbol), CStr::from_ptr(message)) };
    assert!(!symbol.is_empty(), "error without a symbol");
    assert!(!message.is_empty(), "error {symbol:?} without a message");
}

/// A contact plist: a list of keyword/value pairs, keywords first.
fn assert_plist(value: &Value) {
    let items = match value {
        Value::List(items) => items,
        Value::Nil => return,
        other => panic!("contact is not a list: {other}"),
    };
    assert!(items.len() % 2 == 0, "contact of odd length: {value}");
    for key in items.iter().step_by(2) {
        assert!(key.as_symbol().is_some(), "contact key {key} is not a symbol in {value}");
    }
}
