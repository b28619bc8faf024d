//! What readiness drives for TLS connections (the reactor's part, by the split rule for
//! `Core`'s methods in docs/ARCHITECTURE.md): handshakes started, advanced, done, failed
//! or timed out, and decrypted input recorded in the inbox like any other.
//!
//! The handshake runs in the reactor for every connection (`:nowait`, accepted, STARTTLS):
//! the host never waits on a peer for it. Its status stays `connect` (a client) until the
//! handshake and the certificate checks are done; only then does the `Connected` arrival
//! (its `"open\n"` sentinel) or, for a TLS server's connection, the `Accepted` one go into
//! the inbox, so no filter call can come before them.

use std::time::Instant;

use super::context::Core;
use super::inbox::{Accepted, Arrival};
use super::process::{ProcRef, State};
use super::tls::{Broken, Plain};
use super::tls_connect::note_negotiated;

/// Socket reads per process per turn, as for plain streams.
const TLS_READS_PER_PROCESS: usize = 16;

/// What taking decrypted input found.
enum Taken {
    /// Nothing more is decrypted now.
    Drained,
    /// The turn's read budget is spent.
    Budget,
    /// The TLS session (or the socket under it) ended.
    Ended,
}

impl Core {
    /// Start the handshake of a connected socket: a client's after its connect, an accepted
    /// connection's, or a STARTTLS upgrade's. `opening` is an accepted connection's,
    /// announced once the handshake is done.
    pub(crate) fn begin_handshake(
        &mut self,
        process: &ProcRef,
        state: &mut State,
        opening: Option<Accepted>,
    ) {
        let deadline = Instant::now() + self.settings().tls_handshake_timeout;
        self.handshakes().add(process, deadline, opening);
        self.push_tls_records(process, state);
        if state.link.has_socket() {
            state.link.mark_readable();
            self.round().mark_ready(process, state);
        }
    }

    /// Write the TLS records waiting; watch the socket when it is full. False when some
    /// wait or the connection broke.
    pub(crate) fn push_tls_records(&mut self, process: &ProcRef, state: &mut State) -> bool {
        match state.link.push_tls() {
            Ok(true) => true,
            Ok(false) => {
                self.watch_output(process, state);
                false
            }
            Err(err) => {
                self.tls_broken(process, state, Broken::Socket(err));
                false
            }
        }
    }

    /// One turn for a TLS connection: read records, advance the handshake, record what
    /// they decrypt to. Returns whether it may have more input.
    pub(crate) fn read_tls_stream(&mut self, process: &ProcRef, state: &mut State) -> bool {
        let size = self.settings().read_max.max(1);
        for _ in 0..TLS_READS_PER_PROCESS {
            // What rustls already decrypted goes first (a stopped process may have left some).
            if !state.link.tls_handshaking() {
                match self.take_plaintext(process, state, size) {
                    Taken::Drained => {}
                    Taken::Budget => return true,
                    Taken::Ended => return false,
                }
            }
            if self.round().reads_left() == 0 {
                return true;
            }
            let Some((socket, tls)) = state.link.socket_and_tls() else { return false };
            let more = match tls.receive(socket) {
                Ok(more) => more,
                Err(broken) => {
                    self.tls_broken(process, state, broken);
                    return false;
                }
            };
            // Handshake replies, alerts, key updates.
            if !self.push_tls_records(process, state) && !state.link.has_socket() {
                return false;
            }
            if state.link.tls_mut().is_some_and(|tls| tls.take_established()) {
                self.tls_established(process, state);
                if !state.wants_input() {
                    return false;
                }
            }
            if !more {
                if !state.link.tls_handshaking() {
                    match self.take_plaintext(process, state, size) {
                        Taken::Drained => {}
                        Taken::Budget => return true,
                        Taken::Ended => return false,
                    }
                }
                state.link.read_dry();
                return false;
            }
        }
        true
    }

    /// Record what rustls has decrypted, within the turn's read budget.
    fn take_plaintext(&mut self, process: &ProcRef, state: &mut State, size: usize) -> Taken {
        loop {
            if self.round().reads_left() == 0 {
                return Taken::Budget;
            }
            let Some(tls) = state.link.tls_mut() else { return Taken::Ended };
            let mut input = self.buffers().take(size);
            match tls.plaintext(&mut input, size) {
                Plain::Bytes(n) => {
                    self.round().spend_reads(n);
                    let bytes = self.buffers().hand_over(input, size);
                    self.inbox().record(process, state, Arrival::Data { bytes, sender: None });
                }
                Plain::Empty => {
                    self.buffers().give_back(input, size);
                    return Taken::Drained;
                }
                Plain::Ended => {
                    self.buffers().give_back(input, size);
                    self.input_ended(process, state, false);
                    return Taken::Ended;
                }
            }
        }
    }

    /// The handshake and the certificate checks are done: the contact says what was
    /// negotiated, the host hears of the connection, and the output that waited goes out.
    fn tls_established(&mut self, process: &ProcRef, state: &mut State) {
        let opening = self.handshakes().finish(process);
        if let Some(tls) = state.link.tls() {
            note_negotiated(&mut state.contact, tls);
        }
        if let Some(accepted) = opening {
            self.table().list(process, state);
            self.inbox().record(process, state, Arrival::Accepted(accepted));
        } else if state.lifecycle.is_connecting() {
            self.inbox().record(process, state, Arrival::Connected { already_open: false });
        }
        self.flush_output(process, state);
    }

    /// The connection broke under TLS: in the handshake, the connection failed; after it,
    /// the peer is gone.
    pub(crate) fn tls_broken(&mut self, process: &ProcRef, state: &mut State, broken: Broken) {
        if state.link.tls_handshaking() {
            let message = match broken {
                Broken::Tls(message) => message,
                Broken::Socket(err) => format!(
                    "TLS handshake failed: {}",
                    super::error::strerror(err.raw_os_error().unwrap_or(0))
                ),
            };
            self.tls_failed(process, state, message);
        } else {
            self.input_ended(process, state, true);
        }
    }

    /// The handshake failed: the socket closes now (a connection that asked for TLS never
    /// goes on in the clear) and the status becomes `failed` when the failure is
    /// delivered. A TLS server's connection that fails its handshake was never announced,
    /// so it goes quietly.
    pub(crate) fn tls_failed(&mut self, process: &ProcRef, state: &mut State, message: String) {
        let opening = self.handshakes().finish(process);
        self.close_socket(state);
        if opening.is_none() {
            self.inbox().record(process, state, Arrival::TlsFailed(message));
        }
    }

    /// The host refused a TLS client whose handshake was done, before its `"open\n"`
    /// (Emacs's Network Security Manager said no: `Host::tls_check`). It fails as a
    /// failed handshake does, ahead of anything else of its still to be delivered (input
    /// that came meanwhile is dropped with the socket, as Emacs's deactivate_process drops
    /// it). A process the check deleted only ends `failed`, as in Emacs.
    pub(crate) fn refuse_tls(&mut self, process: &ProcRef, state: &mut State, reason: String) {
        if state.is_deleted() {
            state.lifecycle.refused_after_delete(super::status::Failure::Tls(reason));
            return;
        }
        if state.lifecycle.is_failed() {
            return;
        }
        self.close_socket(state);
        state.link.forget_peer();
        self.inbox().record_ahead(process, state, Arrival::TlsFailed(reason));
    }

    /// Fail the handshakes past their deadline.
    pub(crate) fn expire_handshakes(&mut self) {
        let overdue = self.handshakes().overdue();
        for process in overdue {
            let mut state = process.state.lock();
            if state.link.tls_handshaking() && state.link.has_socket() {
                let after = self.settings().tls_handshake_timeout.as_secs_f64();
                self.tls_failed(
                    &process,
                    &mut state,
                    format!("TLS handshake timed out after {after} seconds"),
                );
            } else {
                self.handshakes().finish(&process);
            }
            drop(state);
            self.release_later(process);
        }
    }
}
