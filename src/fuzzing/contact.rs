//! The `contact` target: the contact plist make-network-process builds from its arguments,
//! and the one an accepted connection inherits from its server, read back through
//! netproc_process_contact.

use std::ffi::CString;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::input::{node, Input, Node};
use super::lower::Arena;
use super::sandbox::{confine, sink, Footprint};
use super::{assert_error_recorded, assert_plist, take_value};
use crate::core::address::Address;
use crate::core::Value;
use crate::ffi::context::{netproc_context_free, netproc_context_new, netproc_poll};
use crate::ffi::process::*;
use crate::ffi::status::netproc_status::*;
use crate::ffi::value::{from_c, netproc_arg, netproc_nil};
use crate::ffi::{netproc_context, netproc_process};

/// Keys the builder keeps as given; the rest may be filled in from the socket.
const REWRITTEN: &[&str] = &[":host", ":service", ":local", ":remote"];

/// Keys worth combining (make-network-process's own, with its options).
const KEYS: &[&str] = &[
    ":type",
    ":server",
    ":nowait",
    ":host",
    ":service",
    ":family",
    ":local",
    ":remote",
    ":buffer",
    ":coding",
    ":filter",
    ":sentinel",
    ":log",
    ":plist",
    ":stop",
    ":noquery",
    ":filter-multibyte",
    ":linger",
    ":keepalive",
    ":reuseaddr",
    ":priority",
    ":unknown-key",
];

/// Run one input; panics on a broken invariant.
pub fn contact(data: &[u8]) {
    let sink = sink();
    let before = Footprint::now();
    if sink.port != 0 {
        run(&mut Input::new(data));
    }
    sink.drain();
    before.assert_restored("contact");
}

fn run(input: &mut Input<'_>) {
    let shape = input.byte();
    let server = shape & 1 != 0;
    let mut args: Vec<(Option<Vec<u8>>, Node)> =
        vec![(Some(b":name".to_vec()), Node::Str(input.bytes(12).to_vec()))];
    let family = (shape >> 1) & 3;
    let push = |args: &mut Vec<_>, key: &str, value| args.push((Some(key.as_bytes().to_vec()), value));
    if server {
        push(
            &mut args,
            ":server",
            if shape & 0x40 != 0 { Node::Int(input.below(4) as i64) } else { Node::T },
        );
    }
    match family {
        1 => push(&mut args, ":family", Node::Sym(b"ipv4".to_vec())),
        2 => push(&mut args, ":family", Node::Sym(b"ipv6".to_vec())),
        3 => push(&mut args, ":family", Node::Sym(b"local".to_vec())),
        _ => {}
    }
    let service = match (family, server) {
        (3, _) => Node::Str(input.bytes(20).to_vec()),
        (_, true) => Node::T,
        (_, false) => Node::Int(1),
    };
    push(&mut args, ":service", service);
    if shape & 8 != 0 {
        push(&mut args, ":type", Node::Sym(b"datagram".to_vec()));
    }
    for _ in 0..input.below(6) {
        let key = KEYS[input.below(KEYS.len())];
        let value = node(input, 0, false);
        push(&mut args, key, value);
    }
    if shape & 0x10 != 0 {
        // Move the name elsewhere: order is the builder's business to keep.
        let first = args.remove(0);
        let at = input.below(args.len() + 1);
        args.insert(at, first);
    }
    confine(&mut args, sink());

    let mut arena = Arena::default();
    let keys: Vec<CString> =
        args.iter().map(|(k, _)| CString::new(k.clone().unwrap_or_default()).unwrap_or_default()).collect();
    let c_args: Vec<netproc_arg> = args
        .iter()
        .zip(&keys)
        .map(|((_, value), key)| netproc_arg { key: key.as_ptr(), value: arena.lower(value, false) })
        .collect();
    // What the decoder made of each value, as the contact should show it.
    let given: Vec<(String, Value)> = keys
        .iter()
        .zip(&c_args)
        .map(|(key, arg)| {
            // SAFETY: the arena keeps the value's memory alive.
            let value = unsafe { from_c(&arg.value) }.unwrap_or_else(|bad| panic!("refused: {}", bad.0));
            (key.to_string_lossy().into_owned(), value)
        })
        .collect();

    let mut ctx: *mut netproc_context = std::ptr::null_mut();
    // SAFETY: valid out-pointers throughout; the arena outlives the call.
    unsafe {
        assert_eq!(netproc_context_new(&mut ctx), NETPROC_OK);
        let mut process: *mut netproc_process = std::ptr::null_mut();
        let status = netproc_make_network_process(ctx, c_args.as_ptr(), c_args.len(), &mut process);
        assert_ne!(status, NETPROC_E_PANIC);
        if status == NETPROC_OK {
            let contact = check_contact(process, &given);
            if server {
                check_accepted(ctx, process, &contact);
            }
            netproc_process_free(process);
        } else {
            assert_error_recorded(ctx, status);
        }
        assert_eq!(netproc_context_free(ctx), NETPROC_OK);
    }
}

fn contact_of(process: *mut netproc_process, key: Option<&str>) -> Value {
    let key = key.map(|k| CString::new(k).unwrap_or_default());
    let mut out = netproc_nil();
    // SAFETY: a live handle and a valid out-pointer.
    let status = unsafe {
        netproc_process_contact(
            process,
            key.as_ref().map_or(std::ptr::null(), |k| k.as_ptr()),
            false,
            &mut out,
        )
    };
    assert_eq!(status, NETPROC_OK);
    take_value(&mut out)
}

fn pairs(contact: &Value) -> Vec<(String, Value)> {
    assert_plist(contact);
    match contact {
        Value::List(items) => items
            .chunks(2)
            .map(|pair| (pair[0].as_symbol().unwrap_or_default().to_string(), pair[1].clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Every given pair, in order and with its value unless the socket rewrote it; every key
/// reads back as its first value; (HOST SERVICE) matches; addresses parse.
fn check_contact(process: *mut netproc_process, given: &[(String, Value)]) -> Vec<(String, Value)> {
    let all = contact_of(process, Some("t"));
    let contact = pairs(&all);
    assert!(contact.len() >= given.len(), "contact {all} lost pairs of {given:?}");
    for ((key, value), (got_key, got)) in given.iter().zip(&contact) {
        assert_eq!(key, got_key, "contact {all} reorders the arguments");
        if !REWRITTEN.contains(&key.as_str()) {
            assert_eq!(value.prin1(), got.prin1(), "{key} changed in {all}");
        }
    }
    let first = |key: &str| contact.iter().find(|(k, _)| k == key).map_or(Value::Nil, |(_, v)| v.clone());
    for (key, _) in &contact {
        assert_eq!(contact_of(process, Some(key)).prin1(), first(key).prin1(), "(process-contact p {key})");
    }
    let host_service = Value::list(vec![first(":host"), first(":service")]);
    assert_eq!(contact_of(process, None).prin1(), host_service.prin1());
    // Addresses netproc filled in parse (what the host gave under an unused key is its own).
    for key in [":local", ":remote"] {
        let value = first(key);
        let as_given = given.iter().any(|(k, v)| k == key && v.prin1() == value.prin1());
        if value.is_non_nil() && !as_given {
            assert!(Address::from_value(&value).is_ok(), "{key} {value} does not parse in {all}");
        }
    }
    // SAFETY: a live handle.
    let status = unsafe { std::ffi::CStr::from_ptr(netproc_process_status(process)) };
    if status.to_bytes() == b"listen" {
        if let Ok(local @ (Address::Inet4 { .. } | Address::Inet6 { .. })) =
            Address::from_value(&first(":local"))
        {
            assert_eq!(first(":service").prin1(), Value::Int(local.port().unwrap_or(0) as i64).prin1());
        }
    }
    contact
}

fn connect(local: &Address) -> io::Result<Box<dyn std::any::Any>> {
    let timeout = Duration::from_secs(1);
    match local {
        Address::Inet4 { octets, port } => {
            Ok(Box::new(TcpStream::connect_timeout(&SocketAddr::from((*octets, *port)), timeout)?))
        }
        Address::Inet6 { groups, port } => Ok(Box::new(TcpStream::connect_timeout(
            &SocketAddr::from((std::net::Ipv6Addr::from(*groups), *port)),
            timeout,
        )?)),
        Address::Local(name) if name.len() > 1 && name[0] == 0 => {
            let address = std::os::unix::net::SocketAddr::from_abstract_name(&name[1..])?;
            Ok(Box::new(UnixStream::connect_addr(&address)?))
        }
        _ => Err(io::ErrorKind::Unsupported.into()),
    }
}

/// A connection to a listening server becomes a process whose contact is the server's with
/// :server nil and the peer's :host, :service, :remote and :local.
unsafe fn check_accepted(
    ctx: *mut netproc_context,
    server: *mut netproc_process,
    contact: &[(String, Value)],
) {
    // SAFETY: a live handle.
    let status = unsafe { std::ffi::CStr::from_ptr(netproc_process_status(server)) };
    if status.to_bytes() != b"listen" {
        return;
    }
    let first = |key: &str| contact.iter().find(|(k, _)| k == key).map_or(Value::Nil, |(_, v)| v.clone());
    let Ok(local) = Address::from_value(&first(":local")) else { return };
    let Ok(client) = connect(&local) else { return };
    let count = || {
        let mut count = 0;
        // SAFETY: a live context; capacity 0 needs no array.
        assert_eq!(unsafe { netproc_process_list(ctx, std::ptr::null_mut(), 0, &mut count) }, NETPROC_OK);
        count
    };
    let listed = count();
    for _ in 0..200 {
        if count() > listed {
            break;
        }
        // SAFETY: a live context, not inside a callback.
        assert!(unsafe { netproc_poll(ctx, 5) } >= 0);
    }
    if count() == listed {
        // The log function or sentinel may have deleted it; nothing to look at.
        return;
    }
    let mut newest: *mut netproc_process = std::ptr::null_mut();
    let mut total = 0;
    // SAFETY: room for one handle.
    assert_eq!(unsafe { netproc_process_list(ctx, &mut newest, 1, &mut total) }, NETPROC_OK);
    let accepted_all = contact_of(newest, Some("t"));
    let accepted = pairs(&accepted_all);
    assert!(accepted.len() >= contact.len());
    for ((key, value), (got_key, got)) in contact.iter().zip(&accepted) {
        assert_eq!(key, got_key, "accepted contact {accepted_all} reorders the server's");
        if !matches!(key.as_str(), ":server" | ":host" | ":service" | ":remote" | ":local") {
            assert_eq!(value.prin1(), got.prin1(), "{key} not inherited in {accepted_all}");
        }
    }
    let got = |key: &str| accepted.iter().find(|(k, _)| k == key).map_or(Value::Nil, |(_, v)| v.clone());
    assert!(got(":server").is_nil(), "accepted :server is {}", got(":server"));
    let remote = Address::from_value(&got(":remote")).unwrap_or_else(|e| panic!("accepted :remote: {e}"));
    match remote.host_text() {
        Some(text) => {
            assert_eq!(got(":host").prin1(), Value::string(text).prin1());
            assert_eq!(got(":service").prin1(), Value::Int(remote.port().unwrap_or(0) as i64).prin1());
            if let Some(stream) = client.downcast_ref::<TcpStream>() {
                let mine = stream.local_addr().map(|a| Address::from_sockaddr(&a.into()));
                assert_eq!(mine.ok(), Some(remote), "accepted :remote is not the client");
            }
        }
        None => assert!(got(":host").is_symbol("t"), "unix peer :host is {}", got(":host")),
    }
    assert!(Address::from_value(&got(":local")).is_ok());
    let mut length = 0;
    // SAFETY: live handles; the names stay valid while they are.
    let (server_name, name) = unsafe {
        let server_name = netproc_process_name(server, &mut length);
        let server_name = std::slice::from_raw_parts(server_name.cast::<u8>(), length).to_vec();
        let name = netproc_process_name(newest, &mut length);
        (server_name, std::slice::from_raw_parts(name.cast::<u8>(), length).to_vec())
    };
    let mut prefix = server_name;
    prefix.extend_from_slice(b" <");
    assert!(name.starts_with(&prefix), "accepted name {:?}", String::from_utf8_lossy(&name));
    drop(client);
}
