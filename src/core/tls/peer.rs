//! What Emacs's `gnutls-peer-status` (src/gnutls.c: `Fgnutls_peer_status`) says of a TLS
//! session, in GnuTLS's words, from what rustls negotiated; each certificate's plist comes
//! from certificate.rs.
//!
//! Two steps, so that the process lock is held only for the first: [`PeerFacts::of`] copies
//! what the session knows (certificates, findings, version, suite); [`PeerFacts::status`]
//! parses and formats, with no lock held.
//!
//! GnuTLS 3.7's names, which Emacs 28.2 passes on (compared with Emacs's own
//! `gnutls-peer-status` against `openssl s_server`): `:key-exchange` in TLS 1.3 is
//! "ECDHE-RSA" for any elliptic-curve exchange, whatever the certificate's key, and
//! "ECDHE-PSK" for a resumed session; in TLS 1.2 the suite's ("ECDHE-ECDSA", "ECDHE-RSA").
//! `:cipher` is "AES-256-GCM", "AES-128-GCM" or "CHACHA20-POLY1305", and `:mac` "AEAD"
//! for every suite rustls has.

use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, HandshakeKind, ProtocolVersion};

use super::certificate::{certificate, Plist};
use super::session::TlsSession;
use super::verify::Warning;
use crate::core::value::Value;

/// What a finished handshake tells of the peer, copied out of the session.
#[derive(Clone)]
pub(crate) struct PeerFacts {
    /// The peer's chain as it sent it, its own certificate first.
    certificates: Vec<CertificateDer<'static>>,
    warnings: Vec<Warning>,
    /// The protocol version as GnuTLS names it ("TLS1.3").
    protocol: String,
    tls13: bool,
    suite: Option<CipherSuite>,
    resumed: bool,
}

impl PeerFacts {
    /// The facts of `session`, whose handshake is done.
    pub(crate) fn of(session: &TlsSession) -> PeerFacts {
        let connection = session.connection();
        PeerFacts {
            certificates: connection.peer_certificates().map(<[_]>::to_vec).unwrap_or_default(),
            warnings: session.findings().warnings(),
            protocol: session.negotiated().0,
            tls13: connection.protocol_version() == Some(ProtocolVersion::TLSv1_3),
            suite: connection.negotiated_cipher_suite().map(|suite| suite.suite()),
            resumed: connection.handshake_kind() == Some(HandshakeKind::Resumed),
        }
    }

    /// The `gnutls-peer-status` plist; the certificates' with `:public-key-id-sha256` if
    /// `sha256_key_id` (Emacs 30's).
    pub(crate) fn status(&self, sha256_key_id: bool) -> Value {
        let mut plist = Plist::default();
        if !self.warnings.is_empty() {
            let warnings = self.warnings.iter().map(|warning| Value::symbol(warning.keyword()));
            plist.put(":warnings", Value::list(warnings.collect::<Vec<_>>()));
        }
        if !self.certificates.is_empty() {
            let details: Vec<Value> =
                self.certificates.iter().map(|der| certificate(der, sha256_key_id)).collect();
            let host = details[0].clone();
            plist.put(":certificates", Value::list(details));
            plist.put(":certificate", host);
        }
        let suite = self.suite.and_then(|suite| suite.as_str()).unwrap_or("");
        plist.put(":key-exchange", Value::string(key_exchange(suite, self.tls13, self.resumed)));
        plist.put(":protocol", Value::string(&self.protocol));
        let (cipher, mac) = cipher_and_mac(suite);
        plist.put(":cipher", Value::string(cipher));
        plist.put(":mac", Value::string(mac));
        // Encrypt-then-MAC applies to CBC suites only; rustls has none.
        plist.put(":encrypt-then-mac", Value::Nil);
        if !self.tls13 {
            // rustls never renegotiates (it refuses a HelloRequest), so a renegotiation
            // attack has nothing to work on: the property the Network Security Manager
            // asks about holds.
            plist.put(":safe-renegotiation", Value::T);
        }
        plist.into_value()
    }
}

/// GnuTLS's name of the key exchange of `suite` (IANA's name, e.g.
/// "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384").
fn key_exchange(suite: &str, tls13: bool, resumed: bool) -> String {
    if tls13 {
        // rustls resumes TLS 1.3 sessions with a fresh (EC)DHE exchange (psk_dhe_ke) only.
        return if resumed { "ECDHE-PSK" } else { "ECDHE-RSA" }.into();
    }
    let exchange = suite.strip_prefix("TLS_").and_then(|rest| rest.split("_WITH_").next()).unwrap_or("");
    exchange.replace('_', "-")
}

/// GnuTLS's names of the cipher and MAC of `suite`.
fn cipher_and_mac(suite: &str) -> (String, String) {
    let bulk = match suite.split_once("_WITH_") {
        Some((_, bulk)) => bulk,
        None => suite.strip_prefix("TLS13_").unwrap_or(suite),
    };
    // The last part names the handshake's hash, or for older suites the MAC.
    let (cipher, hash) = bulk.rsplit_once('_').unwrap_or((bulk, ""));
    let aead = ["GCM", "CCM", "CCM_8", "POLY1305"].iter().any(|mode| cipher.ends_with(mode));
    let mac = match hash {
        _ if aead => "AEAD",
        // Old suites name SHA-1 plainly "SHA"; rustls has none of them.
        "SHA" => "SHA1",
        other => other,
    };
    (cipher.replace('_', "-"), mac.to_owned())
}

/// What netproc's TLS offers, in the shape of Emacs's `gnutls-available-p`: the names of
/// the TLS extensions rustls uses, as GnuTLS names them and in the order Emacs lists them,
/// then `gnutls` (TLS is there). Left out on purpose: `gnutls3`, `digests`, `ciphers`,
/// `AEAD-ciphers` and `macs`, which announce Emacs's GnuTLS crypto functions
/// (`gnutls-digests`, `gnutls-symmetric-encrypt`, ...) that netproc does not provide, and
/// `ClientHello Padding`, which makes `gnutls-boot-parameters` add GnuTLS's `%DUMBFW`.
pub(crate) fn available() -> Value {
    const EXTENSIONS: [&str; 13] = [
        "Key Share",
        "PSK Key Exchange Modes",
        "Cookie",
        "Supported Versions",
        "Pre Shared Key",
        "Session Ticket",
        "Extended Master Secret",
        "ALPN",
        "Signature Algorithms",
        "Supported EC Point Formats",
        "Supported Groups",
        "OCSP Status Request",
        "Server Name Indication",
    ];
    let mut items: Vec<Value> = EXTENSIONS.iter().map(|name| Value::symbol(name)).collect();
    items.push(Value::symbol("gnutls"));
    Value::list(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_in_gnutls_words() {
        assert_eq!(key_exchange("TLS13_AES_256_GCM_SHA384", true, false), "ECDHE-RSA");
        assert_eq!(key_exchange("TLS13_AES_256_GCM_SHA384", true, true), "ECDHE-PSK");
        assert_eq!(key_exchange("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, false), "ECDHE-ECDSA");
        assert_eq!(key_exchange("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, false), "ECDHE-RSA");
        let names = |suite| cipher_and_mac(suite);
        assert_eq!(names("TLS13_AES_256_GCM_SHA384"), ("AES-256-GCM".into(), "AEAD".into()));
        assert_eq!(names("TLS13_CHACHA20_POLY1305_SHA256"), ("CHACHA20-POLY1305".into(), "AEAD".into()));
        assert_eq!(names("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), ("AES-128-GCM".into(), "AEAD".into()));
        // Every suite rustls offers has a name here.
        for suite in rustls::crypto::ring::ALL_CIPHER_SUITES {
            let name = suite.suite().as_str().unwrap();
            let (cipher, mac) = cipher_and_mac(name);
            assert!(!cipher.is_empty() && mac == "AEAD", "{name}");
        }
    }
}
