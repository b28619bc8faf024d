//! Round trips and streaming properties of the coding systems: encoding then decoding gives
//! the text back whatever the reads look like, and bytes that are not valid text survive.

use netproc::core::coding::{runs, CodingSystem, Eol, Run};

fn cs(name: &str) -> CodingSystem {
    match CodingSystem::from_name(name) {
        Ok(system) => system,
        Err(error) => panic!("{name}: {error}"),
    }
}

fn encode(name: &str, text: &[u8]) -> Vec<u8> {
    let mut encoder = cs(name).encoder();
    let mut out = Vec::new();
    encoder.encode_text(text, &mut out);
    encoder.finish(&mut out);
    out
}

/// Decode `bytes` as the reads `chunks` cuts them into, then finish.
fn decode_chunks(name: &str, bytes: &[u8], chunks: &[usize]) -> Vec<u8> {
    let mut decoder = cs(name).decoder();
    let mut out = Vec::new();
    let mut rest = bytes;
    for &len in chunks {
        let (read, after) = rest.split_at(len.min(rest.len()));
        decoder.decode(read, &mut out);
        rest = after;
    }
    decoder.decode(rest, &mut out);
    decoder.finish(&mut out);
    out
}

fn decode(name: &str, bytes: &[u8]) -> Vec<u8> {
    decode_chunks(name, bytes, &[])
}

/// A text each coding system can represent, with end-of-lines.
const SAMPLES: &[(&str, &str)] = &[
    ("utf-8", "héllo wörld € 😀 あ\nline\tzwei\n"),
    ("utf-8-with-signature", "\u{FEFF}inner BOM stays, é 😀\n"),
    ("utf-8-auto", "auto é\n"),
    ("utf-16le", "héllo 😀 あ\nx"),
    ("utf-16be", "héllo 😀 あ\nx"),
    ("utf-16", "héllo 😀 あ\nx"),
    ("utf-16-le", "héllo 😀 あ\nx"),
    ("utf-16-be", "héllo 😀 あ\nx"),
    ("us-ascii", "plain ascii ~\n"),
    ("shift_jis", "日本語のテキスト ｱｲｳ 〜\n"),
    ("euc-jp", "日本語のテキスト ｱｲｳ 丂 ¡\n"),
    ("iso-2022-jp", "日本語 ¥‾ text\nです\n"),
    ("iso-2022-7bit", "aé中가ｱ あ\nb"),
    ("gbk", "中文简体 繁體\n"),
    ("gb18030", "中文 😀 ḿ €\n"),
    ("big5", "中文繁體字\n"),
    ("euc-kr", "한국어 텍스트\n"),
    ("cp949", "한국어 텍스트 갂똠\n"),
    ("cp932", "日本語 ①№ ｱ \u{E000}\n"),
    ("euc-cn", "中文简体 ・―\n"),
    ("iso-2022-kr", "한국어\n텍스트 中\n"),
    ("iso-2022-jp-2", "日本語 é 中文 한국 αβ \u{A0}\n"),
    ("iso-2022-7bit", "ąд∁ é 中 \u{E000}\n"),
    ("utf-8-emacs", "héllo 😀\n"),
    ("prefer-utf-8", "plain ascii\n"),
    ("eucjp-ms", "日本語 ①№ⅰ ∵ 纊 \u{E000}\u{E3AC}\n"),
    ("utf-7", "héllo + wörld € 😀 日本\nline~\\\n"),
    ("utf-7-imap", "héllo & wörld € 😀 日本\nline~\\\n"),
    ("chinese-hz", "中文 ~ text 简体\nline é\n"),
    ("emacs-mule", "aé中가∁ț ｱ € \u{E000} ก\n"),
];

/// The one-byte systems: their sample is every character they have, from 0x20 up.
const ONE_BYTE: &[&str] = &[
    "latin-1",
    "iso-8859-2",
    "iso-8859-3",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-6",
    "iso-8859-7",
    "iso-8859-8",
    "iso-8859-9",
    "iso-8859-10",
    "iso-8859-11",
    "iso-8859-13",
    "iso-8859-14",
    "iso-8859-15",
    "iso-8859-16",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "windows-1257",
    "windows-1258",
    "koi8-r",
    "koi8-u",
    "cp437",
    "cp850",
    "cp852",
    "cp866",
    "mac-roman",
    "tis-620",
    "viscii",
    "pt154",
    "hp-roman8",
];

/// Every character of a one-byte system (the bytes it leaves undefined dropped), with a LF.
fn one_byte_sample(name: &str) -> Vec<u8> {
    let bytes: Vec<u8> = (0x20..=0xFF).filter(|b| *b != 0x7F).collect();
    let decoded = decode(&format!("{name}-unix"), &bytes);
    let mut text = Vec::new();
    for run in runs(&decoded) {
        if let Run::Text(part) = run {
            text.extend_from_slice(part.as_bytes());
        }
    }
    text.extend_from_slice(b"\nend");
    text
}

fn all_samples() -> Vec<(String, Vec<u8>)> {
    let mut samples: Vec<(String, Vec<u8>)> =
        SAMPLES.iter().map(|(name, text)| (name.to_string(), text.as_bytes().to_vec())).collect();
    for name in ONE_BYTE {
        samples.push((name.to_string(), one_byte_sample(name)));
    }
    samples
}

fn replace_lf(text: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &byte in text {
        if byte == b'\n' {
            out.extend_from_slice(with);
        } else {
            out.push(byte);
        }
    }
    out
}

#[test]
fn every_coding_system_round_trips_its_sample() {
    for (name, text) in all_samples() {
        for suffix in ["", "-unix", "-dos", "-mac"] {
            let variant = format!("{name}{suffix}");
            let wire = encode(&variant, &text);
            assert_eq!(decode(&variant, &wire), text, "{variant}");
        }
        // The end-of-line variants put CR LF or CR on the wire, in the coding's own form.
        let unix_dos = encode(&format!("{name}-unix"), &replace_lf(&text, b"\r\n"));
        assert_eq!(encode(&format!("{name}-dos"), &text), unix_dos, "{name}-dos");
        let unix_mac = encode(&format!("{name}-unix"), &replace_lf(&text, b"\r"));
        assert_eq!(encode(&format!("{name}-mac"), &text), unix_mac, "{name}-mac");
        // The undecided end-of-line form detects what the wire has.
        let mut decoder = cs(&name).decoder();
        let mut out = Vec::new();
        decoder.decode(&unix_dos, &mut out);
        decoder.finish(&mut out);
        assert_eq!(out, text, "{name} reading CR LF");
        let detected = decoder.detected().map(|system| system.eol());
        assert_eq!(detected, Some(Eol::Dos), "{name}");
    }
}

#[test]
fn byte_systems_and_undecided_round_trip() {
    let text = "héllo € 😀\nwörld".as_bytes();
    for name in ["raw-text", "binary", "no-conversion", "raw-text-unix", "nil"] {
        // Multibyte text goes out as its UTF-8; decoding is unibyte: the same bytes.
        let wire = encode(name, text);
        assert_eq!(wire, text, "{name}");
        assert_eq!(decode(name, &wire), text, "{name}");
        assert!(!cs(name).decoder().multibyte());
    }
    assert_eq!(decode("raw-text-dos", &encode("raw-text-dos", text)), text);
    let wire = encode("undecided-dos", text);
    assert_eq!(wire, replace_lf(text, b"\r\n"));
    let mut decoder = cs("undecided").decoder();
    let mut out = Vec::new();
    decoder.decode(&wire, &mut out);
    decoder.finish(&mut out);
    assert_eq!(out, text);
    assert_eq!(decoder.detected().map(|s| s.name().to_string()).as_deref(), Some("utf-8-dos"));
}

#[test]
fn every_split_position_decodes_exactly_once() {
    // (coding system, text, what decoding the encoded text gives in one read)
    let cases: &[(&str, &str, &str)] = &[
        ("utf-8-unix", "aé€😀あ\r\nz", "aé€😀あ\r\nz"),
        ("utf-8", "aé€😀あ\r\nz", "aé€😀あ\nz"),
        ("utf-8-dos", "aé\r\n€\r\n😀\r\r\n", "aé\r\n€\r\n😀\r\r\n"),
        ("utf-8-with-signature", "\u{FEFF}é", "\u{FEFF}é"),
        ("shift_jis", "aあｱ漢字\nb", "aあｱ漢字\nb"),
        ("euc-jp", "aあｱ丂漢\nb", "aあｱ丂漢\nb"),
        ("utf-16", "a😀あ\nb", "a😀あ\nb"),
        ("utf-16le", "a😀あ\nb", "a😀あ\nb"),
        ("utf-16be-dos", "a😀\nb\n", "a😀\nb\n"),
        ("iso-2022-jp", "aあ¥b漢字\nc", "aあ¥b漢字\nc"),
        ("iso-2022-7bit", "aé中가ｱb", "aé中가ｱb"),
        ("gb18030", "a中😀€b", "a中😀€b"),
        ("big5", "a中文b", "a中文b"),
        ("euc-kr", "a한국b", "a한국b"),
        ("undecided", "abc\r\ndé€😀\r\n", "abc\ndé€😀\n"),
        ("undecided", "ab\r\ncdé", "ab\ncdé"),
        ("undecided", "ab\x1B$B$\"\x1B(B", "abあ"),
    ];
    for (name, text, expected) in cases {
        let wire = encode(name, text.as_bytes());
        let whole = decode(name, &wire);
        assert_eq!(whole, expected.as_bytes(), "{name} in one read");
        for first in 0..=wire.len() {
            assert_eq!(decode_chunks(name, &wire, &[first]), whole, "{name} split at {first}");
            for second in first..=wire.len() {
                let chunks = [first, second - first];
                assert_eq!(decode_chunks(name, &wire, &chunks), whole, "{name} split at {first}, {second}");
            }
        }
    }
}

#[test]
fn cr_lf_split_and_lone_cr_at_the_end() {
    assert_eq!(decode_chunks("utf-8-dos", b"c\r\nd", &[2]), b"c\nd");
    let mut decoder = cs("utf-8-dos").decoder();
    let mut out = Vec::new();
    decoder.decode(b"c\r", &mut out);
    assert_eq!(out, b"c");
    decoder.finish(&mut out);
    assert_eq!(out, b"c\r");
    // The same with an undecided end-of-line.
    let mut decoder = cs("utf-8").decoder();
    let mut out = Vec::new();
    decoder.decode(b"x\r", &mut out);
    assert_eq!(out, b"x");
    decoder.finish(&mut out);
    assert_eq!(out, b"x\r");
}

#[test]
fn partial_characters_are_held_then_delivered_raw() {
    for (name, partial, raw_form) in [
        ("utf-8", &b"\xE3\x81"[..], &b"\xC1\xA3\xC0\x81"[..]),
        ("shift_jis", b"\x82", b"\xC0\x82"),
        ("gb18030", b"\x81\x30\x81", b"\xC0\x810\xC0\x81"),
        ("euc-jp", b"\x8F\xA2", b"\xC0\x8F\xC0\xA2"),
        ("utf-16le", b"a", b"a"),
    ] {
        let mut decoder = cs(name).decoder();
        let mut out = Vec::new();
        decoder.decode(b"ok", &mut out);
        decoder.decode(partial, &mut out);
        assert_eq!(out, if name == "utf-16le" { "\u{6B6F}".as_bytes() } else { b"ok" }, "{name}");
        out.clear();
        decoder.finish(&mut out);
        assert_eq!(out, raw_form, "{name}");
    }
}

#[test]
fn invalid_bytes_survive_a_round_trip() {
    let wire = b"ok \xFF\xFE bad \xC3 \xE2\x82 \xED\xA0\x80 \xF4\x90\x80\x80 \xC0\x80 end \xE9";
    let text = decode("utf-8", wire);
    assert!(std::str::from_utf8(&text).is_err());
    assert_eq!(encode("utf-8", &text), wire);
    let raw: Vec<u8> = runs(&text)
        .flat_map(|run| match run {
            Run::Text(part) => part.as_bytes().to_vec(),
            Run::Raw(bytes) => bytes.to_vec(),
        })
        .collect();
    assert_eq!(raw, wire);
    // Byte-oriented legacy systems give raw bytes back too.
    for (name, wire) in
        [("shift_jis", &b"a\xFF\x80\x82\xA0b"[..]), ("latin-1", b"\xE9"), ("us-ascii", b"\x80\xFF")]
    {
        assert_eq!(encode(name, &decode(name, wire)), wire, "{name}");
    }
}

/// xorshift64*: a fixed-seed generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, limit: usize) -> usize {
        (self.next() % limit as u64) as usize
    }

    fn chunks(&mut self, total: usize) -> Vec<usize> {
        let mut chunks = Vec::new();
        let mut used = 0;
        while used < total {
            let len = self.below(8);
            chunks.push(len);
            used += len;
        }
        chunks
    }
}

#[test]
fn random_texts_in_random_reads_decode_exactly() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let alphabets: &[(&str, &[&str])] = &[
        ("utf-8", &["a", "z", " ", "é", "あ", "😀", "\u{FEFF}"]),
        ("utf-16", &["a", "é", "あ", "😀"]),
        ("utf-16le", &["a", "é", "あ", "😀"]),
        ("utf-8-with-signature", &["a", "é", "😀"]),
        ("shift_jis", &["a", "あ", "ｱ", "漢", "~"]),
        ("euc-jp", &["a", "あ", "ｱ", "丂", "~"]),
        ("iso-2022-jp", &["a", "あ", "¥", "‾", "漢"]),
        ("iso-2022-7bit", &["a", "é", "中", "가", "ｱ", "あ"]),
        ("gb18030", &["a", "中", "😀", "€"]),
        ("gbk", &["a", "中", "繁"]),
        ("big5", &["a", "中", "文"]),
        ("euc-kr", &["a", "한", "국"]),
        ("latin-1", &["a", "é", "ÿ", "\u{80}"]),
        ("windows-1252", &["a", "€", "é"]),
        ("koi8-r", &["a", "т", "р"]),
    ];
    for (name, letters) in alphabets {
        for (suffix, eols) in
            [("-unix", &["\n", "\r", "\r\n"][..]), ("-dos", &["\n", "\r", "\r\n"][..]), ("-mac", &["\n"][..])]
        {
            let variant = format!("{name}{suffix}");
            for _ in 0..60 {
                let mut text = String::new();
                for _ in 0..rng.below(40) {
                    if rng.below(5) == 0 {
                        text.push_str(eols[rng.below(eols.len())]);
                    } else {
                        text.push_str(letters[rng.below(letters.len())]);
                    }
                }
                let wire = encode(&variant, text.as_bytes());
                let chunks = rng.chunks(wire.len());
                let decoded = decode_chunks(&variant, &wire, &chunks);
                assert_eq!(String::from_utf8_lossy(&decoded), text, "{variant} {chunks:?}");
            }
        }
    }
}

#[test]
fn random_bytes_through_utf8_come_back_unchanged() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let pieces: &[&[u8]] = &[b"a", b"\xC3\xA9", b"\xE3\x81\x82", b"\xF0\x9F\x98\x80", b"\r", b"\n"];
    for _ in 0..2000 {
        let mut wire = Vec::new();
        for _ in 0..rng.below(30) {
            if rng.below(3) == 0 {
                wire.push(rng.next() as u8);
            } else {
                wire.extend_from_slice(pieces[rng.below(pieces.len())]);
            }
        }
        let whole = decode("utf-8-unix", &wire);
        let chunks = rng.chunks(wire.len());
        assert_eq!(decode_chunks("utf-8-unix", &wire, &chunks), whole, "{wire:?} {chunks:?}");
        assert_eq!(encode("utf-8-unix", &whole), wire, "{wire:?}");
    }
}
