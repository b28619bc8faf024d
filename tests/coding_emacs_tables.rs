//! The one-byte coding systems against Emacs's own tables (tests/data, made with Emacs 28.2):
//! every upper byte decodes to the character Emacs gives, or to a raw byte where Emacs has
//! none, and every such character encodes back to its byte.

use netproc::core::coding::{raw_byte_form, CodingSystem};

fn tables() -> Vec<(String, Vec<Option<char>>)> {
    let text = include_str!("data/emacs-one-byte-tables.txt");
    let mut tables: Vec<(String, Vec<Option<char>>)> = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with(";;")) {
        if let Some(name) = line.strip_suffix(':') {
            tables.push((name.to_string(), Vec::new()));
            continue;
        }
        let Some((_, chars)) = tables.last_mut() else { panic!("data before a name: {line}") };
        for field in line.split_whitespace() {
            chars.push(match field {
                "----" => None,
                hex => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
            });
        }
    }
    tables
}

#[test]
fn one_byte_tables_match_emacs() {
    let tables = tables();
    assert_eq!(tables.len(), 26);
    for (name, chars) in tables {
        assert_eq!(chars.len(), 128, "{name}");
        let system = match CodingSystem::from_name(&format!("{name}-unix")) {
            Ok(system) => system,
            Err(error) => panic!("{name}: {error}"),
        };
        for (index, expected) in chars.iter().enumerate() {
            let byte = 0x80 + index as u8;
            let mut decoder = system.decoder();
            let mut text = Vec::new();
            decoder.decode(&[byte], &mut text);
            decoder.finish(&mut text);
            let want = match expected {
                Some(ch) => ch.to_string().into_bytes(),
                None => raw_byte_form(byte).map(Vec::from).unwrap_or_default(),
            };
            assert_eq!(text, want, "{name} decoding {byte:#04X}");
            let mut wire = Vec::new();
            system.encoder().encode_text(&text, &mut wire);
            assert_eq!(wire, [byte], "{name} encoding {:?}", expected);
        }
    }
}
