//! The `address` target: Lisp address values through the parser (`Address::from_value`),
//! the sockaddr conversions and `format-network-address`, in Rust and through the C entry
//! point, checking that each form round-trips into the others.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use super::input::{node, well_formed, Input};
use super::lower::Arena;
use super::take_value;
use crate::core::address::{format_network_address, Address};
use crate::core::error::Symbol;
use crate::core::Value;
use crate::ffi::process::netproc_format_network_address;
use crate::ffi::status::netproc_status::*;
use crate::ffi::value::{from_c, netproc_nil, release, to_c};

/// Run one input; panics on a broken invariant.
pub fn address(data: &[u8]) {
    let mut input = Input::new(data);
    let garbage = input.flag();
    let shape = node(&mut input, 0, false);
    assert!(well_formed(&shape, 0));
    let mut arena = Arena::default();
    let c_value = arena.lower(&shape, garbage);
    // SAFETY: the arena keeps everything c_value points at.
    let value = match unsafe { from_c(&c_value) } {
        Ok(value) => value,
        Err(bad) => panic!("well-formed {shape:?} refused: {}", bad.0),
    };

    // The value itself survives the trip out to C and back.
    let mut owned = to_c(&value);
    // SAFETY: to_c wrote it; released once below.
    let back = unsafe { from_c(&owned) }.ok().map(|v| v.prin1());
    // SAFETY: as above.
    unsafe { release(&mut owned) };
    assert_eq!(back, Some(value.prin1()), "value changed on the way out through C");

    match Address::from_value(&value) {
        Ok(address) => check_address(&address),
        Err(error) => {
            let message = error.message();
            let expected = match error.symbol {
                Symbol::Error => message == "Malformed :address" || message == "Unix socket path too long",
                // A port outside 0–65535, a NUL inside a unix path.
                Symbol::ArgsOutOfRange => message.ends_with(", 0, 65535"),
                Symbol::WrongTypeArgument => message.starts_with("Wrong type argument: filenamep, "),
                _ => false,
            };
            assert!(expected, "unexpected parse error ({}) {message}", error.symbol);
        }
    }
    for omit_port in [false, true] {
        check_format(&value, omit_port);
        // The C entry point says the same.
        let mut out = netproc_nil();
        // SAFETY: c_value is valid (the arena is alive); out is a valid out-pointer.
        let status = unsafe { netproc_format_network_address(&c_value, omit_port, &mut out) };
        match format_network_address(&value, omit_port) {
            Ok(text) => {
                assert_eq!(status, NETPROC_OK);
                assert_eq!(take_value(&mut out).prin1(), text.prin1());
            }
            Err(_) => {
                assert_eq!(status, NETPROC_E_ERROR);
                super::assert_error_recorded(std::ptr::null_mut(), status);
            }
        }
    }
    let family = input.integer() as i32;
    let zero = Address::zeroed_like(family);
    assert_eq!(Address::from_value(&zero.to_value()).ok(), Some(zero));
}

/// A parsed address: its Lisp form, sockaddr and text all give it back.
fn check_address(address: &Address) {
    assert_eq!(Address::from_value(&address.to_value()).as_ref().ok(), Some(address), "Lisp form round trip");
    let through_kernel_form = match address {
        Address::Inet4 { .. } | Address::Inet6 { .. } => true,
        // A pathname stops at its first NUL; an abstract name keeps them all. The empty
        // (unnamed) path is written as an abstract empty name.
        Address::Local(path) => !path.is_empty() && (path[0] == 0 || !path.contains(&0)),
        Address::Other { .. } => false,
    };
    if through_kernel_form {
        assert_eq!(&Address::from_sockaddr(&address.to_sockaddr()), address, "sockaddr round trip");
    }
    match address {
        Address::Inet4 { octets, port } => {
            let text = address.host_text().unwrap_or_default();
            assert_eq!(text.parse::<Ipv4Addr>().ok(), Some(Ipv4Addr::from(*octets)), "host text {text}");
            let formatted = formatted(address, false);
            assert_eq!(
                formatted.parse::<SocketAddrV4>().ok(),
                Some(SocketAddrV4::new((*octets).into(), *port))
            );
        }
        Address::Inet6 { groups, port } => {
            let ip = Ipv6Addr::from(*groups);
            let text = address.host_text().unwrap_or_default();
            assert_eq!(text.parse::<Ipv6Addr>().ok(), Some(ip), "host text {text}");
            let formatted = formatted(address, false);
            assert_eq!(formatted.parse::<SocketAddrV6>().ok(), Some(SocketAddrV6::new(ip, *port, 0, 0)));
            assert_eq!(self::formatted(address, true).parse::<Ipv6Addr>().ok(), Some(ip));
        }
        Address::Local(path) => match format_network_address(&address.to_value(), false) {
            Ok(Value::Str(text)) => assert_eq!(&text[..], &path[..]),
            other => panic!("{address:?} formats as {other:?}"),
        },
        Address::Other { family, .. } => assert_eq!(formatted(address, false), format!("<Family {family}>")),
    }
}

fn formatted(address: &Address, omit_port: bool) -> String {
    match format_network_address(&address.to_value(), omit_port) {
        Ok(Value::Str(text)) => String::from_utf8_lossy(&text).into_owned(),
        other => panic!("{address:?} does not format: {other:?}"),
    }
}

/// `format-network-address` of any value: a vector of integers formats exactly when it is an
/// address whose numbers fit, and its text parses back to those numbers.
fn check_format(value: &Value, omit_port: bool) {
    let Ok(result) = format_network_address(value, omit_port) else { return };
    let Value::Vector(items) = value else { return };
    let ints: Option<Vec<i64>> =
        items.iter().map(|item| if let Value::Int(n) = item { Some(*n) } else { None }).collect();
    let Some(ints) = ints else {
        assert!(result.is_nil(), "a vector of non-integers formats as {result}");
        return;
    };
    let (address_len, max) = match ints.len() {
        4 | 5 => (4, 255),
        8 | 9 => (8, 65535),
        _ => {
            assert!(result.is_nil(), "{value} formats as {result}");
            return;
        }
    };
    let port = (ints.len() > address_len && !omit_port).then(|| ints[address_len]);
    let fits = ints[..address_len].iter().all(|n| (0..=max).contains(n))
        && port.is_none_or(|p| (0..=65535).contains(&p));
    let Value::Str(text) = result else {
        assert!(!fits, "{value} is an address but formats as nil");
        return;
    };
    assert!(fits, "{value} is not an address but formats");
    let text = String::from_utf8_lossy(&text).into_owned();
    let (host, port_text) = match (address_len, port) {
        (4, Some(_)) => {
            text.rsplit_once(':').map(|(h, p)| (h.to_string(), Some(p.to_string()))).unwrap_or_default()
        }
        (_, Some(_)) => text
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("]:"))
            .map(|(h, p)| (h.to_string(), Some(p.to_string())))
            .unwrap_or_default(),
        _ => (text.clone(), None),
    };
    let parsed: Vec<i64> = if address_len == 4 {
        host.parse::<Ipv4Addr>().map(|ip| ip.octets().iter().map(|b| *b as i64).collect()).unwrap_or_default()
    } else {
        host.parse::<Ipv6Addr>()
            .map(|ip| ip.segments().iter().map(|g| *g as i64).collect())
            .unwrap_or_default()
    };
    assert_eq!(parsed, ints[..address_len], "{text} does not read back as {value}");
    assert_eq!(port_text.and_then(|p| p.parse::<i64>().ok()), port, "{text}: port of {value}");
}
