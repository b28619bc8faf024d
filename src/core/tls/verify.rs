//! Checking a server's certificate the way Emacs's GnuTLS code does (`gnutls_verify_boot`,
//! src/gnutls.c): every check runs, each failure is a warning, and `:verify-error` says
//! which of them end the connection. rustls's own verifier (the system's trust store or the
//! trust files) does the checking; this wrapper records what it found for one connection,
//! so that `gnutls-peer-status` can list the warnings and a failure names its reason.

use std::sync::Arc;

use parking_lot::Mutex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::params::VerifyPolicy;

/// A certificate problem, with the keyword `gnutls-peer-status` lists it under.
// Read by gnutls-peer-status (the tls-boundary branch, in progress).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Warning {
    Invalid,
    Revoked,
    SelfSigned,
    UnknownCa,
    Expired,
    NotActivated,
    NoHostMatch,
    SignatureFailure,
    PurposeMismatch,
}

impl Warning {
    /// The keyword Emacs's `gnutls-peer-status` uses.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Warning::Invalid => ":invalid",
            Warning::Revoked => ":revoked",
            Warning::SelfSigned => ":self-signed",
            Warning::UnknownCa => ":unknown-ca",
            Warning::Expired => ":expired",
            Warning::NotActivated => ":not-activated",
            Warning::NoHostMatch => ":no-host-match",
            Warning::SignatureFailure => ":signature-failure",
            Warning::PurposeMismatch => ":purpose-mismatch",
        }
    }

    /// The text `gnutls-peer-status-warning-describe` gives.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Warning::Invalid => "certificate could not be verified",
            Warning::Revoked => "certificate was revoked (CRL)",
            Warning::SelfSigned => "certificate signer was not found (self-signed)",
            Warning::UnknownCa => {
                "the certificate was signed by an unknown and therefore untrusted authority"
            }
            Warning::Expired => "certificate has expired",
            Warning::NotActivated => "certificate is not yet activated",
            Warning::NoHostMatch => "certificate host does not match hostname",
            Warning::SignatureFailure => "certificate signature could not be verified",
            Warning::PurposeMismatch => "certificate does not match the intended purpose",
        }
    }
}

/// What the checks of one handshake found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Findings {
    /// Chain problems (everything but the name), most specific first.
    pub(crate) chain: Vec<Warning>,
    /// The certificate does not name the host.
    pub(crate) no_host_match: bool,
    /// The leaf certificate is its own issuer.
    pub(crate) self_signed: bool,
    /// The verifier's own words for a chain failure, when no warning says it.
    pub(crate) detail: Option<String>,
}

/// The warnings in the order `gnutls-peer-status` lists them: Emacs's `Fgnutls_peer_status`
/// checks them from the last of these to the first, consing each onto the list.
const LISTED: [Warning; 9] = [
    Warning::SelfSigned,
    Warning::NoHostMatch,
    Warning::PurposeMismatch,
    Warning::SignatureFailure,
    Warning::Expired,
    Warning::NotActivated,
    Warning::UnknownCa,
    Warning::Revoked,
    Warning::Invalid,
];

impl Findings {
    /// Every warning, in the order `gnutls-peer-status` lists them.
    pub(crate) fn warnings(&self) -> Vec<Warning> {
        LISTED
            .into_iter()
            .filter(|warning| match warning {
                Warning::NoHostMatch => self.no_host_match,
                Warning::SelfSigned => self.self_signed,
                chain => self.chain.contains(chain),
            })
            .collect()
    }
}

/// What `gnutls-peer-status-warning-describe` says of `keyword` (":expired"): the texts of
/// the warnings netproc finds, and of those only GnuTLS's own checks find, so that every
/// keyword Emacs knows has its text; None for any other.
pub(crate) fn describe_keyword(keyword: &str) -> Option<&'static str> {
    if let Some(warning) = LISTED.into_iter().find(|warning| warning.keyword() == keyword) {
        return Some(warning.describe());
    }
    Some(match keyword {
        ":not-ca" => "certificate signer is not a CA",
        ":insecure" => "certificate was signed with an insecure algorithm",
        ":revocation-data-superseded" => "certificate revocation data are old and have been superseded",
        ":revocation-data-issued-in-future" => "certificate revocation data have a future issue date",
        ":signer-constraints-failure" => "certificate signer constraints were violated",
        ":missing-ocsp-status" => {
            "certificate requires the server to send a OCSP certificate status, but no status was received"
        }
        ":invalid-ocsp-status" => "the received OCSP certificate status is invalid",
        _ => return None,
    })
}

/// The warnings a rustls error stands for.
fn warnings_of(error: &rustls::Error) -> Vec<Warning> {
    use CertificateError as E;
    let specific = match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            E::UnknownIssuer => Some(Warning::UnknownCa),
            E::BadSignature => Some(Warning::SignatureFailure),
            E::Expired | E::ExpiredContext { .. } => Some(Warning::Expired),
            E::NotValidYet | E::NotValidYetContext { .. } => Some(Warning::NotActivated),
            E::Revoked => Some(Warning::Revoked),
            E::InvalidPurpose | E::InvalidPurposeContext { .. } => Some(Warning::PurposeMismatch),
            _ => None,
        },
        _ => None,
    };
    // GnuTLS marks every failed chain invalid as well.
    specific.into_iter().chain([Warning::Invalid]).collect()
}

fn is_name_error(error: &rustls::Error) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

/// One connection's verifier: rustls's verifier underneath, the findings kept.
#[derive(Debug)]
pub(crate) struct Recorder {
    inner: Arc<dyn ServerCertVerifier>,
    policy: VerifyPolicy,
    ignore_time: bool,
    findings: Mutex<Findings>,
}

impl Recorder {
    pub(crate) fn new(
        inner: Arc<dyn ServerCertVerifier>,
        policy: VerifyPolicy,
        ignore_time: bool,
    ) -> Recorder {
        Recorder { inner, policy, ignore_time, findings: Mutex::new(Findings::default()) }
    }

    /// What the checks found (empty before the server's certificate arrived).
    pub(crate) fn findings(&self) -> Findings {
        self.findings.lock().clone()
    }
}

/// A time inside the certificate's validity, for `:verify-flags` 64 (no time checks).
fn time_inside_validity(certificate: &CertificateDer<'_>) -> Option<UnixTime> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
    let from = parsed.validity().not_before.timestamp();
    u64::try_from(from)
        .ok()
        .map(|seconds| UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds + 1)))
}

fn is_self_signed(certificate: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(certificate.as_ref())
        .map(|(_, parsed)| parsed.issuer().as_raw() == parsed.subject().as_raw())
        .unwrap_or(false)
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut findings = Findings { self_signed: is_self_signed(end_entity), ..Findings::default() };
        findings.no_host_match = match rustls::server::ParsedCertificate::try_from(end_entity) {
            Ok(parsed) => rustls::client::verify_server_name(&parsed, server_name).is_err(),
            Err(_) => true,
        };
        let when = if self.ignore_time { time_inside_validity(end_entity).unwrap_or(now) } else { now };
        let chain =
            self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, when);
        let mut fatal = None;
        match chain {
            Ok(_) => {}
            // The chain is good; the name was checked above.
            Err(error) if is_name_error(&error) => {}
            Err(error) => {
                findings.chain = warnings_of(&error);
                if findings.chain == [Warning::Invalid] {
                    if findings.self_signed {
                        // A self-signed certificate nobody trusts, refused for a reason of
                        // webpki's own (a CA certificate shown as the server's, typically):
                        // GnuTLS reports its signer, itself, not found.
                        findings.chain.insert(0, Warning::UnknownCa);
                    } else {
                        findings.detail = Some(error.to_string());
                    }
                }
                if self.policy.chain_fatal {
                    fatal = Some(error);
                }
            }
        }
        if fatal.is_none() && findings.no_host_match && self.policy.name_fatal {
            fatal = Some(rustls::Error::InvalidCertificate(CertificateError::NotValidForName));
        }
        *self.findings.lock() = findings;
        match fatal {
            Some(error) => Err(error),
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Whether the findings end the connection under `policy`.
pub(crate) fn is_fatal(findings: &Findings, policy: VerifyPolicy) -> bool {
    (policy.chain_fatal && !findings.chain.is_empty()) || (policy.name_fatal && findings.no_host_match)
}

/// The message of a handshake that failed on its certificate checks, as Emacs words them
/// (`gnutls_verify_boot`), with the reason named.
pub(crate) fn failure_message(findings: &Findings, policy: VerifyPolicy, hostname: &str) -> String {
    let chain_failed = policy.chain_fatal && !findings.chain.is_empty();
    if !chain_failed && findings.no_host_match {
        return format!("The x509 certificate does not match \"{hostname}\"");
    }
    let reason = match (findings.chain.first(), &findings.detail) {
        (Some(Warning::Invalid) | None, Some(detail)) => detail.clone(),
        (Some(warning), _) => warning.describe().to_owned(),
        (None, None) => Warning::Invalid.describe().to_owned(),
    };
    format!("Certificate validation failed {hostname}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_issuer_is_an_unknown_ca_and_invalid() {
        let warnings = warnings_of(&rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert_eq!(warnings, vec![Warning::UnknownCa, Warning::Invalid]);
    }

    #[test]
    fn warnings_come_in_emacs_order() {
        // GnuTLS's listing for a self-signed certificate nobody trusts.
        let own = Findings {
            chain: vec![Warning::UnknownCa, Warning::Invalid],
            self_signed: true,
            ..Findings::default()
        };
        assert_eq!(own.warnings(), vec![Warning::SelfSigned, Warning::UnknownCa, Warning::Invalid]);
        let expired = Findings {
            chain: vec![Warning::Expired, Warning::Invalid],
            no_host_match: true,
            ..Findings::default()
        };
        assert_eq!(expired.warnings(), vec![Warning::NoHostMatch, Warning::Expired, Warning::Invalid]);
        assert_eq!(describe_keyword(":expired"), Some("certificate has expired"));
        assert_eq!(describe_keyword(":not-ca"), Some("certificate signer is not a CA"));
        assert_eq!(describe_keyword(":nonsense"), None);
        assert_eq!(describe_keyword("expired"), None);
    }

    #[test]
    fn messages_name_the_reason() {
        let expired = Findings { chain: vec![Warning::Expired, Warning::Invalid], ..Findings::default() };
        assert_eq!(
            failure_message(&expired, VerifyPolicy::STRICT, "example.org"),
            "Certificate validation failed example.org: certificate has expired"
        );
        let wrong = Findings { no_host_match: true, ..Findings::default() };
        assert_eq!(
            failure_message(&wrong, VerifyPolicy::STRICT, "example.org"),
            "The x509 certificate does not match \"example.org\""
        );
    }
}
