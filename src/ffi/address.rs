//! Network addresses, the Emacs primitives that need no context and read or produce
//! address values (`[127 0 0 1 8080]`, `(NAME . ADDRESS)`): `format-network-address`,
//! `network-lookup-address-info`, `network-interface-list` and `network-interface-info`.
//! The feature list, which is about make-network-process rather than addresses, is in
//! `features.rs`.

use std::ffi::{c_char, CStr};

use super::boundary::{input, ok_or_return, optional_input, out_ptr};
use super::guard::{fail, fail_argument, guard};
use super::status::netproc_status::{self, *};
use super::value::{netproc_value, write_out};
use crate::core::interfaces;
use crate::core::Value;

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

/// `network-interface-list`: a LIST of (NAME . ADDRESS) CONSes, or with `full` of
/// (NAME ADDRESS BROADCAST NETMASK) LISTs, for IPv4 and IPv6; addresses carry port 0.
/// `family` is NULL or NIL (both), or the SYMBOL ipv4 or ipv6; anything else is
/// (error "Unsupported address family").
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_network_interface_list(
    full: bool,
    family: *const netproc_value,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_network_interface_list";
        let family = ok_or_return!(unsafe { optional_input(family, FUNCTION, "family") });
        ok_or_return!(out_ptr(None, out, FUNCTION));
        match interfaces::network_interface_list(full, &family) {
            // SAFETY: checked not NULL.
            Ok(list) => unsafe { write_out(out, &list) },
            Err(error) => fail(None, &error),
        }
    })
}

/// `network-interface-info`: (ADDRESS BROADCAST NETMASK HWADDR FLAGS) of an IPv4 interface,
/// each NIL when unknown, or NIL for an unknown interface. A name of 16 bytes or more is
/// (error "interface name too long").
///
/// Ownership: caller owns *out; release it with netproc_value_free(). name is only read.
/// Lifetime:  until released.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_network_interface_info(
    name: *const c_char,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_network_interface_info";
        if name.is_null() {
            return fail_argument(None, NETPROC_E_NULL, &format!("{FUNCTION}: name is NULL"));
        }
        ok_or_return!(out_ptr(None, out, FUNCTION));
        // SAFETY: not NULL; the host promises a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        match interfaces::network_interface_info(name) {
            // SAFETY: checked not NULL.
            Ok(info) => unsafe { write_out(out, &info) },
            Err(error) => fail(None, &error),
        }
    })
}

/// `network-lookup-address-info`: a LIST of address VECTORs (port 0) for `name`. `family` is
/// NULL/NIL, ipv4 or ipv6, else (error "Unsupported lookup type"). A failed lookup is not an
/// error: *out is NIL and, if `message` is not NULL, it receives the STRING Emacs would show
/// ("NAME/0 Name or service not known"); otherwise *message is NIL. This may block while the
/// system resolves the name.
///
/// Ownership: caller owns *out and *message; release them with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_network_lookup_address_info(
    name: *const c_char,
    family: *const netproc_value,
    out: *mut netproc_value,
    message: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_network_lookup_address_info";
        if name.is_null() {
            return fail_argument(None, NETPROC_E_NULL, &format!("{FUNCTION}: name is NULL"));
        }
        let family = ok_or_return!(unsafe { optional_input(family, FUNCTION, "family") });
        ok_or_return!(out_ptr(None, out, FUNCTION));
        // SAFETY: not NULL; the host promises a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        let (found, said) = match interfaces::network_lookup_address_info(name, &family, &Value::Nil) {
            Ok(Ok(found)) => (found, Value::Nil),
            Ok(Err(text)) => (Value::Nil, Value::string(text)),
            Err(error) => return fail(None, &error),
        };
        // SAFETY: out checked not NULL; message written only when not NULL.
        unsafe {
            write_out(out, &found);
            if !message.is_null() {
                write_out(message, &said);
            }
        }
        NETPROC_OK
    })
}
