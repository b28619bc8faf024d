//! Keeping fuzzed processes on this machine: every address, host and service a fuzzer
//! writes is rewritten to loopback (or to an abstract unix name, which leaves no file
//! behind) before the call, and clients connect to a sink of our own rather than to
//! whatever else listens on loopback. Also the descriptor check that proves each iteration
//! cleaned up after itself.

use std::net::{Ipv6Addr, SocketAddr, TcpListener};
use std::sync::OnceLock;

use super::input::Node;

/// Listening sockets that fuzzed clients connect to: one on 127.0.0.1 and (if the machine
/// has it) one on ::1, never accepted from except to drain them.
pub(crate) struct Sink {
    listeners: Vec<TcpListener>,
    pub(crate) port: u16,
    pub(crate) port6: u16,
}

impl Sink {
    /// Close every connection that came in, so the backlog never fills (a full backlog
    /// would make a blocking connect wait for SYN retries).
    pub(crate) fn drain(&self) {
        for listener in &self.listeners {
            while listener.accept().is_ok() {}
        }
    }
}

/// The process's sink, made on first use.
pub(crate) fn sink() -> &'static Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| {
        let mut listeners = Vec::new();
        let mut port = 0;
        let mut port6 = 0;
        if let Ok(listener) = TcpListener::bind("127.0.0.1:0") {
            port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            listeners.push(listener);
        }
        if let Ok(listener) = TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, 0))) {
            port6 = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            listeners.push(listener);
        }
        for listener in &listeners {
            let _ = listener.set_nonblocking(true);
        }
        Sink { listeners, port, port6 }
    })
}

/// What an iteration must leave as it found it: descriptors and threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Footprint {
    /// The lowest free descriptor: it only changes if one is left open (or one that was
    /// not ours is closed).
    lowest_free_fd: i32,
    /// Threads of the process: a resolver thread of a freed context must end.
    threads: usize,
}

impl Footprint {
    pub(crate) fn now() -> Footprint {
        // SAFETY: open(2) of a constant NUL-terminated path; the descriptor is closed at once.
        let lowest_free_fd = unsafe {
            let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            if fd >= 0 {
                libc::close(fd);
            }
            fd
        };
        let threads = std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count());
        Footprint { lowest_free_fd, threads }
    }

    /// Check that nothing is left since `self`. A resolver thread of a freed context may
    /// still be finishing its lookup (it is never waited for), so a difference must last
    /// a second before it counts.
    pub(crate) fn assert_restored(self, what: &str) {
        for _ in 0..500 {
            if Footprint::now() == self {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(Footprint::now(), self, "{what}: descriptors or threads left behind");
    }
}

/// Hosts a fuzzed :host string is replaced by: literals only, so getaddrinfo never asks DNS.
const LOOPBACK_HOSTS: &[&str] = &["127.0.0.1", "::1", "127.0.0.2", "::ffff:127.0.0.1"];

/// Rewrite the arguments in place so that whatever the call does stays on loopback.
/// `args` are (key, value) as the host passes them; a NULL key is `None`.
pub(crate) fn confine(args: &mut [(Option<Vec<u8>>, Node)], sink: &Sink) {
    let key_of = |key: &Option<Vec<u8>>| key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned());
    // :family decides whether :service is a port or a unix path; the first one counts.
    let unix =
        args.iter().find(|(key, _)| key_of(key).as_deref() == Some(":family")).is_some_and(|(_, value)| {
            match value {
                Node::Sym(name) => name == b"local",
                Node::Int(n) => *n == libc::AF_UNIX as i64,
                _ => false,
            }
        });
    for (key, value) in args.iter_mut() {
        match key_of(key).as_deref() {
            Some(":host") => confine_host(value),
            Some(":service") if unix => confine_path(value),
            Some(":service") => confine_service(value, sink),
            Some(":remote" | ":local") => confine_address(value, sink),
            _ => {}
        }
    }
}

fn confine_host(value: &mut Node) {
    if let Node::Str(text) = value {
        // A non-ASCII name is refused before any lookup; keep it for that check.
        if text.is_ascii() {
            let pick = text.iter().map(|b| *b as usize).sum::<usize>() % LOOPBACK_HOSTS.len();
            *text = LOOPBACK_HOSTS[pick].as_bytes().to_vec();
        }
    }
}

/// A unix path becomes an abstract name (leading NUL): no file is ever created.
fn confine_path(value: &mut Node) {
    if let Node::Str(path) = value {
        if !path.is_empty() {
            let mut name = b"\0nf:".to_vec();
            name.extend_from_slice(path);
            *path = name;
        }
    }
}

fn confine_service(value: &mut Node, sink: &Sink) {
    match value {
        Node::Int(port) if (1..=65535).contains(port) => *port = sink.port as i64,
        Node::Str(text) => {
            let digits = text.trim_ascii_start();
            if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                let port = std::str::from_utf8(digits).ok().and_then(|d| d.parse::<u32>().ok());
                if matches!(port, Some(1..=65535)) {
                    *text = sink.port.to_string().into_bytes();
                }
            } else if !text.is_empty() {
                // A service name: make it one /etc/services cannot have.
                let mut name = b"nf-".to_vec();
                name.extend_from_slice(text);
                *text = name;
            }
        }
        _ => {}
    }
}

fn confine_address(value: &mut Node, sink: &Sink) {
    match value {
        Node::Vector(items) if items.len() == 5 => {
            if let Node::Int(first) = &mut items[0] {
                *first = 127;
            }
            if let Node::Int(port) = &mut items[4] {
                if *port as u16 != 0 {
                    *port = sink.port as i64;
                }
            }
        }
        Node::Vector(items) if items.len() == 9 => {
            for (index, item) in items.iter_mut().enumerate().take(8) {
                if let Node::Int(group) = item {
                    *group = i64::from(index == 7);
                }
            }
            if let Node::Int(port) = &mut items[8] {
                if *port as u16 != 0 {
                    *port = sink.port6 as i64;
                }
            }
        }
        Node::Str(_) => confine_path(value),
        Node::Cons(items) if items.len() == 2 => {
            let [car, cdr] = &mut items[..] else { return };
            let (Node::Int(family), Node::Vector(bytes)) = (car, cdr) else { return };
            let set = |bytes: &mut Vec<Node>, at: usize, byte: u8| {
                if let Some(Node::Int(slot)) = bytes.get_mut(at) {
                    *slot = byte as i64;
                }
            };
            match *family as i32 {
                libc::AF_INET => {
                    let [high, low] = sink.port.to_be_bytes();
                    set(bytes, 0, high);
                    set(bytes, 1, low);
                    set(bytes, 2, 127);
                }
                libc::AF_INET6 => {
                    let [high, low] = sink.port6.to_be_bytes();
                    set(bytes, 0, high);
                    set(bytes, 1, low);
                    for at in 6..22 {
                        set(bytes, at, u8::from(at == 21));
                    }
                }
                libc::AF_UNIX => {
                    set(bytes, 0, 0);
                    set(bytes, 1, b'n');
                }
                // Any other family could be a real one (packet, netlink…): make it none.
                _ => *family = 0,
            }
        }
        _ => {}
    }
}
