//! TLS on rustls behind Emacs's interface: `:tls-parameters` read as `gnutls-boot` reads
//! them (params.rs), configurations built once (config.rs), certificate checks that keep
//! their findings as GnuTLS does for Emacs's Network Security Manager (verify.rs), the
//! session the reactor drives without ever waiting (session.rs) and what
//! `gnutls-peer-status` says of it (peer.rs, with certificate.rs and dn.rs). docs/TLS.md is the user's view.

mod certificate;
mod config;
mod dn;
mod params;
mod peer;
mod session;
mod verify;

pub(crate) use config::server as server_config;

/// A TLS server's configuration, shared by the handshakes of every connection it accepts.
pub(crate) type ServerTls = std::sync::Arc<rustls::ServerConfig>;
pub(crate) use params::TlsParams;
pub(crate) use peer::{available, PeerFacts};
pub(crate) use session::{Broken, Plain, TlsSession};
pub(crate) use verify::describe_keyword;
