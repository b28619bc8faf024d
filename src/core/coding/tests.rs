//! Tests of the public API against what Emacs 28.2 prints (each constant cites the
//! expression, run as `emacs --batch -Q` under LANG=C.UTF-8, or the network-process
//! experiment, a server in the same Emacs sending each read separately to a client process
//! with the given `:coding`).

use super::*;

fn cs(name: &str) -> CodingSystem {
    match CodingSystem::from_name(name) {
        Ok(system) => system,
        Err(error) => panic!("{name}: {error}"),
    }
}

/// Decode `reads` one by one; returns the text of each read, the text `finish` gave, and
/// what was detected at the end.
fn reads(name: &str, reads: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>, Option<String>, bool) {
    let mut decoder = cs(name).decoder();
    let mut texts = Vec::new();
    for read in reads {
        let mut out = Vec::new();
        decoder.decode(read, &mut out);
        texts.push(out);
    }
    let mut last = Vec::new();
    decoder.finish(&mut last);
    let detected = decoder.detected().map(|system| system.name().to_string());
    (texts, last, detected, decoder.multibyte())
}

fn encode(name: &str, text: &str) -> Vec<u8> {
    let mut encoder = cs(name).encoder();
    let mut out = Vec::new();
    encoder.encode_text(text.as_bytes(), &mut out);
    encoder.finish(&mut out);
    out
}

/// Each name's variants are named after its base, as `(coding-system-eol-type NAME)` gives
/// them (tests/coding_inventory.rs checks every name Emacs has).
#[test]
fn every_name_and_variant_is_accepted_with_emacs_names() {
    for name in CodingSystem::known_names() {
        let system = cs(name);
        assert_eq!(system.name(), name);
        if system.eol() != Eol::Undecided {
            continue;
        }
        for suffix in ["-unix", "-dos", "-mac"] {
            let variant = cs(&format!("{name}{suffix}"));
            assert_eq!(variant.name(), format!("{name}{suffix}"));
            assert_ne!(variant.eol(), Eol::Undecided);
        }
    }
    // (coding-system-eol-type 'latin-1) → [iso-latin-1-unix iso-latin-1-dos iso-latin-1-mac]
    assert_eq!(cs("latin-1").with_eol(Eol::Dos).name(), "iso-latin-1-dos");
    assert_eq!(cs("utf-16-le").with_eol(Eol::Mac).name(), "utf-16le-with-signature-mac");
    assert_eq!(cs("binary").with_eol(Eol::Dos).name(), "binary");
    // `dos' is undecided-dos: (coding-system-change-eol-conversion 'dos 'unix) → undecided-unix
    assert_eq!(cs("dos").with_eol(Eol::Unix).name(), "undecided-unix");
    assert!(cs("nil").is_nil());
}

#[test]
fn unknown_names_are_coding_system_errors() {
    // (check-coding-system 'foo) → (coding-system-error foo), "Invalid coding system: foo";
    // also UTF-8 (symbols are case-sensitive) and binary-unix (binary has no variants).
    for name in ["foo", "UTF-8", "binary-unix", "no-conversion-dos", "utf-8-", "-dos", ""] {
        let error = match CodingSystem::from_name(name) {
            Ok(system) => panic!("{name} accepted as {system:?}"),
            Err(error) => error,
        };
        assert_eq!(error.symbol.name(), "coding-system-error");
        assert_eq!(error.data.len(), 1);
        assert!(error.data[0].is_symbol(name));
        assert_eq!(error.message(), format!("Invalid coding system: {name}"));
    }
}

#[test]
fn set_process_coding_system_and_filter_multibyte_forms() {
    // Fset_process_coding_system: ENCODING 'utf-8 becomes utf-8-unix, nil becomes raw-text-unix.
    assert_eq!(cs("utf-8").with_eol_unix_if_undecided().name(), "utf-8-unix");
    assert_eq!(cs("latin-1").with_eol_unix_if_undecided().name(), "iso-latin-1-unix");
    assert_eq!(cs("nil").with_eol_unix_if_undecided().name(), "raw-text-unix");
    assert_eq!(cs("binary").with_eol_unix_if_undecided().name(), "binary");
    assert_eq!(cs("utf-8-dos").with_eol_unix_if_undecided().name(), "utf-8-dos");
    // raw_text_coding_system: same end-of-line; raw-text and binary unchanged; nil → raw-text.
    assert_eq!(cs("utf-8-unix").raw_text_form().name(), "raw-text-unix");
    assert_eq!(cs("latin-1-dos").raw_text_form().name(), "raw-text-dos");
    assert_eq!(cs("utf-8").raw_text_form().name(), "raw-text");
    assert_eq!(cs("binary").raw_text_form().name(), "binary");
    assert_eq!(cs("raw-text-mac").raw_text_form().name(), "raw-text-mac");
    assert_eq!(cs("nil").raw_text_form().name(), "raw-text");
    for unibyte in ["binary", "no-conversion", "raw-text", "raw-text-dos", "nil"] {
        assert!(cs(unibyte).is_unibyte(), "{unibyte}");
    }
    assert!(!cs("utf-8").is_unibyte() && !cs("undecided").is_unibyte());
}

#[test]
fn undecided_as_emacs_network_processes_detect() {
    // reads "\200abc", "\303\251" → (raw-text . undecided), unibyte strings
    let (texts, _, detected, multibyte) = reads("undecided", &[b"\x80abc", b"\xC3\xA9"]);
    assert_eq!(texts, [b"\x80abc".to_vec(), b"\xC3\xA9".to_vec()]);
    assert_eq!((detected.as_deref(), multibyte), (Some("raw-text"), false));
    // "abc", "\303\251x", "\351" → "abc" (still undecided), "éx" (utf-8), \351 at close
    let mut decoder = cs("undecided").decoder();
    let mut out = Vec::new();
    decoder.decode(b"abc", &mut out);
    assert_eq!((out.as_slice(), decoder.detected()), (&b"abc"[..], None));
    out.clear();
    decoder.decode(b"\xC3\xA9x", &mut out);
    assert_eq!(out, "éx".as_bytes());
    assert_eq!(decoder.detected().map(|s| s.name().to_string()).as_deref(), Some("utf-8"));
    out.clear();
    decoder.decode(b"\xE9", &mut out);
    decoder.finish(&mut out);
    assert_eq!(out, b"\xC1\xA9");
    // "a\303", "\251b" → "a", "éb"
    let (texts, _, detected, _) = reads("undecided", &[b"a\xC3", b"\xA9b"]);
    assert_eq!(texts, [b"a".to_vec(), "éb".as_bytes().to_vec()]);
    assert_eq!(detected.as_deref(), Some("utf-8"));
    // "\e$B$\"\e(B" → "あ", (iso-2022-7bit . undecided)
    let (texts, _, detected, _) = reads("undecided", &[b"\x1B$B$\"\x1B(B"]);
    assert_eq!((texts[0].as_slice(), detected.as_deref()), ("あ".as_bytes(), Some("iso-2022-7bit")));
    // "\351a\r\n" → "éa\n", iso-latin-1-dos
    let (texts, _, detected, _) = reads("undecided", &[b"\xE9a\r\n"]);
    assert_eq!((texts[0].as_slice(), detected.as_deref()), ("éa\n".as_bytes(), Some("iso-latin-1-dos")));
    // "a\0b" → unibyte, no-conversion
    let (texts, _, detected, multibyte) = reads("undecided", &[b"a\0b"]);
    assert_eq!(
        (texts[0].as_slice(), detected.as_deref(), multibyte),
        (&b"a\0b"[..], Some("no-conversion"), false)
    );
    // "\377\376a\0" → "a", utf-16le-with-signature; "\376\377\0a" → utf-16be-with-signature
    let (texts, _, detected, _) = reads("undecided", &[b"\xFF\xFEa\0"]);
    assert_eq!((texts[0].as_slice(), detected.as_deref()), (&b"a"[..], Some("utf-16le-with-signature")));
    let (_, _, detected, _) = reads("undecided", &[b"\xFE\xFF\0a"]);
    assert_eq!(detected.as_deref(), Some("utf-16be-with-signature"));
    // undecided-dos with "\303\251" → utf-8-dos
    assert_eq!(reads("undecided-dos", &[b"\xC3\xA9"]).2.as_deref(), Some("utf-8-dos"));
    // "a\r\nb\nc" → undecided-unix, CR kept; "a\rb\r\nc" → undecided-dos
    let (texts, _, detected, _) = reads("undecided", &[b"a\r\nb\nc"]);
    assert_eq!((texts[0].as_slice(), detected.as_deref()), (&b"a\r\nb\nc"[..], Some("undecided-unix")));
    assert_eq!(reads("undecided", &[b"a\rb\r\nc"]).2.as_deref(), Some("undecided-dos"));
    // Emacs made "abc\r", "\ndef" undecided-mac; netproc holds the CR and sees a CR LF.
    let (texts, _, detected, _) = reads("undecided", &[b"abc\r", b"\ndef"]);
    assert_eq!(texts, [b"abc".to_vec(), b"\ndef".to_vec()]);
    assert_eq!(detected.as_deref(), Some("undecided-dos"));
}

#[test]
fn end_of_line_and_signature_detection_names() {
    // utf-8 with "\r\n" → (utf-8-dos . utf-8); latin-1 → iso-latin-1-dos; sjis → japanese-shift-jis-dos
    assert_eq!(reads("utf-8", &[b"\r\n"]).2.as_deref(), Some("utf-8-dos"));
    assert_eq!(reads("latin-1", &[b"a\r\n"]).2.as_deref(), Some("iso-latin-1-dos"));
    assert_eq!(reads("sjis", &[b"a\r\n"]).2.as_deref(), Some("japanese-shift-jis-dos"));
    assert_eq!(reads("utf-8", &[b"abc"]).2, None);
    assert_eq!(reads("utf-8-dos", &[b"a\r\n"]).2, None);
    // utf-8-auto: with a BOM → utf-8-with-signature, without → utf-8
    let (texts, _, detected, _) = reads("utf-8-auto", &[b"\xEF\xBB\xBFab"]);
    assert_eq!((texts[0].as_slice(), detected.as_deref()), (&b"ab"[..], Some("utf-8-with-signature")));
    assert_eq!(reads("utf-8-auto", &[b"ab"]).2.as_deref(), Some("utf-8"));
    // utf-16, reads "\377\376", "a\0b\0" → "ab", utf-16le-with-signature
    let (texts, _, detected, _) = reads("utf-16", &[b"\xFF\xFE", b"a\0b\0"]);
    assert_eq!(texts.concat(), b"ab");
    assert_eq!(detected.as_deref(), Some("utf-16le-with-signature"));
    // raw-text, "a\r\nb" → unibyte "a\nb", raw-text-dos
    let (texts, _, detected, multibyte) = reads("raw-text", &[b"a\r\nb"]);
    assert_eq!(
        (texts[0].as_slice(), detected.as_deref(), multibyte),
        (&b"a\nb"[..], Some("raw-text-dos"), false)
    );
    // :coding 'binary gives unibyte strings with CR kept (Emacs's read_process_output)
    let (texts, _, detected, multibyte) = reads("binary", &[b"a\r\nb\r"]);
    assert_eq!((texts[0].as_slice(), detected, multibyte), (&b"a\r\nb\r"[..], None, false));
}

#[test]
fn utf8_dos_across_reads_and_at_close() {
    // utf-8-dos, "c\r" then "\nd" → "c", "\nd"; "c\r" then close → "c", "\r"
    let (texts, last, _, _) = reads("utf-8-dos", &[b"c\r", b"\nd"]);
    assert_eq!((texts, last), (vec![b"c".to_vec(), b"\nd".to_vec()], Vec::new()));
    let (texts, last, _, _) = reads("utf-8-dos", &[b"c\r"]);
    assert_eq!((texts, last), (vec![b"c".to_vec()], b"\r".to_vec()));
    // utf-8, "c\303" then close → "c", then the raw byte \303
    let (texts, last, _, _) = reads("utf-8", &[b"c\xC3"]);
    assert_eq!((texts, last), (vec![b"c".to_vec()], b"\xC1\x83".to_vec()));
}

#[test]
fn encodings_match_emacs() {
    let cases: &[(&str, &str, &[u8])] = &[
        // (encode-coding-string "a€b" 'latin-1) → "a b"; 'us-ascii of "aéb" → "a?b"
        ("latin-1", "a€b", b"a b"),
        ("us-ascii", "aéb", b"a?b"),
        // 'shift_jis, 'euc-jp, 'iso-2022-jp of "a가b" → "a b"
        ("shift_jis", "a가b", b"a b"),
        ("euc-jp", "a가b", b"a b"),
        ("iso-2022-jp", "a가b", b"a b"),
        // (encode-coding-string "aあ\nb" 'iso-2022-jp-dos) → a ESC$B $" ESC(B \r\n b
        ("iso-2022-jp-dos", "aあ\nb", b"a\x1B$B$\"\x1B(B\r\nb"),
        // 'gb18030 of "a😀b" → a \224 9 \374 6 b; 'big5, 'euc-kr, 'koi8-r, 'iso-8859-2 → "a b"
        ("gb18030", "a😀b", b"a\x949\xFC6b"),
        ("big5", "a😀b", b"a b"),
        ("euc-kr", "a😀b", b"a b"),
        ("koi8-r", "a😀b", b"a b"),
        ("iso-8859-2", "a😀b", b"a b"),
        // UTF-16: 'utf-16le and 'utf-16be without BOM, 'utf-16 big-endian with one
        ("utf-16le", "a😀b", b"a\0\x3D\xD8\x00\xDEb\0"),
        ("utf-16be", "a😀b", b"\0a\xD8\x3D\xDE\x00\0b"),
        ("utf-16", "a😀b", b"\xFE\xFF\0a\xD8\x3D\xDE\x00\0b"),
        ("utf-16-le", "ab", b"\xFF\xFEa\0b\0"),
        ("utf-16-be", "ab", b"\xFE\xFF\0a\0b"),
        ("utf-16-dos", "a\nb", b"\xFE\xFF\0a\0\r\0\n\0b"),
        // 'utf-8-with-signature writes a BOM, 'utf-8-auto does not
        ("utf-8-with-signature", "ab", b"\xEF\xBB\xBFab"),
        ("utf-8-auto", "ab", b"ab"),
        // end-of-lines: "a\nb" via utf-8-dos, -mac, plain utf-8; "a\r\nb" via utf-8-dos
        ("utf-8-dos", "a\nb", b"a\r\nb"),
        ("utf-8-mac", "a\nb", b"a\rb"),
        ("utf-8", "a\nb", b"a\nb"),
        ("utf-8-dos", "a\r\nb", b"a\r\r\nb"),
        // raw-text, binary and undecided write the characters' UTF-8: "é€" → \303\251\342\202\254
        ("raw-text", "é€", b"\xC3\xA9\xE2\x82\xAC"),
        ("binary", "é€", b"\xC3\xA9\xE2\x82\xAC"),
        ("undecided", "é€", b"\xC3\xA9\xE2\x82\xAC"),
        // 'windows-1251 of "a€b" → a \210 b; 'windows-1252 → a \200 b; 'iso-8859-15 → a \244 b
        ("windows-1251", "a€b", b"a\x88b"),
        ("windows-1252", "a€b", b"a\x80b"),
        ("iso-8859-15", "a€b", b"a\xA4b"),
        // 'iso-2022-jp of "a‾¥b" → a ESC(J ~ \ ESC(B b; 'shift_jis of "a～〜b" → a space \201` b
        ("iso-2022-jp", "a‾¥b", b"a\x1B(J~\\\x1B(Bb"),
        ("shift_jis", "a～〜b", b"a \x81`b"),
        // 'euc-jp of "¡" (JIS X 0212) → \217\242\302
        ("euc-jp", "¡", b"\x8F\xA2\xC2"),
    ];
    for (name, text, expected) in cases {
        assert_eq!(encode(name, text), *expected, "{name} {text:?}");
    }
}

#[test]
fn raw_bytes_encode_as_in_emacs() {
    // (encode-coding-string (string ?a #x3fffff ?b) CODING): the raw byte \377 itself in
    // utf-8, latin-1, shift_jis, iso-2022-jp, us-ascii, raw-text; a space in utf-16le.
    let mut text = b"a".to_vec();
    text.extend_from_slice(&[0xC1, 0xBF]);
    text.push(b'b');
    for name in ["utf-8", "latin-1", "shift_jis", "iso-2022-jp", "us-ascii", "raw-text", "binary"] {
        let mut out = Vec::new();
        cs(name).encoder().encode_text(&text, &mut out);
        assert_eq!(out, b"a\xFFb", "{name}");
    }
    let mut out = Vec::new();
    cs("utf-16le").encoder().encode_text(&text, &mut out);
    assert_eq!(out, b"a\0 \0b\0");
}

#[test]
fn unibyte_sends_get_end_of_line_conversion_only() {
    // Emacs's send_process: "u\nv" through utf-8-dos arrives as u\r\nv; no BOM, no character
    // conversion.
    let mut out = Vec::new();
    cs("utf-8-dos").encoder().encode_bytes(b"u\nv\xFF", &mut out);
    assert_eq!(out, b"u\r\nv\xFF");
    out.clear();
    cs("utf-16").encoder().encode_bytes(b"u\nv", &mut out);
    assert_eq!(out, b"u\nv");
    out.clear();
    cs("binary").encoder().encode_bytes(b"u\nv", &mut out);
    assert_eq!(out, b"u\nv");
}

#[test]
fn bom_is_written_once_per_encoder() {
    let mut encoder = cs("utf-16").encoder();
    let mut out = Vec::new();
    encoder.encode_text(b"", &mut out);
    encoder.encode_text(b"a", &mut out);
    encoder.encode_text(b"b", &mut out);
    assert_eq!(out, b"\xFE\xFF\0a\0b");
}

#[test]
fn iso_2022_state_carries_over_between_texts() {
    // Emacs: (process-send-string P "a日本") then "本b" through iso-2022-jp puts
    // a ESC$B F|K\ K\ ESC(B b on the wire: no return to ASCII between the two strings.
    let mut encoder = cs("iso-2022-jp").encoder();
    let mut out = Vec::new();
    encoder.encode_text("a日本".as_bytes(), &mut out);
    assert_eq!(out, b"a\x1B$BF|K\\");
    encoder.encode_text("本b".as_bytes(), &mut out);
    assert_eq!(out, b"a\x1B$BF|K\\K\\\x1B(Bb");
    out.clear();
    encoder.encode_text("日".as_bytes(), &mut out);
    encoder.finish(&mut out);
    assert_eq!(out, b"\x1B$BF|\x1B(B");
}

#[test]
fn decoders_and_encoders_can_live_in_shared_process_state() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<CodingSystem>();
    shareable::<Decoder>();
    shareable::<Encoder>();
}

#[test]
fn valid_utf8_passes_unchanged_once_line_ends_are_known_to_be_lf() {
    let mut decoder = cs("utf-8").decoder();
    assert!(!decoder.passes_unchanged("é\n".as_bytes()), "line ends not known yet");
    let mut out = Vec::new();
    decoder.decode("é\n".as_bytes(), &mut out);
    assert!(decoder.passes_unchanged("ü\n".as_bytes()));
    assert!(!decoder.passes_unchanged(b"\xff"), "invalid UTF-8 must be decoded");
    assert!(!decoder.passes_unchanged(&"é".as_bytes()[..1]), "a cut character is held");
    decoder.decode(&"é".as_bytes()[..1], &mut out);
    assert!(!decoder.passes_unchanged(b"a"), "a held byte joins the next read");
    assert!(cs("utf-8-unix").decoder().passes_unchanged("ä\r\n".as_bytes()));
    assert!(!cs("utf-8-dos").decoder().passes_unchanged(b"a"));
    assert!(!cs("latin-1-unix").decoder().passes_unchanged(b"a"));
}

#[test]
fn prefer_utf_8_detects_as_undecided_does() {
    // Network processes with :coding 'prefer-utf-8 (reads as listed) → as with undecided:
    // "abc" stays prefer-utf-8; "\351a" → iso-latin-1; "a\r\n\303\251" → utf-8-dos;
    // "a\0b" → no-conversion; "\200abc" → raw-text.
    assert_eq!(reads("prefer-utf-8", &[b"abc"]).2, None);
    assert_eq!(reads("prefer-utf-8", &[b"abc", b"\xE9a"]).2.as_deref(), Some("iso-latin-1"));
    let (texts, _, detected, _) = reads("prefer-utf-8", &[b"a\r\n\xC3\xA9"]);
    assert_eq!((texts[0].as_slice(), detected.as_deref()), ("a\né".as_bytes(), Some("utf-8-dos")));
    assert_eq!(reads("prefer-utf-8", &[b"a\0b"]).2.as_deref(), Some("no-conversion"));
    assert_eq!(reads("prefer-utf-8", &[b"\x80abc"]).2.as_deref(), Some("raw-text"));
    // Only end-of-lines detected: (decode-coding-string "a\r\nb" 'prefer-utf-8) leaves
    // last-coding-system-used prefer-utf-8-dos.
    assert_eq!(reads("prefer-utf-8", &[b"a\r\nb"]).2.as_deref(), Some("prefer-utf-8-dos"));
    // (encode-coding-string "aé" 'prefer-utf-8) → "a\303\251"
    assert_eq!(encode("prefer-utf-8", "aé"), "aé".as_bytes());
}

#[test]
fn utf_8_emacs_is_utf_8_under_its_own_name() {
    // A process with :coding 'utf-8-emacs: "a\300\200" → a, raw \300, raw \200 (the
    // internal form of raw bytes is invalid UTF-8 in the stream too); "\r\n" → utf-8-emacs-dos
    let (texts, _, detected, _) = reads("utf-8-emacs", &[b"a\xC0\x80", b"\r\n"]);
    assert_eq!(texts[0], b"a\xC1\x80\xC0\x80");
    assert_eq!(detected.as_deref(), Some("utf-8-emacs-dos"));
    // (encode-coding-string (string ?a #x3fff80 ?é) 'utf-8-emacs) → "a\200\303\251"
    let mut text = b"a".to_vec();
    text.extend_from_slice(&[0xC0, 0x80]);
    text.extend_from_slice("é".as_bytes());
    let mut out = Vec::new();
    cs("utf-8-emacs").encoder().encode_text(&text, &mut out);
    assert_eq!(out, b"a\x80\xC3\xA9");
    // emacs-internal is utf-8-emacs-unix.
    assert_eq!(cs("emacs-internal").with_eol(Eol::Dos).name(), "utf-8-emacs-dos");
    assert_eq!(cs("emacs-internal").eol(), Eol::Unix);
}

#[test]
fn no_conversion_multibyte_keeps_bytes_as_raw_bytes() {
    // A process with :coding 'no-conversion-multibyte: "a\r\n\303\251" → a multibyte "a\r\n"
    // with raw \303 and \251; the system stays as it is.
    let (texts, _, detected, multibyte) = reads("no-conversion-multibyte", &[b"a\r\n\xC3\xA9"]);
    assert_eq!((texts[0].as_slice(), detected, multibyte), (&b"a\r\n\xC1\x83\xC0\xA9"[..], None, true));
    assert!(!cs("no-conversion-multibyte").is_unibyte());
    assert!(CodingSystem::from_name("no-conversion-multibyte-dos").is_err());
    assert_eq!(cs("no-conversion-multibyte").raw_text_form().name(), "no-conversion-multibyte");
    // (encode-coding-string (string ?a #x3fff80 ?é) 'no-conversion-multibyte) → "a\200\303\251"
    let mut out = Vec::new();
    cs("no-conversion-multibyte").encoder().encode_text(b"a\xC0\x80\xC3\xA9\n", &mut out);
    assert_eq!(out, b"a\x80\xC3\xA9\n");
}
