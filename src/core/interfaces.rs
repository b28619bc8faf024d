//! Network interface and address queries: `network-interface-list`,
//! `network-interface-info`, `network-lookup-address-info`, and the capability list behind
//! `(featurep 'make-network-process …)`.

use std::ffi::CStr;
use std::io;
use std::os::fd::AsRawFd;

use super::address::{sockaddr_from_raw, Address};
use super::error::{Error, Result};
use super::resolve::{lookup, Lookup};
use super::socket::{new_socket, SocketKind, OPTION_KEYWORDS};
use super::value::Value;

/// Which families a query covers.
fn family_filter(family: &Value, message: &str) -> Result<Option<i32>> {
    match family.as_symbol() {
        Some("nil") => Ok(None),
        Some("ipv4") => Ok(Some(libc::AF_INET)),
        Some("ipv6") => Ok(Some(libc::AF_INET6)),
        _ => Err(Error::msg(message)),
    }
}

/// `network-interface-list`: `((NAME . ADDR) …)`, or with `full`
/// `((NAME ADDR BROADCAST NETMASK) …)`, IPv4 and IPv6 only, in the reverse of the OS's order.
pub fn network_interface_list(full: bool, family: &Value) -> Result<Value> {
    let wanted = family_filter(family, "Unsupported address family")?;
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with an allocation we free below.
    if unsafe { libc::getifaddrs(&mut list) } == -1 {
        return Err(Error::file("Getting interface list", &io::Error::last_os_error(), vec![]));
    }
    let mut entries = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: cursor walks the list getifaddrs returned, valid until freeifaddrs.
        let entry = unsafe { &*cursor };
        cursor = entry.ifa_next;
        let Some(address) = (unsafe { read_sockaddr(entry.ifa_addr) }) else { continue };
        if !matches!(address, Address::Inet4 { .. } | Address::Inet6 { .. }) {
            continue;
        }
        if wanted.is_some_and(|family| family != address.family()) {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string in the list.
        let name = Value::string(unsafe { CStr::from_ptr(entry.ifa_name) }.to_bytes());
        let address = with_port_zero(address);
        if full {
            let netmask = unsafe { read_sockaddr(entry.ifa_netmask) }.map(with_port_zero);
            let broadcast = netmask.as_ref().map(|mask| broadcast_of(&address, mask));
            entries.push(Value::list(vec![
                name,
                address.to_value(),
                broadcast.map_or(Value::Nil, |b| b.to_value()),
                netmask.map_or(Value::Nil, |m| m.to_value()),
            ]));
        } else {
            entries.push(Value::cons(name, address.to_value()));
        }
    }
    // SAFETY: list came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    entries.reverse();
    Ok(Value::list(entries))
}

/// Read an optional sockaddr from getifaddrs.
unsafe fn read_sockaddr(raw: *const libc::sockaddr) -> Option<Address> {
    if raw.is_null() {
        return None;
    }
    // SAFETY: getifaddrs addresses are at least as long as their family's sockaddr.
    let family = unsafe { (*raw).sa_family } as i32;
    let length = match family {
        libc::AF_INET => std::mem::size_of::<libc::sockaddr_in>(),
        libc::AF_INET6 => std::mem::size_of::<libc::sockaddr_in6>(),
        _ => return None,
    };
    Some(Address::from_sockaddr(&unsafe { sockaddr_from_raw(raw, length as libc::socklen_t) }))
}

fn with_port_zero(address: Address) -> Address {
    match address {
        Address::Inet4 { octets, .. } => Address::Inet4 { octets, port: 0 },
        Address::Inet6 { groups, .. } => Address::Inet6 { groups, port: 0 },
        other => other,
    }
}

/// Emacs computes the broadcast address as ADDRESS | ~NETMASK rather than asking the OS.
fn broadcast_of(address: &Address, netmask: &Address) -> Address {
    match (address, netmask) {
        (Address::Inet4 { octets, .. }, Address::Inet4 { octets: mask, .. }) => {
            let mut out = [0u8; 4];
            for i in 0..4 {
                out[i] = octets[i] | !mask[i];
            }
            Address::Inet4 { octets: out, port: 0 }
        }
        (Address::Inet6 { groups, .. }, Address::Inet6 { groups: mask, .. }) => {
            let mut out = [0u16; 8];
            for i in 0..8 {
                out[i] = groups[i] | !mask[i];
            }
            Address::Inet6 { groups: out, port: 0 }
        }
        _ => address.clone(),
    }
}

/// Interface flags in Emacs's table order; the result lists them reversed.
const FLAG_NAMES: &[(i32, &str)] = &[
    (libc::IFF_UP, "up"),
    (libc::IFF_BROADCAST, "broadcast"),
    (libc::IFF_DEBUG, "debug"),
    (libc::IFF_LOOPBACK, "loopback"),
    (libc::IFF_POINTOPOINT, "pointopoint"),
    (libc::IFF_RUNNING, "running"),
    (libc::IFF_NOARP, "noarp"),
    (libc::IFF_PROMISC, "promisc"),
    (libc::IFF_NOTRAILERS, "notrailers"),
    (libc::IFF_ALLMULTI, "allmulti"),
    (libc::IFF_MASTER, "master"),
    (libc::IFF_SLAVE, "slave"),
    (libc::IFF_MULTICAST, "multicast"),
    (libc::IFF_PORTSEL, "portsel"),
    (libc::IFF_AUTOMEDIA, "automedia"),
    (libc::IFF_DYNAMIC, "dynamic"),
];

/// `network-interface-info`: `(ADDR BCAST NETMASK HWADDR FLAGS)` for an IPv4 interface,
/// each nil when the OS has no answer; nil for an unknown interface.
pub fn network_interface_info(name: &[u8]) -> Result<Value> {
    if name.len() >= libc::IFNAMSIZ {
        return Err(Error::msg("interface name too long"));
    }
    let socket = new_socket(libc::AF_INET, SocketKind::Datagram)
        .map_err(|err| Error::file("Cannot create socket", &err, vec![]))?;
    let query = |request: libc::c_ulong| -> Option<libc::ifreq> {
        // SAFETY: ifreq is plain old data; zeroed is a valid starting value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, byte) in ifr.ifr_name.iter_mut().zip(name) {
            *slot = *byte as libc::c_char;
        }
        // SAFETY: the request codes used here all read and write an ifreq.
        let rc = unsafe { libc::ioctl(socket.as_raw_fd(), request, &mut ifr) };
        (rc == 0).then_some(ifr)
    };
    let address_of = |request| {
        query(request).and_then(|ifr| {
            // SAFETY: these requests fill the union's sockaddr member.
            let raw = unsafe { &ifr.ifr_ifru.ifru_addr } as *const libc::sockaddr;
            unsafe { read_sockaddr(raw) }.map(|a| with_port_zero(a).to_value())
        })
    };
    let address = address_of(libc::SIOCGIFADDR);
    let broadcast = address_of(libc::SIOCGIFBRDADDR);
    let netmask = address_of(libc::SIOCGIFNETMASK);
    let hardware = query(libc::SIOCGIFHWADDR).map(|ifr| {
        // SAFETY: SIOCGIFHWADDR fills ifru_hwaddr.
        let hw = unsafe { ifr.ifr_ifru.ifru_hwaddr };
        let bytes: Vec<Value> = hw.sa_data[..6].iter().map(|b| Value::Int(*b as u8 as i64)).collect();
        Value::cons(Value::Int(hw.sa_family as i64), Value::vector(bytes))
    });
    let flags = query(libc::SIOCGIFFLAGS).map(|ifr| {
        // SAFETY: SIOCGIFFLAGS fills ifru_flags.
        flag_list(unsafe { ifr.ifr_ifru.ifru_flags } as u16 as i32)
    });
    let parts = [address, broadcast, netmask, hardware, flags];
    if parts.iter().all(Option::is_none) {
        return Ok(Value::Nil);
    }
    Ok(Value::list(parts.into_iter().map(|part| part.unwrap_or(Value::Nil)).collect::<Vec<_>>()))
}

fn flag_list(mut flags: i32) -> Value {
    let mut symbols = Vec::new();
    for (bit, name) in FLAG_NAMES {
        if flags & bit != 0 {
            symbols.push(Value::symbol(name));
            flags &= !bit;
        }
    }
    // Bits without a name: Emacs counts them from the lowest remaining one.
    let mut number = 0;
    while flags != 0 && number < 32 {
        if flags & 1 != 0 {
            symbols.push(Value::Int(number));
        }
        flags >>= 1;
        number += 1;
    }
    symbols.reverse();
    Value::list(symbols)
}

/// `network-lookup-address-info`: the addresses of `name` with port 0. A failed lookup is
/// not an error: it gives Ok(Err(message)), the text Emacs shows with `message`. `hints` is
/// Emacs 29's third argument: nil, or `numeric` for a literal address only (AI_NUMERICHOST,
/// no DNS traffic); checked after `family`, as Emacs 30's src/process.c does. Emacs 28
/// has no such argument: its callers pass nil.
pub fn network_lookup_address_info(
    name: &[u8],
    family: &Value,
    hints: &Value,
) -> Result<std::result::Result<Value, String>> {
    let family = family_filter(family, "Unsupported lookup type")?.unwrap_or(libc::AF_UNSPEC);
    let numeric_host = match hints.as_symbol() {
        Some("nil") => false,
        Some("numeric") => true,
        _ => return Err(Error::msg("Unsupported hints value")),
    };
    if !name.is_ascii() {
        return Err(Error::msg(format!(
            "Non-ASCII hostname {} detected, please use puny-encode-domain",
            String::from_utf8_lossy(name)
        )));
    }
    let query =
        Lookup { host: name.to_vec(), service: "0".into(), family, socktype: libc::SOCK_DGRAM, numeric_host };
    // Emacs passes no service; ours is "0", so the message reads NAME/0 just the same.
    Ok(match lookup(&query) {
        Ok(addresses) => {
            Ok(Value::list(addresses.into_iter().map(|a| with_port_zero(a).to_value()).collect::<Vec<_>>()))
        }
        Err(error) => Err(error.message()),
    })
}

/// netproc's own keywords of `make-network-process` and `set-network-process-option`
/// beyond Emacs's and beyond the socket options (README, "Beyond Emacs").
pub(crate) const EXTENSION_KEYWORDS: &[&str] =
    &[":attempt-delay", ":connect-timeout", ":drain", ":framing", ":framing-max", ":high-water"];

/// The subfeatures of `make-network-process`, as `(get 'make-network-process 'subfeatures)`:
/// Emacs's, with netproc's own keywords among the options, then the framings netproc
/// offers (`(:framing line)`, …).
pub fn network_features() -> Value {
    let pair = |key: &str, value: Value| Value::list(vec![Value::symbol(key), value]);
    let keywords = OPTION_KEYWORDS.iter().chain(EXTENSION_KEYWORDS);
    let mut features: Vec<Value> = keywords.rev().map(|k| Value::symbol(k)).collect();
    features.extend([
        pair(":server", Value::T),
        pair(":service", Value::T),
        pair(":family", Value::symbol("ipv6")),
        pair(":family", Value::symbol("ipv4")),
        pair(":family", Value::symbol("local")),
        pair(":type", Value::symbol("seqpacket")),
        pair(":type", Value::symbol("datagram")),
        pair(":nowait", Value::T),
        // netproc's own, after Emacs's: the framings of `:framing` (framing.rs).
        pair(":framing", Value::symbol("line")),
        pair(":framing", Value::symbol("content-length")),
        pair(":framing", Value::symbol("length-prefix")),
    ]);
    Value::list(features)
}

/// `(featurep 'make-network-process SUBFEATURE)`: nil asks about the feature itself; a
/// keyword asks about an option; a list such as `(:family ipv6)` about a capability.
pub fn network_featurep(subfeature: &Value) -> bool {
    if subfeature.is_nil() {
        return true;
    }
    let Value::List(features) = network_features() else { return false };
    features.iter().any(|feature| lisp_equal(feature, subfeature))
}

fn lisp_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) | (Value::Vector(x), Value::Vector(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| lisp_equal(p, q))
        }
        (Value::Cons(a1, d1), Value::Cons(a2, d2)) => lisp_equal(a1, a2) && lisp_equal(d1, d2),
        _ => a.same(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_emacs_shapes() {
        let list = network_interface_list(false, &Value::symbol("ipv4")).unwrap().prin1();
        assert!(list.contains("(\"lo\" . [127 0 0 1 0])"), "{list}");
        let full = network_interface_list(true, &Value::Nil).unwrap().prin1();
        assert!(full.contains("(\"lo\" [127 0 0 1 0] [127 255 255 255 0] [255 0 0 0 0])"), "{full}");
        assert!(network_interface_list(false, &Value::symbol("local")).is_err());
    }

    #[test]
    fn loopback_info_matches_emacs() {
        let info = network_interface_info(b"lo").unwrap().prin1();
        assert_eq!(
            info,
            "([127 0 0 1 0] [0 0 0 0 0] [255 0 0 0 0] (772 . [0 0 0 0 0 0]) (running loopback up))"
        );
        assert!(network_interface_info(b"nosuchif0").unwrap().is_nil());
        assert_eq!(
            network_interface_info(b"0123456789abcdef").unwrap_err().message(),
            "interface name too long"
        );
    }

    #[test]
    fn lookups_and_features() {
        let lookup = |name: &[u8], family: &str| {
            network_lookup_address_info(name, &Value::symbol(family), &Value::Nil)
        };
        let found = lookup(b"127.0.0.1", "ipv4").unwrap().unwrap();
        assert_eq!(found.prin1(), "([127 0 0 1 0])");
        let failed = lookup(b"127.0.0.1", "ipv6").unwrap().unwrap_err();
        assert!(failed.starts_with("127.0.0.1/0 "), "{failed}");
        assert!(lookup(b"x", "foo").is_err());
        // Emacs 29's HINTS: `numeric` takes what inet_aton takes, and no name.
        let numeric =
            |name: &[u8], hints: Value| network_lookup_address_info(name, &Value::symbol("ipv4"), &hints);
        assert_eq!(numeric(b"127.1", Value::symbol("numeric")).unwrap().unwrap().prin1(), "([127 0 0 1 0])");
        assert!(numeric(b"localhost", Value::symbol("numeric")).unwrap().is_err());
        assert!(numeric(b"localhost", Value::Nil).unwrap().is_ok());
        assert_eq!(numeric(b"x", Value::symbol("all")).unwrap_err().message(), "Unsupported hints value");
        // The family is checked first.
        let both_bad = network_lookup_address_info(b"x", &Value::symbol("foo"), &Value::symbol("all"));
        assert_eq!(both_bad.unwrap_err().message(), "Unsupported lookup type");
        assert!(network_featurep(&Value::list(vec![Value::symbol(":family"), Value::symbol("ipv6")])));
        assert!(network_featurep(&Value::symbol(":keepalive")));
        assert!(network_featurep(&Value::symbol(":nodelay")));
        assert!(network_featurep(&Value::symbol(":connect-timeout")));
        assert!(network_featurep(&Value::symbol(":attempt-delay")));
        assert!(!network_featurep(&Value::symbol(":nosuchoption")));
        assert!(!network_featurep(&Value::list(vec![Value::symbol(":nowait"), Value::Nil])));
        for framing in ["line", "content-length", "length-prefix"] {
            assert!(network_featurep(&Value::list(vec![Value::symbol(":framing"), Value::symbol(framing)])));
        }
        assert!(network_featurep(&Value::symbol(":framing-max")));
        assert!(!network_featurep(&Value::list(vec![Value::symbol(":framing"), Value::symbol("json")])));
    }
}
