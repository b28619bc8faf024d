//! Waking Emacs: a watcher thread waits on the reactor's descriptor and, when netproc has
//! work, writes one byte to the pipe process netproc.el made (its write end comes from
//! `open_channel`). Emacs reads the byte in its own loop and runs the pipe's filter, which
//! calls `netproc--dispatch` on the main thread. The watcher never touches an `emacs_env`.
//!
//! One byte per batch: after writing, the watcher sleeps on a condition variable until the
//! dispatch re-arms it, so a readable reactor cannot make it spin while Emacs is busy, and
//! an idle netproc costs Emacs nothing (the watcher blocks in poll(2) with no timeout).
//! A dispatch woken this way lingers briefly for further events (see `primitives.rs`), so
//! a stream of small events does not pay the round trip for each one; one that ends its
//! slice with events still due writes the byte itself and leaves the watcher unarmed until
//! the next dispatch.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use crate::core::sync::{Condvar, Mutex};
use crate::core::Shared;

/// The channel to Emacs and the watcher's arming state.
pub(crate) struct Channel {
    /// The write end of the pipe process; replaced if netproc.el makes a new pipe.
    fd: Mutex<Option<OwnedFd>>,
    /// True while the watcher may write: set by each dispatch, cleared by each write.
    armed: Mutex<bool>,
    rearmed: Condvar,
}

impl Channel {
    /// Start the watcher over `shared`, writing to `fd` (owned from now on).
    pub(crate) fn start(shared: Arc<Shared>, fd: i32) -> std::io::Result<Arc<Channel>> {
        // SAFETY: Emacs's open_channel gave us this descriptor to own and close.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let channel =
            Arc::new(Channel { fd: Mutex::new(Some(fd)), armed: Mutex::new(true), rearmed: Condvar::new() });
        let watcher = channel.clone();
        std::thread::Builder::new()
            .name("netproc-emacs-watcher".into())
            .spawn(move || watch(&watcher, &shared))?;
        Ok(channel)
    }

    /// Use a new pipe (netproc.el was loaded again and made another one).
    pub(crate) fn replace_fd(&self, fd: i32) {
        // SAFETY: as in `start`.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        *self.fd.lock() = Some(fd);
        self.rearm();
    }

    /// Let the watcher write again: called after each dispatch.
    pub(crate) fn rearm(&self) {
        *self.armed.lock() = true;
        self.rearmed.notify_one();
    }

    fn wait_armed(&self) {
        let mut armed = self.armed.lock();
        while !*armed {
            self.rearmed.wait(&mut armed);
        }
    }

    /// Write a wake-up byte from the main thread, whatever the watcher is doing: for events
    /// the module holds itself (deferred by a quit), which the reactor does not know about.
    pub(crate) fn wake(&self) {
        self.write_byte();
    }

    /// Write the wake-up byte. False when Emacs closed the pipe for good.
    fn ring(&self) -> bool {
        *self.armed.lock() = false;
        self.write_byte()
    }

    fn write_byte(&self) -> bool {
        let guard = self.fd.lock();
        let Some(fd) = guard.as_ref() else { return false };
        loop {
            // SAFETY: writing one byte from a static buffer to a descriptor we own.
            let written = unsafe { libc::write(fd.as_raw_fd(), b"\n".as_ptr().cast(), 1) };
            if written >= 0 {
                return true;
            }
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                // A full pipe already holds a wake-up byte.
                Some(libc::EAGAIN) => return true,
                _ => return false,
            }
        }
    }
}

/// Block every signal in this thread: Emacs's handlers belong to the main thread, and a
/// write to a closed pipe must give EPIPE here rather than kill Emacs with SIGPIPE.
fn block_signals() {
    // SAFETY: sigfillset and pthread_sigmask on a local, zero-initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn timeout_ms(timeout: Option<Duration>) -> i32 {
    match timeout {
        None => -1,
        // Round up, so a timer due in 0.3 ms is not polled for with 0 (a spin).
        Some(d) => d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32,
    }
}

/// The watcher's loop. It touches the context only through `backend_fd` and `next_timeout`,
/// which hold the core lock for an instant and run no host code; `poll` and every callback
/// run on Emacs's main thread, which owns the context.
fn watch(channel: &Channel, shared: &Shared) {
    block_signals();
    let backend = shared.backend_fd();
    loop {
        channel.wait_armed();
        let timeout = timeout_ms(shared.next_timeout());
        let mut poll_fd = libc::pollfd { fd: backend, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll_fd, 1, timeout) };
        if ready < 0 {
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                // Should not happen; never spin on it.
                std::thread::sleep(Duration::from_millis(100));
            }
            continue;
        }
        if ready == 0 && timeout < 0 {
            continue;
        }
        if !channel.ring() {
            return;
        }
    }
}

#[cfg(test)]
#[path = "channel_tests.rs"]
mod tests;
