//! The C form of what a sentinel is told ([`netproc_event`]), beside its Emacs message.
//! A leaf module: the C state keeps these for netproc_sentinel_event (events.rs), and the
//! host makes them (host.rs).

use std::ffi::c_int;

use crate::core::event::SentinelEvent;

/// What a sentinel is told, beside its Emacs message.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum netproc_event_kind {
    /// "open\n": a `:nowait` client connected (and finished its TLS handshake).
    NETPROC_EVENT_OPEN = 1,
    /// "open from HOST\n": a server accepted this connection.
    NETPROC_EVENT_OPEN_FROM = 2,
    /// "connection broken by remote peer\n" after an orderly close (end of stream).
    NETPROC_EVENT_PEER_CLOSED = 3,
    /// "connection broken by remote peer\n" after a reset, or a write that found the peer
    /// gone.
    NETPROC_EVENT_PEER_RESET = 4,
    /// "deleted\n": netproc_delete_process().
    NETPROC_EVENT_DELETED = 5,
    /// "failed with code CODE\n": a lookup, connect or TLS handshake failed, or `:framing`
    /// met a message it refuses (CODE "message too large: …" or "bad message header: …").
    NETPROC_EVENT_FAILED = 6,
    /// "drain\n", told to a `:drain` function: the output queue fell below half of the
    /// `:high-water` mark after passing it.
    NETPROC_EVENT_DRAIN = 7,
}

/// One sentinel call's event.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct netproc_event {
    /// What happened.
    pub kind: netproc_event_kind,
    /// For NETPROC_EVENT_FAILED, the errno of the system call that failed (111,
    /// ECONNREFUSED, for a refused connect); 0 for a name lookup, TLS or framing failure
    /// (the message says which) and for every other kind.
    pub error_number: c_int,
}

impl netproc_event {
    /// The C form of a core event.
    pub(crate) fn of(event: &SentinelEvent) -> netproc_event {
        use netproc_event_kind::*;
        let (kind, error_number) = match event {
            SentinelEvent::Open => (NETPROC_EVENT_OPEN, 0),
            SentinelEvent::OpenFrom(_) => (NETPROC_EVENT_OPEN_FROM, 0),
            SentinelEvent::PeerClosed { reset: false } => (NETPROC_EVENT_PEER_CLOSED, 0),
            SentinelEvent::PeerClosed { reset: true } => (NETPROC_EVENT_PEER_RESET, 0),
            SentinelEvent::Deleted => (NETPROC_EVENT_DELETED, 0),
            SentinelEvent::Drain => (NETPROC_EVENT_DRAIN, 0),
            SentinelEvent::Failed { errno, .. } => (NETPROC_EVENT_FAILED, errno.unwrap_or(0)),
        };
        netproc_event { kind, error_number }
    }
}
