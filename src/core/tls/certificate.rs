//! One certificate as `emacs_gnutls_certificate_details` (src/gnutls.c) describes it, in
//! GnuTLS 3.7's formats, read with x509-parser (names with dn.rs):
//!
//! - the keys in Emacs's order: `:version :serial-number :issuer :valid-from :valid-to
//!   :subject :public-key-algorithm :certificate-security-level`, `:issuer-unique-id` and
//!   `:subject-unique-id` when the certificate has them, `:signature-algorithm`,
//!   `:public-key-id :certificate-id :pem`; a key whose value GnuTLS cannot give is left
//!   out, as Emacs leaves it out;
//! - dates as `YYYY-MM-DD` in UTC; the serial number as colon-separated hex of the DER
//!   integer (a leading 00 kept);
//! - `:public-key-id` is the SHA-1 of the SubjectPublicKeyInfo and `:certificate-id` that of
//!   the whole certificate, as `sha1:xx:xx:...` (the Network Security Manager saves the
//!   first as the host's fingerprint, so it must be GnuTLS's exactly); Emacs 30 adds
//!   `:public-key-id-sha256` after `:public-key-id`, the SHA-256 of the same bytes as
//!   `sha256:xx:...` (GNUTLS_KEYID_USE_SHA256), when asked for (`sha256_key_id`);
//! - algorithm and security-level names as GnuTLS's tables give them ("RSA", "EC/ECDSA",
//!   "EdDSA (Ed25519)"; "ECDSA-SHA256", "RSA-PSS-SHA256"; "Medium", "High", ...);
//! - the PEM as GnuTLS exports it.

use x509_parser::certificate::X509Certificate;
use x509_parser::x509::AlgorithmIdentifier;

use super::dn::{der_element, distinguished_name, oid_text};
use crate::core::value::Value;

/// A plist built in order.
#[derive(Default)]
pub(super) struct Plist(Vec<Value>);

impl Plist {
    pub(super) fn put(&mut self, key: &str, value: Value) {
        self.0.push(Value::symbol(key));
        self.0.push(value);
    }

    pub(super) fn into_value(self) -> Value {
        Value::list(self.0)
    }
}

/// One certificate's plist, with the keys `emacs_gnutls_certificate_details` gives, in
/// its order; `:public-key-id-sha256` too with `sha256_key_id` (Emacs 30's). A certificate
/// x509-parser cannot read has its ids and PEM only.
pub(super) fn certificate(der: &[u8], sha256_key_id: bool) -> Value {
    let mut plist = Plist::default();
    if let Ok((_, parsed)) = x509_parser::parse_x509_certificate(der) {
        details(&parsed, &mut plist, sha256_key_id);
    }
    plist.put(":certificate-id", Value::string(hex_id("sha1:", &sha1(der))));
    plist.put(":pem", Value::string(pem(der)));
    plist.into_value()
}

fn details(parsed: &X509Certificate<'_>, plist: &mut Plist, sha256_key_id: bool) {
    plist.put(":version", Value::Int(i64::from(parsed.version().0) + 1));
    plist.put(":serial-number", Value::string(hex_id("", parsed.raw_serial())));
    if let Some(issuer) = distinguished_name(parsed.issuer().as_raw()) {
        plist.put(":issuer", Value::string(issuer));
    }
    plist.put(":valid-from", Value::string(date(parsed.validity().not_before.timestamp())));
    plist.put(":valid-to", Value::string(date(parsed.validity().not_after.timestamp())));
    if let Some(subject) = distinguished_name(parsed.subject().as_raw()) {
        plist.put(":subject", Value::string(subject));
    }
    let key = parsed.public_key();
    let (algorithm, bits) = public_key(&key.algorithm, &key.subject_public_key.data);
    if let Some(name) = algorithm {
        plist.put(":public-key-algorithm", Value::string(name));
    }
    plist.put(":certificate-security-level", Value::string(security_level(algorithm, bits)));
    if let Some(id) = &parsed.issuer_uid {
        plist.put(":issuer-unique-id", Value::string(&*id.0.data));
    }
    if let Some(id) = &parsed.subject_uid {
        plist.put(":subject-unique-id", Value::string(&*id.0.data));
    }
    if let Some(name) = signature_algorithm(&parsed.signature_algorithm) {
        plist.put(":signature-algorithm", Value::string(name));
    }
    plist.put(":public-key-id", Value::string(hex_id("sha1:", &sha1(key.raw))));
    if sha256_key_id {
        plist.put(":public-key-id-sha256", Value::string(hex_id("sha256:", &sha256(key.raw))));
    }
}

fn sha1(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref().to_vec()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().to_vec()
}

/// Bytes as lowercase hex pairs joined by colons, after `prefix`.
fn hex_id(prefix: &str, bytes: &[u8]) -> String {
    let pairs: Vec<String> = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{prefix}{}", pairs.join(":"))
}

/// The certificate as GnuTLS exports PEM: Base64 in lines of 64, each line ended.
fn pem(der: &[u8]) -> String {
    let base64 = data_encoding::BASE64.encode(der);
    let mut text = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        // Base64 is ASCII.
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str("-----END CERTIFICATE-----\n");
    text
}

/// A Unix time as the UTC date `YYYY-MM-DD` (`strftime ("%Y-%m-%d")` of `gmtime`).
fn date(seconds: i64) -> String {
    // Days to a civil date in the proleptic Gregorian calendar (Howard Hinnant's
    // days_from_civil, inverted), valid for any i64 day count we can meet.
    let days = seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// GnuTLS's name for the key's algorithm and the key's size in bits (0 when unknown).
fn public_key(algorithm: &AlgorithmIdentifier<'_>, key: &[u8]) -> (Option<&'static str>, u32) {
    match algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => (Some("RSA"), rsa_bits(key)),
        "1.2.840.113549.1.1.10" => (Some("RSA-PSS"), rsa_bits(key)),
        "1.2.840.10045.2.1" => {
            let curve = algorithm.parameters.as_ref().map(|any| oid_text(any.data)).unwrap_or_default();
            let bits = match curve.as_str() {
                "1.2.840.10045.3.1.1" => 192,
                "1.3.132.0.33" => 224,
                "1.2.840.10045.3.1.7" => 256,
                "1.3.132.0.34" => 384,
                "1.3.132.0.35" => 521,
                _ => 0,
            };
            (Some("EC/ECDSA"), bits)
        }
        "1.3.101.112" => (Some("EdDSA (Ed25519)"), 256),
        "1.3.101.113" => (Some("EdDSA (Ed448)"), 456),
        "1.2.840.10040.4.1" => {
            // Dss-Parms ::= SEQUENCE { p, q, g }: the size is p's.
            let bits = algorithm
                .parameters
                .as_ref()
                .and_then(|any| der_element(any.data))
                .map(|(_, p, _)| integer_bits(p))
                .unwrap_or(0);
            (Some("DSA"), bits)
        }
        _ => (None, 0),
    }
}

/// The size of an RSA modulus: RSAPublicKey ::= SEQUENCE { modulus, publicExponent }.
fn rsa_bits(key: &[u8]) -> u32 {
    der_element(key)
        .filter(|(tag, _, _)| *tag == 0x30)
        .and_then(|(_, body, _)| der_element(body))
        .map(|(_, modulus, _)| integer_bits(modulus))
        .unwrap_or(0)
}

/// The bit length of an unsigned DER integer's content.
fn integer_bits(content: &[u8]) -> u32 {
    let digits: &[u8] = match content.iter().position(|&byte| byte != 0) {
        Some(first) => &content[first..],
        None => return 0,
    };
    (digits.len() as u32 - 1) * 8 + (8 - digits[0].leading_zeros())
}

/// `gnutls_sec_param_get_name (gnutls_pk_bits_to_sec_param (ALGORITHM, BITS))`: the
/// strongest level whose key size `bits` reaches, in GnuTLS's table (elliptic-curve keys
/// against their own column).
fn security_level(algorithm: Option<&str>, bits: u32) -> &'static str {
    // (name, RSA/DSA/DH bits, elliptic-curve bits), weakest first.
    const LEVELS: [(&str, u32, u32); 10] = [
        ("Insecure", 0, 0),
        ("Export", 512, 0),
        ("Very weak", 767, 0),
        ("Weak", 1008, 160),
        ("Low", 1024, 160),
        ("Legacy", 1776, 192),
        ("Medium", 2048, 256),
        ("High", 3072, 256),
        ("Ultra", 8192, 384),
        ("Future", 15360, 512),
    ];
    if bits == 0 {
        return "Unknown";
    }
    let elliptic = matches!(algorithm, Some("EC/ECDSA" | "EdDSA (Ed25519)" | "EdDSA (Ed448)"));
    LEVELS
        .iter()
        .take_while(|(_, plain, curve)| if elliptic { *curve <= bits } else { *plain <= bits })
        .last()
        .map_or("Insecure", |(name, _, _)| name)
}

/// GnuTLS's name of a certificate's signature algorithm; None for one GnuTLS does not
/// know (Emacs then leaves the key out).
fn signature_algorithm(algorithm: &AlgorithmIdentifier<'_>) -> Option<&'static str> {
    Some(match algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.2" => "RSA-MD2",
        "1.2.840.113549.1.1.4" => "RSA-MD5",
        "1.2.840.113549.1.1.5" => "RSA-SHA1",
        "1.2.840.113549.1.1.14" => "RSA-SHA224",
        "1.2.840.113549.1.1.11" => "RSA-SHA256",
        "1.2.840.113549.1.1.12" => "RSA-SHA384",
        "1.2.840.113549.1.1.13" => "RSA-SHA512",
        "1.2.840.113549.1.1.10" => return pss_signature(algorithm),
        "1.2.840.10045.4.1" => "ECDSA-SHA1",
        "1.2.840.10045.4.3.1" => "ECDSA-SHA224",
        "1.2.840.10045.4.3.2" => "ECDSA-SHA256",
        "1.2.840.10045.4.3.3" => "ECDSA-SHA384",
        "1.2.840.10045.4.3.4" => "ECDSA-SHA512",
        "1.3.101.112" => "EdDSA-Ed25519",
        "1.3.101.113" => "EdDSA-Ed448",
        "1.2.840.10040.4.3" => "DSA-SHA1",
        "2.16.840.1.101.3.4.3.1" => "DSA-SHA224",
        "2.16.840.1.101.3.4.3.2" => "DSA-SHA256",
        _ => return None,
    })
}

/// RSASSA-PSS, named by the hash of its parameters: RSASSA-PSS-params ::= SEQUENCE {
/// hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, ... }. GnuTLS has no name for
/// PSS with SHA-1.
fn pss_signature(algorithm: &AlgorithmIdentifier<'_>) -> Option<&'static str> {
    let parameters = algorithm.parameters.as_ref()?;
    let (tag, hash, _) = der_element(parameters.data)?;
    if tag != 0xa0 {
        return None;
    }
    let (_, identifier, _) = der_element(hash)?;
    let (_, oid, _) = der_element(identifier)?;
    match oid_text(oid).as_str() {
        "2.16.840.1.101.3.4.2.1" => Some("RSA-PSS-SHA256"),
        "2.16.840.1.101.3.4.2.2" => Some("RSA-PSS-SHA384"),
        "2.16.840.1.101.3.4.2.3" => Some("RSA-PSS-SHA512"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_ids_and_levels() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(4_102_444_800), "2100-01-01");
        assert_eq!(hex_id("sha1:", &[0x00, 0xab, 0x1f]), "sha1:00:ab:1f");
        assert_eq!(hex_id("", &[0x80]), "80");
        assert_eq!(security_level(Some("RSA"), 2048), "Medium");
        assert_eq!(security_level(Some("RSA"), 4096), "High");
        assert_eq!(security_level(Some("RSA"), 1024), "Low");
        assert_eq!(security_level(Some("EC/ECDSA"), 256), "High");
        assert_eq!(security_level(Some("EC/ECDSA"), 384), "Ultra");
        assert_eq!(security_level(Some("EC/ECDSA"), 521), "Future");
        assert_eq!(security_level(None, 0), "Unknown");
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01, 0x00]), 9);
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
            "1.2.840.113549.1.1.11"
        );
    }

    /// Emacs 30's `:public-key-id-sha256`, asked for: right after `:public-key-id`, the
    /// SHA-256 of the same SubjectPublicKeyInfo; not there otherwise (Emacs 28's keys).
    #[test]
    fn sha256_key_id_when_asked() {
        let key = rcgen::KeyPair::generate().unwrap();
        let der = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .der()
            .to_vec();
        let keys = |plist: &Value| match plist {
            Value::List(items) => items.iter().step_by(2).map(Value::princ).collect::<Vec<_>>(),
            other => panic!("{}", other.prin1()),
        };
        let plain = certificate(&der, false);
        assert!(!keys(&plain).iter().any(|key| key == ":public-key-id-sha256"));
        let with = certificate(&der, true);
        let names = keys(&with);
        let at = names.iter().position(|key| key == ":public-key-id").unwrap();
        assert_eq!(names[at + 1], ":public-key-id-sha256");
        let Value::List(items) = &with else { unreachable!() };
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        assert_eq!(items[2 * at + 3].princ(), hex_id("sha256:", &sha256(&spki)));
        assert_eq!(items[2 * at + 1].princ(), hex_id("sha1:", &sha1(&spki)));
    }
}
