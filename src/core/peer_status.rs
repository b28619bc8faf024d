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
//! It goes when the connection closes (Emacs's `deactivate_process` frees the GnuTLS
//! state too).

use super::process::{Process, Role};
use super::tls::{available, describe_keyword, PeerFacts};
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
    /// TLS 1.3), or nil when the process has no TLS session whose handshake is done.
    /// The certificates have Emacs 28's keys (`tls_peer_status_with` for Emacs 30's).
    pub fn tls_peer_status(&self) -> Value {
        self.tls_peer_status_with(false)
    }

    /// `tls_peer_status`, each certificate with Emacs 30's `:public-key-id-sha256` too if
    /// `sha256_key_id`.
    pub fn tls_peer_status_with(&self, sha256_key_id: bool) -> Value {
        let facts = {
            let state = self.state.lock();
            match state.link.tls() {
                Some(session) if !session.is_handshaking() => PeerFacts::of(session),
                _ => return Value::Nil,
            }
        };
        // Parsing the certificates needs no lock.
        facts.status(sha256_key_id)
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
