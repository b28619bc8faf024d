//! The reactor's mio poll, and which process each of its tokens stands for.
//!
//! A token is the index of a slot here. A slot holds its process exactly while the
//! process's socket is registered under that token (the process's `Link` records the
//! slot); a slot is free again once the socket is deregistered. The poll's events are
//! copied into a list kept from poll to poll, so that waiting allocates nothing.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::process::ProcRef;

/// One readiness event.
#[derive(Clone, Copy)]
pub(crate) struct Readiness {
    pub(crate) token: Token,
    /// Input (or its end, or an error) may be read.
    pub(crate) input: bool,
    /// Output may be written (or the writing side failed).
    pub(crate) output: bool,
    /// The peer's end of file, an error or TCP urgent data is pending: a stream read that
    /// comes back short proves nothing, so read until a read would block (see
    /// `Link::short_read_is_dry`).
    pub(crate) read_to_block: bool,
}

/// What a socket watched for input is watched for: priority too, so that TCP urgent data
/// (at whose mark a read stops short with more to come) is reported.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn with_priority(interest: Interest) -> Interest {
    if interest.is_readable() {
        interest.add(Interest::PRIORITY)
    } else {
        interest
    }
}

/// Elsewhere a short read never ends a drain (see `Link::short_read_is_dry`).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn with_priority(interest: Interest) -> Interest {
    interest
}

pub(crate) struct Poller {
    poll: Poll,
    events: Events,
    /// The last poll's events as `Readiness`, handed out by `wait` and given back by
    /// `recycle`.
    ready: Vec<Readiness>,
    /// Registered sockets' processes by token.
    slots: Vec<Option<ProcRef>>,
    free_slots: Vec<usize>,
}

impl Poller {
    /// A new poll with no socket registered.
    pub(crate) fn new() -> io::Result<Poller> {
        Ok(Poller {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            ready: Vec::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
        })
    }

    /// A waker that makes a `wait` on this poll return with `token`.
    pub(crate) fn waker(&self, token: Token) -> io::Result<Waker> {
        Waker::new(self.poll.registry(), token)
    }

    /// The poll's descriptor, readable when a `wait` would find events.
    pub(crate) fn backend_fd(&self) -> RawFd {
        self.poll.as_raw_fd()
    }

    /// Register `fd`, the socket of `process`, under a free token; the slot it took.
    pub(crate) fn register(&mut self, process: &ProcRef, fd: RawFd, interest: Interest) -> io::Result<usize> {
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        if let Err(err) =
            self.poll.registry().register(&mut SourceFd(&fd), Token(slot), with_priority(interest))
        {
            self.free_slots.push(slot);
            return Err(err);
        }
        self.slots[slot] = Some(process.clone());
        Ok(slot)
    }

    /// Change what a registered socket is watched for.
    pub(crate) fn reregister(&self, fd: RawFd, slot: u32, interest: Interest) -> io::Result<()> {
        self.poll.registry().reregister(&mut SourceFd(&fd), Token(slot as usize), with_priority(interest))
    }

    /// Stop watching `fd`, which is about to close. A failure is of no consequence: the
    /// close removes it from the poll anyway.
    pub(crate) fn deregister(&self, fd: RawFd) {
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
    }

    /// Free the slot of a socket no longer registered, handing back its process reference
    /// (for the caller to drop outside the locks).
    pub(crate) fn vacate(&mut self, slot: u32) -> Option<ProcRef> {
        let slot = slot as usize;
        let entry = self.slots[slot].take();
        self.free_slots.push(slot);
        entry
    }

    /// The process registered under `token`, if any.
    #[inline]
    pub(crate) fn process_at(&self, token: Token) -> Option<ProcRef> {
        self.slots.get(token.0).and_then(|slot| slot.clone())
    }

    /// Every process with a registered socket.
    pub(crate) fn registered(&self) -> Vec<ProcRef> {
        self.slots.iter().flatten().cloned().collect()
    }

    /// Wait up to `timeout` (None: until something happens) and hand out the events. An
    /// interrupted wait gives what it got. Give the list back with `recycle`.
    pub(crate) fn wait(&mut self, timeout: Option<Duration>) -> io::Result<Vec<Readiness>> {
        if let Err(err) = self.poll.poll(&mut self.events, timeout) {
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        // Copied out of `events` (handling them needs the context mutably) into a list
        // kept across polls, so a wait allocates nothing here.
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| {
            let read_to_block = e.is_read_closed() || e.is_error() || e.is_priority();
            Readiness {
                token: e.token(),
                input: e.is_readable() || read_to_block,
                output: e.is_writable() || e.is_write_closed() || e.is_error(),
                read_to_block,
            }
        }));
        Ok(ready)
    }

    /// Take back the list `wait` handed out, for the next wait to fill.
    pub(crate) fn recycle(&mut self, ready: Vec<Readiness>) {
        self.ready = ready;
    }
}
