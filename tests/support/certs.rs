//! Test certificates, made at test time (never committed): a CA and the certificates the
//! TLS tests need, written as PEM files into a directory. Shared by the Rust tests
//! (tests/tls.rs) and, through examples/test-certs.rs, the C and ERT tests.
//!
//! | file | what |
//! | --- | --- |
//! | ca.pem | the test CA ("netproc test CA") |
//! | other-ca.pem | a CA that signed nothing here: trusting it alone makes ca.pem's certificates unknown |
//! | server.pem, server.key | localhost, 127.0.0.1 and ::1, signed by the CA |
//! | expired.pem, expired.key | the same names, expired in 2021 |
//! | wrong-name.pem, wrong-name.key | only wrong.example |
//! | self-signed.pem, self-signed.key | localhost and 127.0.0.1, signed by itself |
//! | client.pem, client.key | a client certificate signed by the CA |
//! | revoked.pem, revoked.key | localhost and 127.0.0.1, signed by the CA, then revoked |
//! | crl.pem | the CA's revocation list, naming revoked.pem only |

use std::path::Path;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};

fn ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    (params, KeyPair::generate().expect("CA key"))
}

fn leaf(names: &[&str], common_name: &str, client: bool) -> (CertificateParams, KeyPair) {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("leaf parameters");
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.extended_key_usages =
        vec![if client { ExtendedKeyUsagePurpose::ClientAuth } else { ExtendedKeyUsagePurpose::ServerAuth }];
    (params, KeyPair::generate().expect("leaf key"))
}

/// Write every file of the table above into `dir` (which must exist).
pub fn write_all(dir: &Path) -> std::io::Result<()> {
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text);
    let (ca_params, ca_key) = ca("netproc test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    write("ca.pem", ca_cert.pem())?;
    let (other_params, other_key) = ca("netproc other CA");
    write("other-ca.pem", other_params.self_signed(&other_key).expect("other CA").pem())?;
    let issuer = Issuer::new(ca_params, ca_key);
    let local = ["localhost", "127.0.0.1", "::1"];

    let (params, key) = leaf(&local, "localhost", false);
    write("server.pem", params.signed_by(&key, &issuer).expect("server certificate").pem())?;
    write("server.key", key.serialize_pem())?;

    let (mut params, key) = leaf(&local, "localhost", false);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2021, 1, 1);
    write("expired.pem", params.signed_by(&key, &issuer).expect("expired certificate").pem())?;
    write("expired.key", key.serialize_pem())?;

    let (params, key) = leaf(&["wrong.example"], "wrong.example", false);
    write("wrong-name.pem", params.signed_by(&key, &issuer).expect("wrong-name certificate").pem())?;
    write("wrong-name.key", key.serialize_pem())?;

    let (params, key) = leaf(&["localhost", "127.0.0.1"], "localhost", false);
    write("self-signed.pem", params.self_signed(&key).expect("self-signed certificate").pem())?;
    write("self-signed.key", key.serialize_pem())?;

    let (params, key) = leaf(&[], "netproc test client", true);
    write("client.pem", params.signed_by(&key, &issuer).expect("client certificate").pem())?;
    write("client.key", key.serialize_pem())?;

    const REVOKED_SERIAL: u64 = 4242;
    let (mut params, key) = leaf(&["localhost", "127.0.0.1"], "localhost", false);
    params.serial_number = Some(SerialNumber::from(REVOKED_SERIAL));
    write("revoked.pem", params.signed_by(&key, &issuer).expect("revoked certificate").pem())?;
    write("revoked.key", key.serialize_pem())?;
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2024, 1, 1),
        next_update: date_time_ymd(2100, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(REVOKED_SERIAL),
            revocation_time: date_time_ymd(2024, 1, 1),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    };
    write("crl.pem", crl.signed_by(&issuer).expect("revocation list").pem().expect("CRL as PEM"))?;
    Ok(())
}
