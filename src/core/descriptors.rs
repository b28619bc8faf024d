//! Where netproc's descriptors go. A host that watches its own descriptors with select(2),
//! as Emacs does, can only use numbers below FD_SETSIZE (1,024); every socket netproc holds
//! there is one fewer for the host's subprocesses, files and file watches, and 10,000
//! connections could not exist at all. With a floor set, each new socket is moved to the
//! lowest free number at or above it, where only netproc's epoll looks. The range is a
//! resource of the whole OS process, shared by every context in it, so the floor is
//! process-wide: the Emacs module sets it once when it loads.

use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use socket2::Socket;

/// 0: no floor, descriptors stay where the kernel put them.
static FLOOR: AtomicI32 = AtomicI32::new(0);

/// Keep netproc's descriptors at or above `floor` from now on (0 or less: no floor).
pub fn set_descriptor_floor(floor: i32) {
    FLOOR.store(floor.max(0), Ordering::Relaxed);
}

/// The floor in force.
pub fn descriptor_floor() -> i32 {
    FLOOR.load(Ordering::Relaxed)
}

/// `socket`, moved at or above the floor. Best effort: when no number up there is free
/// (the open-file limit is below the floor, or all are taken) the socket stays where it
/// is, which is what it would be without a floor.
pub(crate) fn lift(socket: Socket) -> Socket {
    let floor = descriptor_floor();
    let fd = socket.as_raw_fd();
    if floor == 0 || fd >= floor {
        return socket;
    }
    // SAFETY: fcntl on a descriptor we own; F_DUPFD_CLOEXEC returns a new descriptor (or
    // -1), which from then on is ours alone, and the old one closes when `socket` drops.
    unsafe {
        match libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) {
            -1 => socket,
            moved => Socket::from_raw_fd(moved),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_go_above_the_floor_when_they_can() {
        // The open-file limit must reach above the floor for the move to be possible.
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit with a valid rlimit.
        unsafe {
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
            if limit.rlim_cur < 4096 && limit.rlim_max >= 4096 {
                limit.rlim_cur = 4096;
                assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
            }
        }
        let plain = Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        assert!(plain.as_raw_fd() < 1024);
        set_descriptor_floor(1024);
        let lifted = lift(Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap());
        let above = lifted.as_raw_fd();
        set_descriptor_floor(0);
        if limit.rlim_max >= 4096 {
            assert!(above >= 1024, "{above}");
            // Still a working, close-on-exec socket.
            lifted.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
            // SAFETY: fcntl F_GETFD on a descriptor we own.
            let flags = unsafe { libc::fcntl(above, libc::F_GETFD) };
            assert!(flags & libc::FD_CLOEXEC != 0);
        }
    }
}
