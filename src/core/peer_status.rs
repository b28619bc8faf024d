//! The TLS facts a host may ask of a process, and of netproc's TLS: Emacs's
//! `gnutls-peer-status`, `gnutls-available-p` and `gnutls-peer-status-warning-describe`,
//! and where a process's handshake is. The work is done in `tls/peer.rs`; this module only
//! reads the session behind a process. It stands apart from `tls` because `process.rs`
//! already uses `tls` (tests/module_graph.rs keeps the core's imports free of cycles).
//!
//! When peer status appears: once the handshake and its certificate checks are done, in
//! the reactor's turn that finished them (Emacs's, once GnuTLS's stage is ready). For a
//! `:nowait` client that is before its `"open\n"` sentinel is delivered, as in Emacs,
//! where the Network Security Manager reads the peer status before that sentinel runs.
//! It stays after the peer closes and goes when the process is deleted. Emacs's
//! `deactivate_process` frees the GnuTLS state when its loop reads the close, so there the
//! peer status is nil from then on; netproc's reactor reads a close at once, on its own
//! thread, and keeping the status until `delete-process` is what lets a host that asks
//! right after the peer left (Emacs's own network-stream-tests.el does) get the answer
//! Emacs gives it (docs/DIFFERENCES.md).

use super::process::{Process, Role, State};
use super::tls::{available, describe_keyword};
use super::value::Value;

/// Where a process's TLS session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsState {
    /// No TLS session: a plain connection, a server, or a connection closed (or whose
    /// handshake failed).
    None,
    /// The handshake (with the certificate checks) is running.
    Handshaking,
    /// The handshake is done: data goes encrypted, and peer status is there.
    Established,
}

impl Process {
    /// Where the process's TLS session is.
    pub fn tls_state(&self) -> TlsState {
        match self.state.lock().link.tls() {
            None => TlsState::None,
            Some(session) if session.is_handshaking() => TlsState::Handshaking,
            Some(_) => TlsState::Established,
        }
    }

    /// Whether TLS negotiated on this process makes it the TLS server: a connection a
    /// server accepted (`Shared::negotiate_tls`).
    pub fn tls_server_side(&self) -> bool {
        self.state.lock().role() == Role::Accepted
    }

    /// `gnutls-peer-status`: the plist of the session's peer (`:warnings` when the
    /// certificate checks found any, `:certificates` and `:certificate`, `:key-exchange`,
    /// `:protocol`, `:cipher`, `:mac`, `:encrypt-then-mac`, and `:safe-renegotiation` below
    /// TLS 1.3), or nil when the process has no TLS session whose handshake is done or
    /// was deleted (a session the peer closed keeps its answer). The certificates have
    /// Emacs 28's keys (`tls_peer_status_with` for Emacs 30's).
    pub fn tls_peer_status(&self) -> Value {
        self.tls_peer_status_with(false)
    }

    /// `tls_peer_status`, each certificate with Emacs 30's `:public-key-id-sha256` too if
    /// `sha256_key_id`.
    pub fn tls_peer_status_with(&self, sha256_key_id: bool) -> Value {
        let facts = {
            let state = self.state.lock();
            match state.link.peer_facts() {
                Some(facts) if !state.is_deleted() => facts,
                _ => return Value::Nil,
            }
        };
        // Parsing the certificates needs no lock.
        facts.status(sha256_key_id)
    }
}

impl State {
    /// Whether the process is a TLS client whose handshake is done and whose host has not
    /// judged it yet (`Host::tls_check`): still `connect`, its `"open\n"` next.
    pub(crate) fn awaits_tls_check(&self) -> bool {
        self.lifecycle.is_connecting()
            && self.role() != Role::Accepted
            && self.link.tls().is_some_and(|session| !session.is_handshaking())
    }
}

/// `gnutls-available-p`: what netproc's TLS offers, as a list of symbols in the shape
/// Emacs gives (see `tls/peer.rs`, `available`, for what is in it and what is not).
pub fn tls_available() -> Value {
    available()
}

/// `gnutls-peer-status-warning-describe`: the text for a warning keyword (":expired"),
/// or None for a symbol that is not one.
pub fn tls_warning_description(keyword: &str) -> Option<&'static str> {
    describe_keyword(keyword)
}
