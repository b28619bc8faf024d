//! rustls configurations built from [`TlsParams`], once per distinct set of parameters
//! (and file contents): loading a trust bundle costs milliseconds, a handshake with a
//! configuration built once well under one. The cache is process-wide and small.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use parking_lot::Mutex;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use super::params::{Source, TlsParams};
use crate::core::error::{Error, Result};
use crate::core::value::Value;

/// How many configurations the cache keeps before it starts over.
const CACHE_LIMIT: usize = 64;

/// A client configuration and the verifier under its per-connection recorder.
#[derive(Clone)]
pub(crate) struct ClientSetup {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) verifier: Arc<dyn ServerCertVerifier>,
}

/// What a file looked like when its contents were loaded: a change of either rebuilds.
type Stamp = Option<(SystemTime, u64)>;

#[derive(PartialEq, Eq, Hash)]
struct CacheKey {
    server: bool,
    params: TlsParams,
    stamps: Vec<Stamp>,
}

#[derive(Clone)]
enum Built {
    Client(ClientSetup),
    Server(Arc<ServerConfig>),
}

fn cache() -> &'static Mutex<HashMap<CacheKey, Built>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Built>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The ring provider: it builds with a C compiler alone. rustls 0.23.48 deprecates it
/// because ring has no post-quantum key exchange; aws-lc-rs has one (see the commit that
/// chose ring for the trade).
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1, X25519};
            // X25519 first: the key share a client sends is its first group's, and ring's
            // default order starts with P-384, whose key exchange cost half of a whole
            // client handshake here (bench/tls.py, perf).
            let kx_groups = vec![X25519, SECP256R1, SECP384R1];
            Arc::new(CryptoProvider { kx_groups, ..rustls::crypto::ring::default_provider() })
        })
        .clone()
}

/// The system's trust store, loaded once per process.
fn system_verifier() -> Result<Arc<dyn ServerCertVerifier>> {
    static SYSTEM: OnceLock<std::result::Result<Arc<rustls_platform_verifier::Verifier>, String>> =
        OnceLock::new();
    let loaded = SYSTEM.get_or_init(|| {
        rustls_platform_verifier::Verifier::new(provider()).map(Arc::new).map_err(|err| err.to_string())
    });
    match loaded {
        Ok(verifier) => Ok(verifier.clone()),
        Err(err) => {
            Err(Error::msg(format!("The system's trust store cannot be used: {err}; give :trustfiles")))
        }
    }
}

fn stamps(params: &TlsParams) -> Vec<Stamp> {
    let files =
        params.trust.iter().chain(&params.crls).chain(params.identity.iter().flat_map(|(k, c)| [k, c]));
    files
        .map(|source| match source {
            Source::File(path) => {
                std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())))
            }
            Source::Bytes(_) => None,
        })
        .collect()
}

fn cached(server: bool, params: &TlsParams, build: impl FnOnce() -> Result<Built>) -> Result<Built> {
    let key = CacheKey { server, params: params.clone(), stamps: stamps(params) };
    if let Some(built) = cache().lock().get(&key) {
        return Ok(built.clone());
    }
    let built = build()?;
    let mut cache = cache().lock();
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.insert(key, built.clone());
    Ok(built)
}

/// The client configuration for `params`.
pub(crate) fn client(params: &TlsParams) -> Result<ClientSetup> {
    match cached(false, params, || build_client(params).map(Built::Client))? {
        Built::Client(setup) => Ok(setup),
        Built::Server(_) => unreachable!("client keys hold client configurations"),
    }
}

/// The server configuration for `params`.
pub(crate) fn server(params: &TlsParams) -> Result<Arc<ServerConfig>> {
    match cached(true, params, || build_server(params).map(Built::Server))? {
        Built::Server(config) => Ok(config),
        Built::Client(_) => unreachable!("server keys hold server configurations"),
    }
}

fn versions(params: &TlsParams) -> Vec<&'static SupportedProtocolVersion> {
    let mut versions = Vec::new();
    if params.versions.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if params.versions.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    versions
}

fn tls_error(what: &str, err: impl std::fmt::Display) -> Error {
    Error::msg(format!("{what}: {err}"))
}

fn build_client(params: &TlsParams) -> Result<ClientSetup> {
    let verifier: Arc<dyn ServerCertVerifier> = if params.trust.is_empty() {
        system_verifier()?
    } else {
        let roots = Arc::new(root_store(&params.trust)?);
        let crls = revocation_lists(&params.crls)?;
        WebPkiServerVerifier::builder_with_provider(roots, provider())
            .with_crls(crls)
            .build()
            .map_err(|err| tls_error("Invalid TLS trust or revocation data", err))?
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions(params))
        .map_err(|err| tls_error("TLS versions", err))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone());
    let mut config = match &params.identity {
        Some((key, chain)) => builder
            .with_client_auth_cert(certificates(chain)?, private_key(key)?)
            .map_err(|err| tls_error("Invalid TLS client certificate or key", err))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = params.alpn.clone();
    // Every connection checks certificates with a verifier of its own (the Recorder that
    // keeps its findings, session.rs), and rustls resumes a session only under the verifier
    // that checked it: sessions never resume, so keep no tickets. It also keeps each
    // connection's peer status its own, with its own checks' warnings, as in Emacs, whose
    // connections never resume either.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(ClientSetup { config: Arc::new(config), verifier })
}

fn build_server(params: &TlsParams) -> Result<Arc<ServerConfig>> {
    let Some((key, chain)) = &params.identity else {
        return Err(Error::msg(
            "A TLS server needs a certificate and key: give :keylist or :cert-pem and :key-pem",
        ));
    };
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions(params))
        .map_err(|err| tls_error("TLS versions", err))?;
    // Trust roots on a server are for its clients' certificates, which become required.
    let builder = if params.trust.is_empty() {
        builder.with_no_client_auth()
    } else {
        let roots = Arc::new(root_store(&params.trust)?);
        let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
            .with_crls(revocation_lists(&params.crls)?)
            .build()
            .map_err(|err| tls_error("Invalid TLS trust or revocation data", err))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = builder
        .with_single_cert(certificates(chain)?, private_key(key)?)
        .map_err(|err| tls_error("Invalid TLS server certificate or key", err))?;
    config.alpn_protocols = params.alpn.clone();
    Ok(Arc::new(config))
}

/// The bytes of a source; a file that cannot be read is a `file-error`, as Emacs's
/// file primitives signal it.
fn read(source: &Source) -> Result<Arc<[u8]>> {
    match source {
        Source::Bytes(bytes) => Ok(bytes.clone()),
        Source::File(path) => std::fs::read(path)
            .map(Arc::from)
            .map_err(|err| Error::file("Opening TLS file", &err, vec![path_value(path)])),
    }
}

fn path_value(path: &Path) -> Value {
    Value::string(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()))
}

fn describe(source: &Source) -> String {
    match source {
        Source::File(path) => path.display().to_string(),
        Source::Bytes(_) => "the PEM text given".to_owned(),
    }
}

fn certificates(source: &Source) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read(source)?;
    let certificates = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|err| tls_error(&format!("Invalid PEM certificate in {}", describe(source)), err))?;
    if certificates.is_empty() {
        return Err(Error::msg(format!("No PEM certificate in {}", describe(source))));
    }
    Ok(certificates)
}

fn private_key(source: &Source) -> Result<PrivateKeyDer<'static>> {
    let bytes = read(source)?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|err| tls_error(&format!("Invalid PEM private key in {}", describe(source)), err))
}

fn root_store(sources: &[Source]) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for source in sources {
        let (added, _ignored) = roots.add_parsable_certificates(certificates(source)?);
        if added == 0 {
            return Err(Error::msg(format!("No usable certificate in {}", describe(source))));
        }
    }
    Ok(roots)
}

fn revocation_lists(sources: &[Source]) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    let mut lists = Vec::new();
    for source in sources {
        let bytes = read(source)?;
        let parsed =
            CertificateRevocationListDer::pem_slice_iter(&bytes).collect::<std::result::Result<Vec<_>, _>>();
        match parsed {
            Ok(found) if !found.is_empty() => lists.extend(found),
            // Not PEM: a DER list, as GnuTLS also reads.
            _ => lists.push(CertificateRevocationListDer::from(bytes.to_vec())),
        }
    }
    Ok(lists)
}
