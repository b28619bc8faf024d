//! The one-byte coding systems against Emacs's own results (tests/data, made with Emacs 28.2
//! by tools/emacs-coding-data.el): every byte decodes to the character Emacs gives, or to a
//! raw byte where Emacs has none, and every Unicode character encodes to the byte Emacs
//! writes for it.

use std::collections::HashMap;

use netproc::core::coding::{raw_byte_form, CodingSystem};

/// One system's block of the data file.
struct Expected {
    name: String,
    /// What each byte decodes to; `None` for a raw byte.
    chars: Vec<Option<char>>,
    default: u8,
    /// Characters whose encoding is not the byte decoding to them (or the default byte).
    encode: HashMap<char, u8>,
}

fn hex(field: &str) -> u32 {
    match u32::from_str_radix(field, 16) {
        Ok(value) => value,
        Err(error) => panic!("{field}: {error}"),
    }
}

fn tables() -> Vec<Expected> {
    let text = include_str!("data/emacs-one-byte-tables.txt");
    let mut tables: Vec<Expected> = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with(";;")) {
        if let Some(name) = line.strip_suffix(':') {
            tables.push(Expected {
                name: name.to_string(),
                chars: Vec::new(),
                default: 0,
                encode: HashMap::new(),
            });
            continue;
        }
        let Some(table) = tables.last_mut() else { panic!("data before a name: {line}") };
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["default", byte] => table.default = hex(byte) as u8,
            ["encode", pairs @ ..] => {
                for pair in pairs.chunks(2) {
                    let ch = char::from_u32(hex(pair[0])).unwrap_or_else(|| panic!("{line}"));
                    table.encode.insert(ch, hex(pair[1]) as u8);
                }
            }
            chars => table.chars.extend(chars.iter().map(|field| match *field {
                "----" => None,
                code => Some(char::from_u32(hex(code)).unwrap_or_else(|| panic!("{line}"))),
            })),
        }
    }
    tables
}

fn system(name: &str) -> CodingSystem {
    match CodingSystem::from_name(&format!("{name}-unix")) {
        Ok(system) => system,
        Err(error) => panic!("{name}: {error}"),
    }
}

#[test]
fn one_byte_decoding_matches_emacs() {
    let tables = tables();
    assert_eq!(tables.len(), 76);
    for table in &tables {
        assert_eq!(table.chars.len(), 256, "{}", table.name);
        let system = system(&table.name);
        for (byte, expected) in (0..=255u8).zip(&table.chars) {
            let mut decoder = system.decoder();
            let mut text = Vec::new();
            decoder.decode(&[byte], &mut text);
            decoder.finish(&mut text);
            let want = match expected {
                Some(ch) => ch.to_string().into_bytes(),
                None => raw_byte_form(byte).map(Vec::from).unwrap_or_else(|| vec![byte]),
            };
            assert_eq!(text, want, "{} decoding {byte:#04X}", table.name);
        }
    }
}

#[test]
fn one_byte_encoding_of_every_character_matches_emacs() {
    for table in tables() {
        let mut decoded_from: HashMap<char, Option<u8>> = HashMap::new();
        for (byte, ch) in (0..=255u8).zip(&table.chars) {
            if let Some(ch) = ch {
                // A character two bytes decode to is always among the listed encodings.
                decoded_from.entry(*ch).and_modify(|seen| *seen = None).or_insert(Some(byte));
            }
        }
        let all: String = (0..=0x10FFFF).filter_map(char::from_u32).collect();
        let mut wire = Vec::new();
        let mut encoder = system(&table.name).encoder();
        encoder.encode_text(all.as_bytes(), &mut wire);
        encoder.finish(&mut wire);
        assert_eq!(wire.len(), all.chars().count(), "{}: one byte per character", table.name);
        for (ch, byte) in all.chars().zip(wire) {
            let want = match table.encode.get(&ch) {
                Some(listed) => *listed,
                None => decoded_from.get(&ch).copied().flatten().unwrap_or(table.default),
            };
            assert_eq!(byte, want, "{} encoding U+{:04X}", table.name, ch as u32);
        }
    }
}
