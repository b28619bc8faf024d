//! Socket addresses in Emacs's Lisp forms: `[A B C D PORT]`, `[G1 … G8 PORT]`, a unix path
//! string, or `(FAMILY . [BYTES…])`, and their conversions to and from `sockaddr`s.

use std::mem;

use socket2::SockAddr;

use super::error::{Error, Result};
use super::short_text::HostText;
use super::value::Value;

/// Size of `sun_path` on Linux: a path must fit with its terminating NUL.
pub const UNIX_PATH_MAX: usize = 108;

/// A socket address as netproc reports and accepts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// IPv4 address and port.
    Inet4 {
        /// The four bytes, most significant first.
        octets: [u8; 4],
        /// The port.
        port: u16,
    },
    /// IPv6 address and port.
    Inet6 {
        /// The eight 16-bit groups, in their numeric value.
        groups: [u16; 8],
        /// The port.
        port: u16,
    },
    /// A unix-domain path (abstract names keep their leading NUL); empty for unnamed sockets.
    Local(Vec<u8>),
    /// Any other family: the number and the bytes after `sa_family`.
    Other {
        /// The AF_ number.
        family: i32,
        /// The raw bytes of the address after the family field.
        data: Vec<u8>,
    },
}

impl Address {
    /// Parse an address given as `:local`, `:remote` or a datagram address.
    /// Anything that is not one of the four shapes is `(error "Malformed :address")`.
    pub fn from_value(value: &Value) -> Result<Address> {
        let malformed = || Error::msg("Malformed :address");
        match value {
            Value::Vector(items) if items.len() == 5 => {
                let ints = integers(items).ok_or_else(malformed)?;
                Ok(Address::Inet4 {
                    // Emacs masks each element to its field's width.
                    octets: [ints[0] as u8, ints[1] as u8, ints[2] as u8, ints[3] as u8],
                    port: port_in_range(ints[4])?,
                })
            }
            Value::Vector(items) if items.len() == 9 => {
                let ints = integers(items).ok_or_else(malformed)?;
                let mut groups = [0u16; 8];
                for (group, int) in groups.iter_mut().zip(&ints) {
                    *group = *int as u16;
                }
                Ok(Address::Inet6 { groups, port: port_in_range(ints[8])? })
            }
            Value::Str(path) => {
                if path.len() >= UNIX_PATH_MAX {
                    return Err(Error::msg("Unix socket path too long"));
                }
                check_unix_path(path, value)?;
                Ok(Address::Local(path.to_vec()))
            }
            Value::Cons(car, cdr) => match (car.as_ref(), cdr.as_ref()) {
                (Value::Int(family), Value::Vector(bytes)) => {
                    let ints = integers(bytes).ok_or_else(malformed)?;
                    let room = mem::size_of::<libc::sockaddr_storage>() - 2;
                    if ints.len() > room {
                        return Err(malformed());
                    }
                    Ok(Address::Other {
                        family: *family as i32,
                        data: ints.iter().map(|b| *b as u8).collect(),
                    })
                }
                _ => Err(malformed()),
            },
            _ => Err(malformed()),
        }
    }

    /// The Lisp form of the address.
    pub fn to_value(&self) -> Value {
        match self {
            Address::Inet4 { octets, port } => {
                let mut items: Vec<Value> = octets.iter().map(|b| Value::Int(*b as i64)).collect();
                items.push(Value::Int(*port as i64));
                Value::vector(items)
            }
            Address::Inet6 { groups, port } => {
                let mut items: Vec<Value> = groups.iter().map(|g| Value::Int(*g as i64)).collect();
                items.push(Value::Int(*port as i64));
                Value::vector(items)
            }
            Address::Local(path) => Value::string(path),
            Address::Other { family, data } => Value::cons(
                Value::Int(*family as i64),
                Value::vector(data.iter().map(|b| Value::Int(*b as i64)).collect::<Vec<_>>()),
            ),
        }
    }

    /// The port, for IP addresses.
    pub fn port(&self) -> Option<u16> {
        match self {
            Address::Inet4 { port, .. } | Address::Inet6 { port, .. } => Some(*port),
            _ => None,
        }
    }

    /// The address family number (AF_INET, AF_INET6, AF_UNIX or the raw one).
    pub fn family(&self) -> i32 {
        match self {
            Address::Inet4 { .. } => libc::AF_INET,
            Address::Inet6 { .. } => libc::AF_INET6,
            Address::Local(_) => libc::AF_UNIX,
            Address::Other { family, .. } => *family,
        }
    }

    /// The all-zero address of a family, which Emacs reports for a datagram server that has
    /// not heard from anyone yet: `(0 . [0 0 … 0])` sized like the family's sockaddr.
    pub fn zeroed_like(family: i32) -> Address {
        let size = match family {
            libc::AF_INET => mem::size_of::<libc::sockaddr_in>(),
            libc::AF_INET6 => mem::size_of::<libc::sockaddr_in6>(),
            _ => mem::size_of::<libc::sockaddr_un>(),
        };
        Address::Other { family: 0, data: vec![0; size - 2] }
    }

    /// The address as the kernel wants it.
    pub fn to_sockaddr(&self) -> SockAddr {
        match self {
            Address::Inet4 { octets, port } => {
                SockAddr::from(std::net::SocketAddrV4::new((*octets).into(), *port))
            }
            Address::Inet6 { groups, port } => {
                let ip = std::net::Ipv6Addr::new(
                    groups[0], groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7],
                );
                SockAddr::from(std::net::SocketAddrV6::new(ip, *port, 0, 0))
            }
            Address::Local(path) => raw_sockaddr(libc::AF_UNIX, path, path.first() != Some(&0)),
            Address::Other { family, data } => raw_sockaddr(*family, data, false),
        }
    }

    /// Read a `sockaddr` the kernel filled in.
    pub fn from_sockaddr(addr: &SockAddr) -> Address {
        if let Some(socket) = addr.as_socket() {
            return match socket {
                std::net::SocketAddr::V4(v4) => Address::Inet4 { octets: v4.ip().octets(), port: v4.port() },
                std::net::SocketAddr::V6(v6) => {
                    Address::Inet6 { groups: v6.ip().segments(), port: v6.port() }
                }
            };
        }
        let bytes = sockaddr_bytes(addr);
        let data = bytes.get(2..).unwrap_or(&[]).to_vec();
        if addr.family() as i32 == libc::AF_UNIX {
            // A pathname ends at its first NUL; an abstract name (leading NUL) keeps them all.
            let path = match data.first() {
                Some(0) => data,
                _ => data.split(|b| *b == 0).next().unwrap_or(&[]).to_vec(),
            };
            return Address::Local(path);
        }
        Address::Other { family: addr.family() as i32, data }
    }

    /// Whether this is a wildcard address (0.0.0.0, ::) or an unnamed socket.
    pub fn is_unspecified(&self) -> bool {
        match self {
            Address::Inet4 { octets, .. } => *octets == [0; 4],
            Address::Inet6 { groups, .. } => *groups == [0; 8],
            Address::Local(path) => path.is_empty(),
            Address::Other { .. } => true,
        }
    }

    /// The host part as Emacs writes it in accepted-connection names and messages:
    /// `127.0.0.1`, or eight lowercase hex groups without `::` compression.
    pub fn host_text(&self) -> Option<HostText> {
        let mut text = HostText::new();
        match self {
            Address::Inet4 { octets, .. } => {
                // Inline, no allocation: this runs for every accepted connection.
                for (index, &octet) in octets.iter().enumerate() {
                    if index > 0 {
                        text.push_ascii(b'.');
                    }
                    text.push_decimal(u64::from(octet));
                }
            }
            Address::Inet6 { groups, .. } => {
                for (index, &group) in groups.iter().enumerate() {
                    if index > 0 {
                        text.push_ascii(b':');
                    }
                    text.push_hex(group);
                }
            }
            _ => return None,
        }
        Some(text)
    }
}

/// An address vector's port. Emacs masks it to 16 bits (`conv_lisp_to_sockaddr`), so
/// `[127 0 0 1 -1]` is port 65535 and `[127 0 0 1 65616]` port 80; netproc refuses it as
/// Emacs refuses any integer out of its range (CHECK_RANGED_INTEGER's `args_out_of_range_3`).
fn port_in_range(port: i64) -> Result<u16> {
    u16::try_from(port).map_err(|_| Error {
        symbol: super::error::Symbol::ArgsOutOfRange,
        data: vec![Value::Int(port), Value::Int(0), Value::Int(65535)],
        errno: 0,
    })
}

/// A unix socket path with a NUL inside. The kernel (and Emacs, which copies the path as a
/// C string) would cut it at the NUL and use another file than the one named; netproc
/// refuses it with the error Emacs's file primitives give such a name
/// (CHECK_STRING_NULL_BYTES: `(wrong-type-argument filenamep PATH)`). An abstract name,
/// which starts with a NUL, may hold more.
pub(crate) fn check_unix_path(path: &[u8], value: &Value) -> Result<()> {
    if path.first() != Some(&0) && path.contains(&0) {
        return Err(Error::wrong_type("filenamep", value));
    }
    Ok(())
}

/// What getaddrinfo makes of a service text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceText {
    /// A service name, looked up in /etc/services.
    Name,
    /// A number in 0–65535.
    Port(u16),
    /// A number above 65535.
    OutOfRange,
    /// A number below 0.
    Negative,
}

/// Read a service text as glibc's getaddrinfo does: with strtoul in base 10, which takes
/// leading white space, an optional sign and digits, and the text is a number when
/// nothing follows them. The number then becomes a port modulo 2^16 (after passing
/// through an `int`), so `"+65616"`, `"\t+70000"` and `"+4294967376"` all mean port 80
/// and `" 65536"` port 0, and Emacs passes a `:service` string as it is.
pub fn numeric_service(text: &[u8]) -> ServiceText {
    // isspace in the C locale.
    let start = text.iter().position(|b| !b" \t\n\x0b\x0c\r".contains(b)).unwrap_or(text.len());
    let mut rest = &text[start..];
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'+' | b'-')) {
        rest = &rest[1..];
    }
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return ServiceText::Name;
    }
    let significant = rest.iter().position(|b| *b != b'0').map_or(&[][..], |first| &rest[first..]);
    let value = if significant.len() > 5 {
        None
    } else {
        significant.iter().try_fold(0u32, |n, digit| Some(n * 10 + u32::from(digit - b'0')))
    };
    match value {
        Some(0) => ServiceText::Port(0),
        _ if negative => ServiceText::Negative,
        Some(port) if port <= 65535 => ServiceText::Port(port as u16),
        _ => ServiceText::OutOfRange,
    }
}

fn integers(items: &[Value]) -> Option<Vec<i64>> {
    items.iter().map(|item| if let Value::Int(n) = item { Some(*n) } else { None }).collect()
}

/// Build a sockaddr from a family and the bytes after the family field.
fn raw_sockaddr(family: i32, data: &[u8], nul_terminated: bool) -> SockAddr {
    // SAFETY: sockaddr_storage is plain old data, valid when zeroed.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    storage.ss_family = family as libc::sa_family_t;
    let room = mem::size_of::<libc::sockaddr_storage>() - 2;
    let used = data.len().min(room);
    // SAFETY: the destination starts 2 bytes into `storage` and `used` is at most the room
    // left there; source and destination do not overlap.
    unsafe {
        let base = (&mut storage as *mut libc::sockaddr_storage).cast::<u8>().add(2);
        std::ptr::copy_nonoverlapping(data.as_ptr(), base, used);
    }
    let extra = usize::from(nul_terminated && used < room);
    let len = (2 + used + extra) as libc::socklen_t;
    // SAFETY: storage holds a sockaddr of `family` whose first `len` bytes are initialised.
    unsafe { SockAddr::new(storage, len) }
}

/// Copy a sockaddr that C code handed us.
///
/// # Safety
/// `raw` must point at `len` readable bytes holding a sockaddr.
pub(crate) unsafe fn sockaddr_from_raw(raw: *const libc::sockaddr, len: libc::socklen_t) -> SockAddr {
    // SAFETY: sockaddr_storage is plain old data, valid when zeroed.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = (len as usize).min(mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: the caller guarantees `len` readable bytes; storage has room for them.
    unsafe {
        std::ptr::copy_nonoverlapping(
            raw.cast::<u8>(),
            (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
            len,
        );
        SockAddr::new(storage, len as libc::socklen_t)
    }
}

fn sockaddr_bytes(addr: &SockAddr) -> &[u8] {
    // SAFETY: a SockAddr owns `len()` initialised bytes at `as_ptr()`.
    unsafe { std::slice::from_raw_parts(addr.as_ptr().cast::<u8>(), addr.len() as usize) }
}

/// `format-network-address`: the text of an address, or nil when the value is not one.
pub fn format_network_address(value: &Value, omit_port: bool) -> Result<Value> {
    match value {
        Value::Vector(items) => Ok(format_vector(items, omit_port).map_or(Value::Nil, Value::string)),
        Value::Str(text) => Ok(Value::Str(text.clone())),
        Value::Cons(car, _) => format_family(car),
        Value::List(items) if !items.is_empty() => format_family(&items[0]),
        _ => Ok(Value::Nil),
    }
}

fn format_family(car: &Value) -> Result<Value> {
    match car {
        Value::Int(family) => Ok(Value::string(format!("<Family {family}>"))),
        _ => Err(Error::msg("Format specifier doesn\u{2019}t match argument type")),
    }
}

fn format_vector(items: &[Value], omit_port: bool) -> Option<Vec<u8>> {
    let ints = integers(items)?;
    let (address, port, byte_max) = match ints.len() {
        4 => (&ints[..4], None, 255),
        5 => (&ints[..4], Some(ints[4]), 255),
        8 => (&ints[..8], None, 65535),
        9 => (&ints[..8], Some(ints[8]), 65535),
        _ => return None,
    };
    if address.iter().any(|n| !(0..=byte_max).contains(n)) {
        return None;
    }
    let port = if omit_port { None } else { port };
    if let Some(port) = port {
        if !(0..=65535).contains(&port) {
            return None;
        }
    }
    let text = if address.len() == 4 {
        let host = address.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".");
        match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    } else {
        let host = address.iter().map(|n| format!("{n:x}")).collect::<Vec<_>>().join(":");
        match port {
            Some(port) => format!("[{host}]:{port}"),
            None => host,
        }
    };
    Some(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(ints: &[i64]) -> Value {
        Value::Vector(ints.iter().map(|n| Value::Int(*n)).collect())
    }

    fn formatted(value: &Value, omit_port: bool) -> String {
        format_network_address(value, omit_port).unwrap().prin1()
    }

    #[test]
    fn formats_like_emacs() {
        assert_eq!(formatted(&vector(&[127, 0, 0, 1]), false), "\"127.0.0.1\"");
        assert_eq!(formatted(&vector(&[127, 0, 0, 1, 80]), false), "\"127.0.0.1:80\"");
        assert_eq!(formatted(&vector(&[127, 0, 0, 1, 80]), true), "\"127.0.0.1\"");
        assert_eq!(formatted(&vector(&[0, 0, 0, 0, 0, 0, 0, 1, 80]), false), "\"[0:0:0:0:0:0:0:1]:80\"");
        assert_eq!(
            formatted(&vector(&[65535, 10, 0, 255, 4096, 0, 0, 1, 443]), true),
            "\"ffff:a:0:ff:1000:0:0:1\""
        );
        assert_eq!(formatted(&vector(&[1, 2, 3, 4, 70000]), false), "nil");
        assert_eq!(formatted(&vector(&[1, 2, 3, 4, 70000]), true), "\"1.2.3.4\"");
        assert_eq!(formatted(&vector(&[256, 0, 0, 1, 80]), false), "nil");
        assert_eq!(formatted(&vector(&[1, 2, 3]), false), "nil");
        let family = Value::cons(Value::Int(1), vector(&[1, 2, 3]));
        assert_eq!(formatted(&family, false), "\"<Family 1>\"");
        let bad = Value::cons(Value::string("a"), Value::Int(5));
        assert!(format_network_address(&bad, false).is_err());
        assert_eq!(formatted(&Value::Nil, false), "nil");
    }

    #[test]
    fn sockaddrs_round_trip() {
        for address in [
            Address::Inet4 { octets: [127, 0, 0, 1], port: 8080 },
            Address::Inet6 { groups: [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], port: 9 },
            Address::Local(b"/tmp/sock".to_vec()),
            Address::Local(b"\0abstract\0name".to_vec()),
        ] {
            assert_eq!(Address::from_sockaddr(&address.to_sockaddr()), address);
            assert_eq!(Address::from_value(&address.to_value()).unwrap(), address);
        }
        let zero = Address::zeroed_like(libc::AF_INET);
        assert_eq!(zero.to_value().prin1(), "(0 . [0 0 0 0 0 0 0 0 0 0 0 0 0 0])");
    }

    #[test]
    fn service_texts_read_like_strtoul() {
        use ServiceText::*;
        for (text, want) in [
            ("80", Port(80)),
            ("0080", Port(80)),
            (" 81", Port(81)),
            ("+80", Port(80)),
            ("\t\n\x0b\x0c\r 65535", Port(65535)),
            ("-0", Port(0)),
            ("+0", Port(0)),
            ("0000000000000000000000065535", Port(65535)),
            ("+65616", OutOfRange),
            ("\t+70000", OutOfRange),
            ("+4294967376", OutOfRange),
            (" 65536", OutOfRange),
            ("99999999999999999999999", OutOfRange),
            ("-1", Negative),
            ("-4294967216", Negative),
            ("http", Name),
            ("80 ", Name),
            ("0x50", Name),
            ("1e3", Name),
            ("+", Name),
            ("", Name),
            ("+-1", Name),
        ] {
            assert_eq!(numeric_service(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn vector_ports_out_of_range_are_errors() {
        for port in [-1, 65536, 70000, i64::MIN, i64::MAX] {
            let error = Address::from_value(&vector(&[127, 0, 0, 1, port])).unwrap_err();
            assert_eq!(error.symbol.name(), "args-out-of-range");
            assert_eq!(error.message(), format!("Args out of range: {port}, 0, 65535"));
            assert!(Address::from_value(&vector(&[0, 0, 0, 0, 0, 0, 0, 1, port])).is_err());
        }
        assert_eq!(Address::from_value(&vector(&[127, 0, 0, 1, 65535])).unwrap().port(), Some(65535));
        // Address bytes are still masked, as in Emacs.
        let masked = Address::from_value(&vector(&[383, 0, 0, 1, 0])).unwrap();
        assert_eq!(masked, Address::Inet4 { octets: [127, 0, 0, 1], port: 0 });
    }

    #[test]
    fn unix_paths_with_a_nul_inside_are_errors() {
        let error = Address::from_value(&Value::string(b"/tmp/a\0b")).unwrap_err();
        assert_eq!(error.symbol.name(), "wrong-type-argument");
        assert_eq!(error.message(), "Wrong type argument: filenamep, \"/tmp/a\0b\"");
        assert!(Address::from_value(&Value::string(b"\0abstract\0name")).is_ok());
        assert!(Address::from_value(&Value::string(b"/tmp/a")).is_ok());
    }

    #[test]
    fn malformed_addresses_are_errors() {
        assert!(Address::from_value(&vector(&[1, 2, 3])).is_err());
        assert!(Address::from_value(&Value::Int(3)).is_err());
        assert!(Address::from_value(&Value::string(vec![b'a'; 108])).is_err());
        assert!(Address::from_value(&Value::string(vec![b'a'; 107])).is_ok());
    }

    #[test]
    fn ipv4_host_text_is_the_dotted_quad() {
        for octet in 0..=255u8 {
            let octets = [octet, 255 - octet, octet / 3, 7];
            let address = Address::Inet4 { octets, port: 1 };
            assert_eq!(address.host_text().unwrap().as_str(), std::net::Ipv4Addr::from(octets).to_string());
        }
    }

    #[test]
    fn ipv6_host_text_is_eight_uncompressed_hex_groups() {
        for seed in 0..=255u16 {
            let groups = [0, seed, seed << 4, seed << 8, 0xffff - seed, 1, seed.wrapping_mul(257), 0];
            let address = Address::Inet6 { groups, port: 1 };
            let expected = groups.iter().map(|g| format!("{g:x}")).collect::<Vec<_>>().join(":");
            assert_eq!(address.host_text().unwrap().as_str(), expected);
        }
        let widest = Address::Inet6 { groups: [0xffff; 8], port: 1 };
        assert_eq!(widest.host_text().unwrap().len(), 39);
    }
}
