//! Socket creation and the network options of `make-network-process` and
//! `set-network-process-option`, with Emacs's error forms.

use std::io;
use std::os::fd::AsRawFd;

use socket2::{Domain, Socket, Type};

use super::descriptors::lift;
use super::error::{Error, Result};
use super::value::{Plist, Value};

/// The kind of socket a process uses (`:type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    /// `nil`: a byte stream.
    Stream,
    /// `datagram`.
    Datagram,
    /// `seqpacket`.
    Seqpacket,
}

impl SocketKind {
    /// Parse `:type`.
    pub fn from_value(value: &Value) -> Result<SocketKind> {
        match value.as_symbol() {
            Some("nil") => Ok(SocketKind::Stream),
            Some("datagram") => Ok(SocketKind::Datagram),
            Some("seqpacket") => Ok(SocketKind::Seqpacket),
            _ => Err(Error::msg("Unsupported connection type")),
        }
    }

    /// The socket type constant, for socket() and getaddrinfo hints.
    pub fn socktype(self) -> i32 {
        match self {
            SocketKind::Stream => libc::SOCK_STREAM,
            SocketKind::Datagram => libc::SOCK_DGRAM,
            SocketKind::Seqpacket => libc::SOCK_SEQPACKET,
        }
    }
}

/// The receive buffer a datagram socket asks for; the kernel caps it at
/// `net.core.rmem_max`. Why: a host that pauses for a few milliseconds (an editor collecting
/// garbage or redisplaying) would otherwise drop datagrams, since 100,000 small datagrams
/// a second fill the default 208 KiB in about 3 ms (issue 6, W5). With 1 MiB, the Emacs
/// twins still lost 10% of W5's datagrams to GC pauses; with 4 MiB, none.
pub const DATAGRAM_RECEIVE_BUFFER: usize = 4 << 20;

/// A new close-on-exec socket (socket2 passes SOCK_CLOEXEC on Linux), still blocking.
pub fn new_socket(family: i32, kind: SocketKind) -> io::Result<Socket> {
    let socket = lift(Socket::new(Domain::from(family), Type::from(kind.socktype()), None)?);
    if kind == SocketKind::Datagram {
        // Best effort: a smaller buffer is still a working socket.
        let _ = socket.set_recv_buffer_size(DATAGRAM_RECEIVE_BUFFER);
    }
    Ok(socket)
}

/// Accept a connection as a non-blocking, close-on-exec socket in one system call
/// (`accept` followed by `set_nonblocking` costs three: W3's profile).
pub fn accept_nonblocking(listener: &Socket) -> io::Result<(Socket, socket2::SockAddr)> {
    use std::os::fd::FromRawFd;
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: accept4 writes at most `*length` bytes of address into the zeroed storage
    // try_init provides and sets `*length`; a descriptor it returns is ours to own.
    unsafe {
        socket2::SockAddr::try_init(|storage, length| {
            match libc::accept4(listener.as_raw_fd(), storage.cast(), length, flags) {
                -1 => Err(io::Error::last_os_error()),
                fd => Ok(lift(Socket::from_raw_fd(fd))),
            }
        })
    }
}

/// The option keywords, in the order `featurep` lists them.
/// Emacs's, and netproc's own: `:nodelay`, `:reuseport`, `:v6only`, `:rcvbuf`, `:sndbuf`,
/// `:multicast-join` and `:multicast-leave` (README, "Beyond Emacs").
pub const OPTION_KEYWORDS: &[&str] = &[
    ":bindtodevice",
    ":broadcast",
    ":dontroute",
    ":keepalive",
    ":linger",
    ":multicast-join",
    ":multicast-leave",
    ":nodelay",
    ":oobinline",
    ":priority",
    ":rcvbuf",
    ":reuseaddr",
    ":reuseport",
    ":sndbuf",
    ":v6only",
];

/// Whether `key` names a network option.
pub fn is_option(key: &str) -> bool {
    OPTION_KEYWORDS.contains(&key)
}

/// Set one network option on a socket, with the errors Emacs signals.
pub fn set_option(socket: &Socket, key: &str, value: &Value) -> Result<()> {
    let on = value.is_non_nil();
    let outcome = match key {
        ":bindtodevice" => match value {
            Value::Nil => socket.bind_device(None),
            Value::Str(name) => {
                // Emacs cuts the name to IFNAMSIZ bytes, terminator included.
                let cut = &name[..name.len().min(libc::IFNAMSIZ - 1)];
                socket.bind_device(Some(cut))
            }
            _ => return Err(Error::msg("Bad option value for :bindtodevice")),
        },
        ":broadcast" => socket.set_broadcast(on),
        ":dontroute" => set_int_option(socket, libc::SOL_SOCKET, libc::SO_DONTROUTE, on as i32),
        ":keepalive" => socket.set_keepalive(on),
        ":linger" => match value {
            Value::Nil => socket.set_linger(None),
            // As Emacs: an int goes to the kernel as it is (Linux takes a negative one as
            // the longest linger, during which close() blocks).
            Value::Int(seconds) if i32::try_from(*seconds).is_ok() => set_linger_seconds(socket, *seconds),
            // t, and an integer beyond an int (which Emacs turns into SO_LINGER 0, an abortive
            // close that drops queued output): netproc writes its own queue out before
            // closing, then closes gracefully, without blocking in close().
            _ => socket.set_linger(None),
        },
        // TCP_NODELAY (netproc's, not Emacs's): small writes go out at once instead of
        // waiting for the peer's ACK of the last one (Nagle), which a delayed ACK makes
        // 40 ms on Linux. Only TCP has it: elsewhere (a unix or datagram socket) nothing
        // waits, and the option is a no-op rather than an error, so that one set of
        // options fits any family.
        ":nodelay" if is_tcp(socket) => socket.set_nodelay(on),
        ":nodelay" => Ok(()),
        ":oobinline" => socket.set_out_of_band_inline(on),
        ":priority" => match value {
            Value::Int(n) if i32::try_from(*n).is_ok() => {
                set_int_option(socket, libc::SOL_SOCKET, libc::SO_PRIORITY, *n as i32)
            }
            _ => return Err(Error::msg("Bad option value for :priority")),
        },
        ":reuseaddr" => socket.set_reuse_address(on),
        // Set before the bind (at the create): several sockets share a port, the kernel
        // spreading connections or datagrams among them.
        ":reuseport" => socket.set_reuse_port(on),
        // Before the bind: an IPv6 socket that takes IPv6 only (or, nil, IPv4-mapped too).
        // A no-op on other sockets, as :nodelay is.
        ":v6only" if family_of(socket) == Some(libc::AF_INET6) => socket.set_only_v6(on),
        ":v6only" => Ok(()),
        // The kernel's buffers; datagram sockets start with a 4 MiB receive buffer
        // (DATAGRAM_RECEIVE_BUFFER), which :rcvbuf replaces.
        ":rcvbuf" | ":sndbuf" => match value {
            Value::Int(bytes) if *bytes > 0 && usize::try_from(*bytes).is_ok() => {
                if key == ":rcvbuf" {
                    socket.set_recv_buffer_size(*bytes as usize)
                } else {
                    socket.set_send_buffer_size(*bytes as usize)
                }
            }
            _ => return Err(Error::msg(format!("Bad option value for {key}"))),
        },
        ":multicast-join" | ":multicast-leave" => {
            let Some((group, interface)) = multicast_group(value) else {
                return Err(Error::msg(format!("Bad option value for {key}")));
            };
            membership(socket, key == ":multicast-join", group, interface)
        }
        _ => return Err(Error::msg("Unknown or unsupported option")),
    };
    outcome.map_err(|err| {
        Error::file("Cannot set network option", &err, vec![Value::symbol(key), value.clone()])
    })
}

/// Apply every option key of a contact plist, in argument order (a duplicate is set
/// twice, so the last value wins at the socket, as in Emacs).
pub fn apply_options(socket: &Socket, contact: &Plist) -> Result<()> {
    for (key, value) in contact.pairs() {
        if let Some(name) = key.as_symbol() {
            if is_option(name) {
                set_option(socket, name, value)?;
            }
        }
    }
    Ok(())
}

/// The socket's address family, if the kernel says.
fn family_of(socket: &Socket) -> Option<i32> {
    let domain = socket.domain().ok()?;
    Some(if domain == socket2::Domain::IPV4 {
        libc::AF_INET
    } else if domain == socket2::Domain::IPV6 {
        libc::AF_INET6
    } else {
        libc::AF_UNIX
    })
}

/// A multicast option's value: GROUP, or (GROUP . INTERFACE), GROUP an address as a
/// string ("239.1.2.3", "ff0e::1234") or vector, INTERFACE a name ("eth0"); without one,
/// the kernel picks (index 0).
fn multicast_group(value: &Value) -> Option<(std::net::IpAddr, u32)> {
    let (group, interface) = match value {
        Value::Cons(group, interface) => (&**group, Some(&**interface)),
        other => (other, None),
    };
    let group: std::net::IpAddr = match group {
        Value::Str(text) => std::str::from_utf8(text).ok()?.parse().ok()?,
        vector @ Value::Vector(_) => {
            match super::address::Address::from_value(vector).ok()?.to_sockaddr().as_socket()? {
                std::net::SocketAddr::V4(v4) => std::net::IpAddr::V4(*v4.ip()),
                std::net::SocketAddr::V6(v6) => std::net::IpAddr::V6(*v6.ip()),
            }
        }
        _ => return None,
    };
    if !group.is_multicast() {
        return None;
    }
    let index = match interface {
        None | Some(Value::Nil) => 0,
        Some(Value::Str(name)) => {
            let name = std::ffi::CString::new(name.to_vec()).ok()?;
            // SAFETY: a NUL-terminated name, read only.
            match unsafe { libc::if_nametoindex(name.as_ptr()) } {
                0 => return None,
                index => index,
            }
        }
        Some(_) => return None,
    };
    Some((group, index))
}

/// Join or leave a multicast group on the interface with `index` (0: the kernel's choice).
fn membership(socket: &Socket, join: bool, group: std::net::IpAddr, index: u32) -> io::Result<()> {
    use socket2::InterfaceIndexOrAddress::Index;
    match (group, join) {
        (std::net::IpAddr::V4(group), true) => socket.join_multicast_v4_n(&group, &Index(index)),
        (std::net::IpAddr::V4(group), false) => socket.leave_multicast_v4_n(&group, &Index(index)),
        (std::net::IpAddr::V6(group), true) => socket.join_multicast_v6(&group, index),
        (std::net::IpAddr::V6(group), false) => socket.leave_multicast_v6(&group, index),
    }
}

/// Whether the socket is a TCP one (IPv4 or IPv6, stream).
fn is_tcp(socket: &Socket) -> bool {
    let inet = matches!(socket.domain(), Ok(domain) if domain == socket2::Domain::IPV4 || domain == socket2::Domain::IPV6);
    inet && matches!(socket.r#type(), Ok(kind) if kind == socket2::Type::STREAM)
}

/// SO_LINGER on with `seconds` (which may be negative, unlike socket2's Duration).
fn set_linger_seconds(socket: &Socket, seconds: i64) -> io::Result<()> {
    let linger = libc::linger { l_onoff: 1, l_linger: seconds as i32 };
    // SAFETY: the fd is open for the borrow of `socket`; `linger` is a live struct whose
    // size we pass.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// setsockopt(2) for an int-valued option socket2 has no setter for.
fn set_int_option(socket: &Socket, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: the fd is open for the borrow of `socket`; the option value is a live c_int
    // whose size we pass.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Whether `:linger`'s value asks for an abortive close (SO_LINGER with 0 seconds), which
/// drops unsent data; netproc then skips flushing its own queue too.
pub fn linger_is_abortive(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Int(0)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn datagram_sockets_get_a_larger_receive_buffer() {
        // Linux reports twice what was granted; the grant is capped at rmem_max.
        let cap = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|text| text.trim().parse::<usize>().ok())
            .unwrap_or(DATAGRAM_RECEIVE_BUFFER);
        let socket = new_socket(libc::AF_INET, SocketKind::Datagram).unwrap();
        let granted = socket.recv_buffer_size().unwrap();
        assert!(granted >= 2 * DATAGRAM_RECEIVE_BUFFER.min(cap), "SO_RCVBUF is {granted}");
    }

    use super::*;

    #[test]
    fn options_apply_and_reject_bad_values() {
        let socket = new_socket(libc::AF_INET, SocketKind::Stream).unwrap();
        set_option(&socket, ":keepalive", &Value::T).unwrap();
        assert!(socket.keepalive().unwrap());
        set_option(&socket, ":linger", &Value::Int(3)).unwrap();
        assert_eq!(socket.linger().unwrap(), Some(Duration::from_secs(3)));
        // Emacs passes any int through; out of int range, netproc closes gracefully, as for t.
        set_option(&socket, ":linger", &Value::Int(-1)).unwrap();
        assert!(socket.linger().unwrap().is_some());
        set_option(&socket, ":linger", &Value::Int(1 << 40)).unwrap();
        assert_eq!(socket.linger().unwrap(), None);
        set_option(&socket, ":priority", &Value::Int(1)).unwrap();
        let err = set_option(&socket, ":priority", &Value::symbol("foo")).unwrap_err();
        assert_eq!(err.message(), "Bad option value for :priority");
        let err = set_option(&socket, ":bindtodevice", &Value::Int(1)).unwrap_err();
        assert_eq!(err.message(), "Bad option value for :bindtodevice");
        let err = set_option(&socket, ":bindtodevice", &Value::string("nosuchdev0")).unwrap_err();
        assert!(err.is_file_error(), "{err}");
        assert!(err.message().starts_with("Cannot set network option: "), "{err}");
    }
}
