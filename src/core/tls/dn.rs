//! X.509 names as GnuTLS prints them (`gnutls_x509_crt_get_dn`, which Emacs's
//! `gnutls-peer-status` passes on), read straight from their DER: the RDNs in the
//! certificate's order (RFC 4514 and `openssl -nameopt RFC2253` print them reversed), `,`
//! between RDNs and `+` between the attributes of one, GnuTLS's attribute names (`C`, `O`,
//! `CN`, `EMAIL`, `DC`, `UID`, ...), values escaped as RFC 4514 asks, and an attribute
//! GnuTLS does not know as `OID=#HEX` of its DER encoding. Also the two DER readers the
//! certificate details need.

/// One DER element at the start of `input`: (tag byte, content, what follows). None for
/// malformed input, a multi-byte tag or an indefinite length (never in DER).
pub(super) fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > std::mem::size_of::<usize>() || rest.len() < count {
            return None;
        }
        let length = rest[..count].iter().fold(0usize, |acc, &byte| (acc << 8) | usize::from(byte));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return None;
    }
    Some((tag, &rest[..length], &rest[length..]))
}

/// An OBJECT IDENTIFIER's content in dotted form.
pub(super) fn oid_text(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &byte in content {
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// The attributes GnuTLS names (its `_oid2str` table), by OID; any other prints as its OID
/// with the value's DER in hex.
const ATTRIBUTE_NAMES: &[(&str, &str)] = &[
    ("2.5.4.6", "C"),
    ("2.5.4.9", "street"),
    ("2.5.4.12", "title"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.13", "description"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.20", "telephoneNumber"),
    ("2.5.4.4", "surName"),
    ("2.5.4.43", "initials"),
    ("2.5.4.44", "generationQualifier"),
    ("2.5.4.42", "givenName"),
    ("2.5.4.65", "pseudonym"),
    ("2.5.4.46", "dnQualifier"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.41", "name"),
    ("2.5.4.15", "businessCategory"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("1.2.840.113556.1.4.656", "userPrincipalName"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionOfIncorporationLocalityName"),
    ("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionOfIncorporationStateOrProvinceName"),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionOfIncorporationCountryName"),
    ("1.2.840.113549.1.9.1", "EMAIL"),
    ("1.3.6.1.5.5.7.9.2", "placeOfBirth"),
    ("1.3.6.1.5.5.7.9.3", "gender"),
    ("1.3.6.1.5.5.7.9.4", "countryOfCitizenship"),
    ("1.3.6.1.5.5.7.9.5", "countryOfResidence"),
    ("1.3.6.1.5.5.7.8.5", "XmppAddr"),
];

/// A Name (the DER of `SEQUENCE OF SET OF AttributeTypeAndValue`) as GnuTLS prints it. None
/// where GnuTLS gives no string: an empty name, or a value it cannot decode (a NUL inside,
/// a known attribute whose value is not a string); Emacs then leaves the key out.
pub(super) fn distinguished_name(name: &[u8]) -> Option<Vec<u8>> {
    let (tag, mut rdns, _) = der_element(name)?;
    if tag != 0x30 || rdns.is_empty() {
        return None;
    }
    let mut text = Vec::new();
    while !rdns.is_empty() {
        let (tag, mut attributes, rest) = der_element(rdns)?;
        if tag != 0x31 {
            return None;
        }
        rdns = rest;
        if !text.is_empty() {
            text.push(b',');
        }
        let mut first = true;
        while !attributes.is_empty() {
            let (tag, attribute, rest) = der_element(attributes)?;
            if tag != 0x30 {
                return None;
            }
            attributes = rest;
            let (tag, oid, value) = der_element(attribute)?;
            if tag != 0x06 {
                return None;
            }
            if !first {
                text.push(b'+');
            }
            first = false;
            let oid = oid_text(oid);
            match ATTRIBUTE_NAMES.iter().find(|(known, _)| *known == oid) {
                Some((_, name)) => {
                    text.extend_from_slice(name.as_bytes());
                    text.push(b'=');
                    let (tag, content, _) = der_element(value)?;
                    escape_into(&attribute_text(tag, content)?, &mut text);
                }
                None => {
                    text.extend_from_slice(format!("{oid}=#").as_bytes());
                    text.extend(value.iter().flat_map(|byte| format!("{byte:02x}").into_bytes()));
                }
            }
        }
    }
    Some(text)
}

/// A known attribute's string, as GnuTLS decodes a DirectoryString: UTF-8 and the ASCII
/// types as they are, BMPString converted to UTF-8, a TeletexString as it is when ASCII;
/// what cannot be shown as text becomes `#HEX` of the string's content (then escaped, as
/// GnuTLS escapes it). GnuTLS refuses a value with a NUL in it.
fn attribute_text(tag: u8, content: &[u8]) -> Option<Vec<u8>> {
    let hex = || {
        let mut text = vec![b'#'];
        text.extend(content.iter().flat_map(|byte| format!("{byte:02x}").into_bytes()));
        text
    };
    let text = match tag {
        // UTF8String, NumericString, PrintableString, IA5String, VisibleString.
        0x0c | 0x12 | 0x13 | 0x16 | 0x1a => content.to_vec(),
        // TeletexString.
        0x14 if content.is_ascii() => content.to_vec(),
        0x14 => hex(),
        // BMPString: UTF-16 big-endian.
        0x1e if content.len().is_multiple_of(2) => {
            let units = content.chunks(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            match char::decode_utf16(units).collect::<Result<String, _>>() {
                Ok(text) => text.into_bytes(),
                Err(_) => hex(),
            }
        }
        0x1e => hex(),
        // UniversalString: GnuTLS does not convert it.
        0x1c => hex(),
        _ => return None,
    };
    if text.contains(&0) {
        return None;
    }
    Some(text)
}

/// Append `value` escaped as GnuTLS escapes a DN value (RFC 4514): a backslash before
/// `,` `+` `"` `\` `<` `>` `;`, before a leading `#` or space, and before a trailing space.
fn escape_into(value: &[u8], text: &mut Vec<u8>) {
    let last = value.len().saturating_sub(1);
    for (index, &byte) in value.iter().enumerate() {
        let special = matches!(byte, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
            || (index == 0 && (byte == b'#' || byte == b' '))
            || (index == last && byte == b' ');
        if special {
            text.push(b'\\');
        }
        text.push(byte);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element with a short length.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag, content.len() as u8];
        out.extend_from_slice(content);
        out
    }

    fn attribute(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        let mut body = tlv(0x06, oid);
        body.extend(tlv(tag, value));
        tlv(0x30, &body)
    }

    fn name(rdns: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let body: Vec<u8> = rdns.iter().flat_map(|attributes| tlv(0x31, &attributes.concat())).collect();
        tlv(0x30, &body)
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const C: &[u8] = &[0x55, 0x04, 0x06];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const UID: &[u8] = &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01];

    fn text(bytes: Option<Vec<u8>>) -> String {
        String::from_utf8(bytes.expect("a name")).unwrap()
    }

    #[test]
    fn names_print_as_gnutls_prints_them() {
        // The certificate's order, not RFC 4514's reversed one.
        let dn = name(&[
            vec![attribute(C, 0x13, b"DE")],
            vec![attribute(O, 0x0c, b"Netproc, Org")],
            vec![attribute(CN, 0x0c, b"multi"), attribute(UID, 0x0c, b"u1")],
        ]);
        assert_eq!(text(distinguished_name(&dn)), "C=DE,O=Netproc\\, Org,CN=multi+UID=u1");
        // Escapes: the specials anywhere, # and space first, space last.
        let dn = name(&[vec![attribute(O, 0x0c, b"#a;b<c>d\"e\\f")], vec![attribute(CN, 0x0c, b" x ")]]);
        assert_eq!(text(distinguished_name(&dn)), "O=\\#a\\;b\\<c\\>d\\\"e\\\\f,CN=\\ x\\ ");
        // An attribute GnuTLS does not know: its OID and the DER of its value.
        let dn = name(&[vec![attribute(&[0x55, 0x04, 0x61], 0x13, b"VAT")]]);
        assert_eq!(text(distinguished_name(&dn)), "2.5.4.97=#1303564154");
        // BMPString to UTF-8; UTF-8 kept.
        let dn = name(&[
            vec![attribute(CN, 0x1e, &[0x00, 0x63, 0x00, 0xe9])],
            vec![attribute(O, 0x0c, "ü".as_bytes())],
        ]);
        assert_eq!(text(distinguished_name(&dn)), "CN=cé,O=ü");
        // No name, or a value with a NUL: no string, as with GnuTLS.
        assert_eq!(distinguished_name(&name(&[])), None);
        assert_eq!(distinguished_name(&name(&[vec![attribute(CN, 0x0c, b"a\0b")]])), None);
    }

    #[test]
    fn object_identifiers_read_dotted() {
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
            "1.2.840.113549.1.1.11"
        );
        assert_eq!(oid_text(&[0x55, 0x04, 0x03]), "2.5.4.3");
        assert_eq!(oid_text(&[0x88, 0x37, 0x03]), "2.999.3");
    }
}
