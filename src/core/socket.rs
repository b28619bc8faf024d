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
pub const OPTION_KEYWORDS: &[&str] = &[
    ":bindtodevice",
    ":broadcast",
    ":dontroute",
    ":keepalive",
    ":linger",
    ":nodelay",
    ":oobinline",
    ":priority",
    ":reuseaddr",
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
