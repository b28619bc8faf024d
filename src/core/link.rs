//! A process's socket and the phase it is in: open, read to its end, asked to
//! send its end of file, draining before the close. Its fields change only through the
//! named transitions below; the reactor (reactor.rs, round.rs), the context's registration
//! and close (context.rs) and the host's primitives (ops.rs, connect.rs, make.rs, server.rs)
//! call them. Registering the socket with the poller stays in context.rs; this module knows no
//! poller and no context.

use std::io;

use socket2::Socket;

use super::tls::{PeerFacts, TlsSession};

/// A connection's TLS: the live session, or after the close what its handshake told of
/// the peer. The host may ask for peer status after the peer hung up and before it has
/// seen the close, as Emacs's own tests do (a close Emacs has not read yet leaves its
/// session up); `delete-process` forgets it.
enum Tls {
    Live(Box<TlsSession>),
    Ended(PeerFacts),
}

/// The socket and its phase flags. A process has one from creation; it holds no socket
/// until one is made (or after the close).
#[derive(Default)]
pub(crate) struct Link {
    socket: Option<Socket>,
    /// TLS over the socket, from `:tls-parameters` or a STARTTLS upgrade; after the close,
    /// what its handshake told of the peer.
    tls: Option<Box<Tls>>,
    /// Bytes still to go out in the clear before a STARTTLS handshake starts: what was
    /// queued before the upgrade was asked for.
    clear_before_tls: usize,
    /// The reactor slot (and mio token) while the socket is registered.
    slot: Option<u32>,
    /// The peer's end of file (or a reset) was read: nothing more to read. The socket
    /// stays open, for the replies the filter still sends, until the close is delivered.
    input_closed: bool,
    /// The socket reported readiness that has not been drained yet.
    readable: bool,
    /// Readiness came with the peer's end, an error or urgent data: read on until a read
    /// would block, however short a read comes back.
    read_to_block: bool,
    /// The process is in the reactor's queue of processes to serve (round.rs).
    in_ready_list: bool,
    /// A flush stopped at the turn's write budget, not at a full socket: go on next turn.
    write_pending: bool,
    /// The reactor watches the socket for writability (see `Core::register`).
    watching_output: bool,
    /// `:linger 0`: close abortively, dropping unsent data.
    abortive_close: bool,
    /// Deleted with output still queued: the socket stays open until it drains.
    draining: bool,
    /// `process-send-eof` was called; shutdown happens once the queue is empty.
    eof_requested: bool,
    /// The writing side was shut down after an EOF request.
    eof_sent: bool,
}

impl Link {
    // Getters.

    /// The socket, while the process has one.
    pub(crate) fn socket(&self) -> Option<&Socket> {
        self.socket.as_ref()
    }

    /// Whether the process has a socket.
    pub(crate) fn has_socket(&self) -> bool {
        self.socket.is_some()
    }

    /// The reactor slot, while the socket is registered.
    pub(crate) fn slot(&self) -> Option<u32> {
        self.slot
    }

    /// Whether readiness was reported and not yet drained.
    pub(crate) fn is_readable(&self) -> bool {
        self.readable
    }

    /// Whether a flush stopped at the turn's write budget.
    pub(crate) fn write_pending(&self) -> bool {
        self.write_pending
    }

    /// Whether the reactor watches the socket for writability.
    pub(crate) fn watching_output(&self) -> bool {
        self.watching_output
    }

    /// Whether the close is abortive (`:linger 0`).
    pub(crate) fn abortive_close(&self) -> bool {
        self.abortive_close
    }

    /// Whether the socket stays open only to drain queued output.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining
    }

    /// Whether `process-send-eof` was called.
    pub(crate) fn eof_requested(&self) -> bool {
        self.eof_requested
    }

    /// Whether reading is possible as far as the socket goes: connected, not read to its
    /// end, not draining.
    pub(crate) fn may_read(&self) -> bool {
        self.socket.is_some() && !self.input_closed && !self.draining
    }

    /// The TLS session, if the connection has one.
    pub(crate) fn tls(&self) -> Option<&TlsSession> {
        match self.tls.as_deref() {
            Some(Tls::Live(session)) => Some(session),
            _ => None,
        }
    }

    /// Whether a TLS handshake is under way (or about to start): queued output waits.
    pub(crate) fn tls_handshaking(&self) -> bool {
        self.tls().is_some_and(|tls| tls.is_handshaking())
    }

    /// The socket and the TLS session together, for the reactor's reads.
    pub(crate) fn socket_and_tls(&mut self) -> Option<(&Socket, &mut TlsSession)> {
        match (&self.socket, self.tls.as_deref_mut()) {
            (Some(socket), Some(Tls::Live(tls))) => Some((socket, tls)),
            _ => None,
        }
    }

    /// Write `bytes` as the connection carries them now: in the clear, or through TLS
    /// once its handshake is done. The count taken; WouldBlock when nothing was.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let Some(socket) = &self.socket else { return Err(io::ErrorKind::NotConnected.into()) };
        let live = match self.tls.as_deref_mut() {
            Some(Tls::Live(session)) => Some(session),
            _ => None,
        };
        match live {
            None => socket.send_with_flags(bytes, libc::MSG_NOSIGNAL),
            Some(_) if self.clear_before_tls > 0 => {
                let clear = &bytes[..bytes.len().min(self.clear_before_tls)];
                let written = socket.send_with_flags(clear, libc::MSG_NOSIGNAL)?;
                self.clear_before_tls -= written;
                Ok(written)
            }
            Some(tls) if tls.is_handshaking() => Err(io::ErrorKind::WouldBlock.into()),
            Some(tls) => tls.send(socket, bytes),
        }
    }

    /// Write the TLS records waiting (handshake messages, alerts, encrypted output).
    /// Ok(true) when none is left. A STARTTLS handshake starts only after the bytes
    /// queued before it went out in the clear.
    pub(crate) fn push_tls(&mut self) -> io::Result<bool> {
        match (&self.socket, self.tls.as_deref_mut()) {
            (Some(socket), Some(Tls::Live(tls))) if self.clear_before_tls == 0 => tls.push(socket),
            _ => Ok(true),
        }
    }

    /// Whether TLS records wait for room in the socket.
    pub(crate) fn tls_records_waiting(&self) -> bool {
        self.clear_before_tls == 0 && self.tls().is_some_and(|tls| tls.has_records_to_write())
    }

    // Transitions.

    /// The connection speaks TLS from now on; the first `clear_before` bytes of the
    /// output queue (queued before a STARTTLS) still go out in the clear.
    pub(crate) fn start_tls(&mut self, session: Box<TlsSession>, clear_before: usize) {
        self.tls = Some(Box::new(Tls::Live(session)));
        self.clear_before_tls = clear_before;
    }

    /// The facts of the peer of a TLS session whose handshake finished: from the live
    /// session, or as the close left them.
    pub(crate) fn peer_facts(&self) -> Option<PeerFacts> {
        match self.tls.as_deref()? {
            Tls::Live(session) if session.is_handshaking() => None,
            Tls::Live(session) => Some(PeerFacts::of(session)),
            Tls::Ended(facts) => Some(facts.clone()),
        }
    }

    /// `delete-process`: what the close kept of the peer goes (see `Tls::Ended`).
    pub(crate) fn forget_peer(&mut self) {
        if matches!(self.tls.as_deref(), Some(Tls::Ended(_))) {
            self.tls = None;
        }
    }

    /// The TLS session, to act on.
    pub(crate) fn tls_mut(&mut self) -> Option<&mut TlsSession> {
        match self.tls.as_deref_mut() {
            Some(Tls::Live(session)) => Some(session),
            _ => None,
        }
    }

    /// A socket was made for the process (connected, bound or accepted). A client's socket
    /// comes here only once connected: attempts in flight belong to its race (attempts.rs).
    pub(crate) fn attach(&mut self, socket: Socket) {
        self.socket = Some(socket);
    }

    /// The socket was registered with the reactor under `slot` (the token is a usize; the
    /// slot is stored in 32 bits to keep `State` small).
    pub(crate) fn registered(&mut self, slot: usize) {
        self.slot = u32::try_from(slot).ok();
    }

    /// Whether the reactor watches (or, being registered, is to watch) for writability.
    pub(crate) fn set_watching_output(&mut self, watching: bool) {
        self.watching_output = watching;
    }

    /// The socket may have input (or a connection to accept).
    pub(crate) fn mark_readable(&mut self) {
        self.readable = true;
    }

    /// Readiness came with the peer's end, an error or urgent data (see `read_to_block`).
    pub(crate) fn read_to_block(&mut self) {
        self.read_to_block = true;
    }

    /// Whether a read of `got` bytes (or datagrams, for a `recvmmsg` batch) into room for
    /// `room` shows the socket drained, so that the read that would block can be skipped
    /// (one system call per message in a request/response exchange; tokio's PollEvented
    /// does the same). On Linux a TCP or unix stream read returns all that is queued up to
    /// its room, a batch all the datagrams queued up to its length, and input that arrives
    /// during or after it is a new wakeup, hence a new edge-triggered event. Not so when
    /// the peer's end or an error is queued behind the data, or at TCP's urgent mark: those
    /// came with `read_to_block`. A seqpacket read returns one message whatever is queued
    /// behind it, and other systems promise less: those always read until a read would
    /// block.
    pub(crate) fn short_read_is_dry(&self, got: usize, room: usize) -> bool {
        cfg!(any(target_os = "linux", target_os = "android")) && got < room && !self.read_to_block
    }

    /// A read (or accept) would block: wait for the next readiness.
    pub(crate) fn read_dry(&mut self) {
        self.readable = false;
        self.read_to_block = false;
    }

    /// The peer's end of file (or a reset) was read. Returns false if it was already.
    pub(crate) fn input_ended(&mut self) -> bool {
        if self.input_closed {
            return false;
        }
        self.input_closed = true;
        self.readable = false;
        self.read_to_block = false;
        true
    }

    /// Enter the ready list; returns false if the process is in it already.
    pub(crate) fn enter_ready_list(&mut self) -> bool {
        !std::mem::replace(&mut self.in_ready_list, true)
    }

    /// The process left the ready list to be served.
    pub(crate) fn leave_ready_list(&mut self) {
        self.in_ready_list = false;
    }

    /// A flush stopped at the turn's write budget: go on next turn.
    pub(crate) fn defer_write(&mut self) {
        self.write_pending = true;
    }

    /// Whether a flush was deferred to this turn; clears it.
    pub(crate) fn take_write_pending(&mut self) -> bool {
        std::mem::take(&mut self.write_pending)
    }

    /// `:linger` was given (at creation, or by `set-network-process-option`).
    pub(crate) fn set_abortive_close(&mut self, abortive: bool) {
        self.abortive_close = abortive;
    }

    /// Start draining before the close; returns false if the socket drains already.
    pub(crate) fn start_draining(&mut self) -> bool {
        !std::mem::replace(&mut self.draining, true)
    }

    /// `process-send-eof`: shut down the writing side once the queue is empty.
    pub(crate) fn request_eof(&mut self) {
        self.eof_requested = true;
    }

    /// The queue is empty: whether the writing side is to be shut down now (an EOF was
    /// requested and not yet sent). Records it as sent.
    pub(crate) fn take_eof_to_send(&mut self) -> bool {
        if self.eof_requested && !self.eof_sent {
            self.eof_sent = true;
            return true;
        }
        false
    }

    /// The close: no more draining or readiness; the socket and the slot are handed to
    /// the caller, which deregisters and drops them.
    pub(crate) fn close(&mut self) -> (Option<Socket>, Option<u32>) {
        self.draining = false;
        self.readable = false;
        if let (Some(socket), Some(Tls::Live(tls))) = (&self.socket, self.tls.as_deref_mut()) {
            // Tell the peer the session ended on purpose (close_notify), as far as the
            // socket takes it now; a truncation attack would look like a plain close.
            if !tls.is_handshaking() && !self.abortive_close && self.clear_before_tls == 0 {
                tls.close_notify();
                let _ = tls.push(socket);
            }
        }
        // The session goes; what its handshake told of the peer stays until the delete.
        self.tls = match self.tls.take().map(|tls| *tls) {
            Some(Tls::Live(session)) if !session.is_handshaking() => {
                Some(Box::new(Tls::Ended(PeerFacts::of(&session))))
            }
            _ => None,
        };
        if let Some(socket) = &self.socket {
            // After the peer's end of file (or a reset) was read nothing can be unread:
            // spare the system call (one per connection in an accept storm, W3).
            if !self.abortive_close && !self.input_closed {
                discard_unread_input(socket);
            }
        }
        (self.socket.take(), self.slot.take())
    }
}

/// Read and drop what the peer sent that nobody will read now. A socket closed with unread
/// input makes the kernel send a reset instead of a FIN, and a reset throws away what is
/// still in our send buffer, unsent: the end of the output a drain just wrote (seen as the
/// last 48 KiB of a GiB missing at the peer). Bounded: a peer still sending past this gets
/// the reset.
fn discard_unread_input(socket: &Socket) {
    let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); 16384];
    for _ in 0..64 {
        match socket.recv_with_flags(&mut scratch, libc::MSG_DONTWAIT) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}
