//! `:tls-parameters` as Emacs passes them: `(gnutls-x509pki . PLIST)`, the plist being what
//! `gnutls-boot-parameters` (lisp/net/gnutls.el) builds. Pure: reads the value, touches no
//! file (config.rs loads what it names).
//!
//! Each key `gnutls-boot` reads (Emacs's `Fgnutls_boot`, src/gnutls.c) is honoured or, for a
//! GnuTLS-only knob with no rustls meaning, accepted (docs/TLS.md lists which):
//!
//! | key | here |
//! | --- | --- |
//! | `:hostname` | the name sent (SNI) and checked against the certificate |
//! | `:trustfiles` | PEM bundles that replace the system's trust store |
//! | `:crlfiles` | PEM or DER revocation lists, checked with the trust files |
//! | `:keylist` | `((KEY-FILE CERT-FILE) ...)`: the first pair is the certificate we show |
//! | `:verify-error` | which failed checks are fatal: t, nil, or a list of `:trustfiles` `:hostname` |
//! | `:verify-flags` | 64 (`GNUTLS_VERIFY_DISABLE_TIME_CHECKS`) is honoured; other bits accepted |
//! | `:priority` | `+VERS-TLS1.2` / `-VERS-TLS1.3` / `-VERS-ALL` tokens limit the versions; the rest is accepted |
//! | `:min-prime-bits`, `:loglevel`, `:callbacks`, `:complete-negotiation` | accepted (no finite-field DH in rustls; no GnuTLS log) |
//!
//! netproc's own keys, for C hosts and for what Emacs cannot say:
//! `:trust-pem`, `:cert-pem`, `:key-pem` (PEM text instead of files) and `:alpn` (a list of
//! protocol names to offer, or for a server to accept).

use std::path::PathBuf;
use std::sync::Arc;

use crate::core::error::{Error, Result};
use crate::core::value::Value;

/// Where PEM (or DER) data comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// A file, read when a configuration is built.
    File(PathBuf),
    /// The bytes themselves.
    Bytes(Arc<[u8]>),
}

/// Which failed certificate checks end the connection. A check that is not fatal is kept as
/// a warning for `gnutls-peer-status`, as GnuTLS does for Emacs's Network Security Manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct VerifyPolicy {
    /// The chain: a known issuer, in its validity period, not revoked.
    pub(crate) chain_fatal: bool,
    /// The certificate names the host.
    pub(crate) name_fatal: bool,
}

impl VerifyPolicy {
    /// Every check is fatal: what a C host gets when it does not say otherwise.
    pub(crate) const STRICT: VerifyPolicy = VerifyPolicy { chain_fatal: true, name_fatal: true };
}

/// The protocol versions a connection may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Versions {
    pub(crate) tls12: bool,
    pub(crate) tls13: bool,
}

/// The checked parameters of one TLS connection or server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TlsParams {
    /// The name to send and check; None: the connection's `:host`.
    pub(crate) hostname: Option<String>,
    /// Trusted roots; empty: the system's trust store.
    pub(crate) trust: Vec<Source>,
    /// Revocation lists.
    pub(crate) crls: Vec<Source>,
    /// Our own certificate chain and key, as (key, chain).
    pub(crate) identity: Option<(Source, Source)>,
    pub(crate) verify: VerifyPolicy,
    /// `:verify-flags` 64: check certificates as if now were inside their validity.
    pub(crate) ignore_time: bool,
    pub(crate) versions: Versions,
    /// ALPN protocol names, in order of preference.
    pub(crate) alpn: Vec<Vec<u8>>,
}

/// `GNUTLS_VERIFY_DISABLE_TIME_CHECKS` in GnuTLS's x509.h.
const DISABLE_TIME_CHECKS: i64 = 64;

impl TlsParams {
    /// Read a `:tls-parameters` value. Nil means no TLS.
    pub(crate) fn from_value(value: &Value) -> Result<Option<TlsParams>> {
        if value.is_nil() {
            return Ok(None);
        }
        let items: Arc<[Value]> = match value {
            Value::List(items) => items.clone(),
            // (gnutls-x509pki . PLIST) built as a cons of a symbol and a list.
            Value::Cons(car, cdr) => match &**cdr {
                Value::List(rest) => std::iter::once((**car).clone()).chain(rest.iter().cloned()).collect(),
                // The type is checked first, as gnutls-boot checks it before the plist.
                other if car.is_symbol("gnutls-x509pki") => return Err(Error::wrong_type("listp", other)),
                _ => vec![(**car).clone()].into(),
            },
            other => return Err(Error::wrong_type("listp", other)),
        };
        let (kind, plist) = items.split_first().expect("a non-nil list has a first element");
        match kind.as_symbol() {
            Some("gnutls-x509pki") => {}
            Some("gnutls-anon") => {
                return Err(Error::msg(
                    "TLS type gnutls-anon is not supported: anonymous TLS has no certificate to check",
                ))
            }
            _ => return Err(Error::msg(format!("Unknown TLS credential type: {}", kind.prin1()))),
        }
        // As plist-get reads it: a last key without a value is not there.
        let get = |key: &str| -> Option<&Value> {
            plist.chunks_exact(2).find(|pair| pair[0].is_symbol(key)).map(|pair| &pair[1])
        };
        let hostname = match get(":hostname") {
            None | Some(Value::Nil) => None,
            Some(Value::Str(text)) => Some(hostname_text(text)?),
            Some(other) => return Err(Error::wrong_type("stringp", other)),
        };
        let mut trust = files(get(":trustfiles"))?;
        trust.extend(pem_texts(get(":trust-pem"))?);
        let crls = files(get(":crlfiles"))?;
        let identity = identity(get(":keylist"), get(":key-pem"), get(":cert-pem"))?;
        let verify = match get(":verify-error") {
            // Absent: nobody chose leniency, so every check is fatal. Emacs's
            // gnutls-boot-parameters always writes the key, so Lisp callers keep Emacs's
            // own default (nil: warnings only, for the Network Security Manager).
            None => VerifyPolicy::STRICT,
            Some(Value::T) => VerifyPolicy::STRICT,
            Some(value) => verify_list(value)?,
        };
        let ignore_time = match get(":verify-flags") {
            None | Some(Value::Nil) => false,
            Some(Value::Int(flags)) => flags & DISABLE_TIME_CHECKS != 0,
            Some(other) => return Err(Error::wrong_type("integerp", other)),
        };
        let versions = match get(":priority") {
            None | Some(Value::Nil) => Versions { tls12: true, tls13: true },
            Some(Value::Str(text)) => versions_of_priority(&String::from_utf8_lossy(text))?,
            Some(other) => return Err(Error::wrong_type("stringp", other)),
        };
        let alpn = strings(get(":alpn"), ":alpn")?.into_iter().map(|name| name.to_vec()).collect::<Vec<_>>();
        if alpn.iter().any(|name| name.is_empty() || name.len() > 255) {
            return Err(Error::msg("Each :alpn protocol name must be 1 to 255 bytes long"));
        }
        Ok(Some(TlsParams { hostname, trust, crls, identity, verify, ignore_time, versions, alpn }))
    }
}

fn hostname_text(text: &[u8]) -> Result<String> {
    match std::str::from_utf8(text) {
        Ok(name) if name.is_ascii() => Ok(name.to_owned()),
        _ => Err(Error::msg(format!(
            "Non-ASCII hostname {} detected, please use puny-encode-domain",
            String::from_utf8_lossy(text)
        ))),
    }
}

/// The strings of a list (nil: none), each checked.
fn strings(value: Option<&Value>, key: &str) -> Result<Vec<Arc<[u8]>>> {
    let items: &[Value] = match value {
        None | Some(Value::Nil) => return Ok(Vec::new()),
        Some(Value::List(items)) => items,
        Some(Value::Str(text)) if key == ":trust-pem" => return Ok(vec![text.clone()]),
        Some(other) => return Err(Error::wrong_type("listp", other)),
    };
    items
        .iter()
        .map(|item| match item {
            Value::Str(text) => Ok(text.clone()),
            other => Err(Error::wrong_type("stringp", other)),
        })
        .collect()
}

fn files(value: Option<&Value>) -> Result<Vec<Source>> {
    Ok(strings(value, ":files")?.into_iter().map(|name| Source::File(path_of(&name))).collect())
}

fn pem_texts(value: Option<&Value>) -> Result<Vec<Source>> {
    Ok(strings(value, ":trust-pem")?.into_iter().map(Source::Bytes).collect())
}

/// `:keylist ((KEY-FILE CERT-FILE) ...)`, or `:key-pem` with `:cert-pem`.
fn identity(
    keylist: Option<&Value>,
    key_pem: Option<&Value>,
    cert_pem: Option<&Value>,
) -> Result<Option<(Source, Source)>> {
    let pem = |value: Option<&Value>| -> Result<Option<Arc<[u8]>>> {
        match value {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Str(text)) => Ok(Some(text.clone())),
            Some(other) => Err(Error::wrong_type("stringp", other)),
        }
    };
    match (pem(key_pem)?, pem(cert_pem)?) {
        (Some(key), Some(cert)) => return Ok(Some((Source::Bytes(key), Source::Bytes(cert)))),
        (None, None) => {}
        _ => return Err(Error::msg(":key-pem and :cert-pem go together")),
    }
    let pairs: &[Value] = match keylist {
        None | Some(Value::Nil) => return Ok(None),
        Some(Value::List(pairs)) => pairs,
        Some(other) => return Err(Error::wrong_type("listp", other)),
    };
    let Some(first) = pairs.first() else { return Ok(None) };
    match first {
        Value::List(pair) if pair.len() >= 2 => match (&pair[0], &pair[1]) {
            (Value::Str(key), Value::Str(cert)) => {
                Ok(Some((Source::File(path_of(key)), Source::File(path_of(cert)))))
            }
            (Value::Str(_), other) | (other, _) => Err(Error::wrong_type("stringp", other)),
        },
        other => Err(Error::wrong_type("consp", other)),
    }
}

/// `:verify-error` nil or a list naming the fatal checks.
fn verify_list(value: &Value) -> Result<VerifyPolicy> {
    let items: &[Value] = match value {
        Value::Nil => &[],
        Value::List(items) => items,
        other => return Err(Error::wrong_type("listp", other)),
    };
    Ok(VerifyPolicy {
        chain_fatal: items.iter().any(|item| item.is_symbol(":trustfiles")),
        name_fatal: items.iter().any(|item| item.is_symbol(":hostname")),
    })
}

/// The versions a GnuTLS priority string allows: its `VERS-` tokens, applied in order over
/// both TLS 1.2 and 1.3. Other tokens (cipher, group, MAC choices) are GnuTLS's own names
/// and are accepted; rustls's cipher suites are all modern ones.
fn versions_of_priority(priority: &str) -> Result<Versions> {
    let mut versions = Versions { tls12: true, tls13: true };
    for token in priority.split(':') {
        let (allow, name) = match token.as_bytes().first() {
            Some(b'+') => (true, &token[1..]),
            Some(b'-') | Some(b'!') => (false, &token[1..]),
            _ => continue,
        };
        match name {
            "VERS-TLS1.3" => versions.tls13 = allow,
            "VERS-TLS1.2" => versions.tls12 = allow,
            "VERS-ALL" | "VERS-TLS-ALL" => {
                versions.tls12 = allow;
                versions.tls13 = allow;
            }
            _ => {}
        }
    }
    if !versions.tls12 && !versions.tls13 {
        return Err(Error::msg(format!("No TLS version left by the priority string {priority:?}")));
    }
    Ok(versions)
}

/// A file name: bytes, on the systems netproc runs on.
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(plist: Vec<Value>) -> Result<Option<TlsParams>> {
        let mut items = vec![Value::symbol("gnutls-x509pki")];
        items.extend(plist);
        TlsParams::from_value(&Value::list(items))
    }

    #[test]
    fn nil_is_no_tls_and_a_bare_type_is_strict() {
        assert!(TlsParams::from_value(&Value::Nil).unwrap().is_none());
        let bare = params(vec![]).unwrap().unwrap();
        assert_eq!(bare.verify, VerifyPolicy::STRICT);
        assert!(bare.trust.is_empty());
        assert_eq!(bare.versions, Versions { tls12: true, tls13: true });
    }

    #[test]
    fn emacs_boot_parameters_are_read() {
        // What (gnutls-boot-parameters :hostname "example.org") gives with Emacs's defaults.
        let p = params(vec![
            Value::symbol(":priority"),
            Value::string("NORMAL:%DUMBFW"),
            Value::symbol(":hostname"),
            Value::string("example.org"),
            Value::symbol(":loglevel"),
            Value::Int(0),
            Value::symbol(":min-prime-bits"),
            Value::Int(256),
            Value::symbol(":trustfiles"),
            Value::list(vec![Value::string("/etc/ssl/certs/ca-certificates.crt")]),
            Value::symbol(":crlfiles"),
            Value::Nil,
            Value::symbol(":keylist"),
            Value::Nil,
            Value::symbol(":verify-flags"),
            Value::Nil,
            Value::symbol(":verify-error"),
            Value::Nil,
            Value::symbol(":callbacks"),
            Value::Nil,
        ])
        .unwrap()
        .unwrap();
        assert_eq!(p.hostname.as_deref(), Some("example.org"));
        assert_eq!(p.trust, vec![Source::File("/etc/ssl/certs/ca-certificates.crt".into())]);
        assert_eq!(p.verify, VerifyPolicy { chain_fatal: false, name_fatal: false });
    }

    #[test]
    fn verify_error_lists_and_flags() {
        let p = params(vec![
            Value::symbol(":verify-error"),
            Value::list(vec![Value::symbol(":hostname")]),
            Value::symbol(":verify-flags"),
            Value::Int(64 | 2),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(p.verify, VerifyPolicy { chain_fatal: false, name_fatal: true });
        assert!(p.ignore_time);
    }

    #[test]
    fn priority_limits_versions() {
        assert_eq!(
            versions_of_priority("NORMAL:-VERS-TLS1.3").unwrap(),
            Versions { tls12: true, tls13: false }
        );
        assert_eq!(
            versions_of_priority("NORMAL:-VERS-ALL:+VERS-TLS1.3").unwrap(),
            Versions { tls12: false, tls13: true }
        );
        assert!(versions_of_priority("NORMAL:-VERS-ALL").is_err());
    }

    #[test]
    fn bad_values_are_emacs_errors() {
        let err = |plist| params(plist).unwrap_err().message();
        assert_eq!(err(vec![Value::symbol(":hostname"), Value::Int(3)]), "Wrong type argument: stringp, 3");
        assert_eq!(
            err(vec![Value::symbol(":trustfiles"), Value::list(vec![Value::Int(1)])]),
            "Wrong type argument: stringp, 1"
        );
        assert_eq!(
            err(vec![Value::symbol(":key-pem"), Value::string("k")]),
            ":key-pem and :cert-pem go together"
        );
        let anon = TlsParams::from_value(&Value::list(vec![Value::symbol("gnutls-anon")]));
        assert!(anon.unwrap_err().message().contains("gnutls-anon is not supported"));
        // A key without its value is absent, as plist-get sees it.
        assert_eq!(params(vec![Value::symbol(":hostname")]).unwrap().unwrap().hostname, None);
    }

    #[test]
    fn pem_and_keylist_give_an_identity() {
        let p = params(vec![
            Value::symbol(":keylist"),
            Value::list(vec![Value::list(vec![Value::string("k.pem"), Value::string("c.pem")])]),
            Value::symbol(":alpn"),
            Value::list(vec![Value::string("h2"), Value::string("http/1.1")]),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(p.identity, Some((Source::File("k.pem".into()), Source::File("c.pem".into()))));
        assert_eq!(p.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
