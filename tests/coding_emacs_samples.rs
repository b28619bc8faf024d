//! The multibyte coding systems against Emacs's own results: tests/data/emacs-coding-samples.txt
//! (made with Emacs 28.2 by tools/emacs-coding-data.el) holds byte strings and what Emacs
//! decodes them to, invalid bytes becoming raw bytes, and texts and what Emacs encodes them
//! to. netproc must give the same, decoding in one read or one byte at a time.

use netproc::core::coding::{raw_byte_form, CodingSystem};

/// One system's samples.
struct Samples {
    name: String,
    decode: Vec<(Vec<u8>, Vec<u8>)>,
    encode: Vec<(usize, Vec<u8>)>,
}

fn hex_bytes(field: &str) -> Vec<u8> {
    (0..field.len() / 2)
        .map(|at| u8::from_str_radix(&field[2 * at..2 * at + 2], 16).unwrap_or_else(|_| panic!("{field}")))
        .collect()
}

/// Characters as the file writes them, in netproc's multibyte form.
fn text(tokens: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for token in tokens.split_whitespace() {
        match token.strip_prefix('r') {
            Some(raw) => out.extend(raw_byte_form(hex_bytes(raw)[0]).unwrap_or_else(|| panic!("{token}"))),
            None => {
                let code = u32::from_str_radix(token, 16).unwrap_or_else(|_| panic!("{token}"));
                let ch = char::from_u32(code).unwrap_or_else(|| panic!("{token}"));
                out.extend_from_slice(ch.to_string().as_bytes());
            }
        }
    }
    out
}

fn samples() -> (Vec<Vec<u8>>, Vec<Samples>) {
    let mut texts = Vec::new();
    let mut systems: Vec<Samples> = Vec::new();
    for line in include_str!("data/emacs-coding-samples.txt").lines() {
        if line.starts_with(";;") {
            continue;
        }
        if let Some(chars) = line.strip_prefix("text ") {
            texts.push(text(chars));
            continue;
        }
        if !line.starts_with(' ') {
            systems.push(Samples { name: line.to_string(), decode: Vec::new(), encode: Vec::new() });
            continue;
        }
        let Some(system) = systems.last_mut() else { panic!("samples before a system: {line}") };
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["decode", bytes, "=>", chars @ ..] => {
                let decoded = match chars {
                    [index] if index.starts_with('#') => {
                        texts[index[1..].parse::<usize>().unwrap_or(usize::MAX)].clone()
                    }
                    _ => text(&chars.join(" ")),
                };
                system.decode.push((hex_bytes(bytes), decoded));
            }
            ["encode", index, "=>", bytes @ ..] => {
                let index = index.parse().unwrap_or_else(|_| panic!("{line}"));
                system.encode.push((index, bytes.first().map(|b| hex_bytes(b)).unwrap_or_default()));
            }
            _ => panic!("bad line: {line}"),
        }
    }
    (texts, systems)
}

/// Why a sample is left out: the differences docs/DIFFERENCES.md and src/core/coding/mod.rs
/// list. `bytes` are the encoded side of the sample (Emacs's output, or the input decoded).
fn known_difference(system: &str, bytes: &[u8]) -> Option<&'static str> {
    let four_byte_bmp = bytes.windows(2).any(|pair| matches!(pair, [0x81..=0x84, 0x30..=0x39]));
    if system == "chinese-gb18030" && four_byte_bmp {
        return Some("Emacs 28.2's GB18030 four-byte codes below U+10000 are off by one from U+1E40");
    }
    if system == "iso-2022-7bit" && designates_what_netproc_lacks(bytes) {
        return Some(
            "iso-2022-7bit designates charsets netproc has no tables for (CNS 11643, JIS X 0213, ...)",
        );
    }
    let other_charset = bytes.windows(2).any(|pair| {
        matches!(pair, [0x95..=0x99 | 0x9A | 0x9B | 0x9D, 0xA0..=0xFF] | [0x9C, 0xF0 | 0xF1] | [0x80, _])
    });
    let long_run = bytes
        .split(|byte| !byte.is_ascii_alphanumeric() && !b"+/,".contains(byte))
        .any(|run| run.len() >= 76);
    if system.starts_with("utf-7") && long_run {
        return Some("Emacs's utf-7 encoder cuts a base64 run after 76 characters");
    }
    if system == "emacs-mule" && other_charset {
        return Some("emacs-mule text in charsets netproc has no tables for, or Emacs 21 compositions");
    }
    None
}

/// Whether `bytes` designate a charset netproc's ISO-2022 systems do not have: anything but
/// ASCII, JIS X 0201, JIS X 0208, JIS X 0212, GB 2312, KS C 5601, the ISO 8859 upper halves
/// and Emacs's `mule-unicode-*` sets.
fn designates_what_netproc_lacks(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|window| match window {
        [0x1B, b'$', b'(' | b')' | b'*' | b'+', last] => !b"@ABCD".contains(last),
        [0x1B, b'$', b',' | b'-' | b'.' | b'/', last] => !b"123".contains(last),
        [0x1B, b'(' | b')' | b'*' | b'+', last, _] => !b"BJI".contains(last),
        [0x1B, b',' | b'-' | b'.' | b'/', last, _] => !b"ABCDLGFHMVTY_bf".contains(last),
        _ => false,
    })
}

fn system(name: &str) -> CodingSystem {
    let unix = CodingSystem::from_name(&format!("{name}-unix"));
    match unix.or_else(|_| CodingSystem::from_name(name)) {
        Ok(system) => system,
        Err(error) => panic!("{name}: {error}"),
    }
}

fn decode(system: &CodingSystem, reads: &[&[u8]]) -> Vec<u8> {
    let mut decoder = system.decoder();
    let mut out = Vec::new();
    for read in reads {
        decoder.decode(read, &mut out);
    }
    decoder.finish(&mut out);
    out
}

/// Text for a failure message: characters, raw bytes as \NNN.
fn show(text: &[u8]) -> String {
    let mut out = String::new();
    for run in netproc::core::coding::runs(text) {
        match run {
            netproc::core::coding::Run::Text(part) => out.push_str(&part.escape_debug().to_string()),
            netproc::core::coding::Run::Raw(raw) => {
                raw.bytes().for_each(|b| out.push_str(&format!("\\{b:o}")))
            }
        }
    }
    out
}

#[test]
fn multibyte_decoding_matches_emacs() {
    let (_, systems) = samples();
    assert!(systems.len() >= 20);
    let mut failures = Vec::new();
    let mut skipped = 0;
    for samples in &systems {
        let system = system(&samples.name);
        for (bytes, expected) in &samples.decode {
            if known_difference(&samples.name, bytes).is_some() {
                skipped += 1;
                continue;
            }
            let whole = decode(&system, &[bytes]);
            if whole != *expected {
                failures.push(format!(
                    "{} decoding {bytes:02X?}:\n  Emacs   {}\n  netproc {}",
                    samples.name,
                    show(expected),
                    show(&whole)
                ));
                continue;
            }
            let reads: Vec<&[u8]> = bytes.chunks(1).collect();
            let bytewise = decode(&system, &reads);
            if bytewise != whole {
                failures.push(format!(
                    "{} decoding {bytes:02X?} a byte at a time: {}",
                    samples.name,
                    show(&bytewise)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    println!("{skipped} samples left out as known differences");
}

#[test]
fn multibyte_encoding_matches_emacs() {
    let (texts, systems) = samples();
    let mut failures = Vec::new();
    let mut skipped = 0;
    for samples in &systems {
        let system = system(&samples.name);
        for (index, expected) in &samples.encode {
            if known_difference(&samples.name, expected).is_some() {
                skipped += 1;
                continue;
            }
            let mut encoder = system.encoder();
            let mut wire = Vec::new();
            encoder.encode_text(&texts[*index], &mut wire);
            encoder.finish(&mut wire);
            if wire != *expected {
                failures.push(format!(
                    "{} encoding text {index} {}:\n  Emacs   {expected:02X?}\n  netproc {wire:02X?}",
                    samples.name,
                    show(&texts[*index])
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    println!("{skipped} samples left out as known differences");
}
