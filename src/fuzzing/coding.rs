//! The `coding` target: every decoder (each coding system with each end-of-line variant)
//! over arbitrary bytes cut into arbitrary reads, and the encoder over arbitrary text.

use std::sync::OnceLock;

use super::input::Input;
use crate::core::coding::{runs, CodingSystem, Eol, Run};
use crate::core::coding::{Base, Utf8Form};

/// Every coding system netproc knows, in each end-of-line form it has.
fn systems() -> &'static [CodingSystem] {
    static SYSTEMS: OnceLock<Vec<CodingSystem>> = OnceLock::new();
    SYSTEMS.get_or_init(|| {
        let mut names: Vec<String> = vec!["nil".into()];
        for name in CodingSystem::known_names() {
            for suffix in ["", "-unix", "-dos", "-mac"] {
                names.push(format!("{name}{suffix}"));
            }
        }
        names.iter().filter_map(|name| CodingSystem::from_name(name).ok()).collect()
    })
}

fn decode(system: &CodingSystem, reads: &[&[u8]]) -> (Vec<u8>, bool, Option<CodingSystem>) {
    let mut decoder = system.decoder();
    let mut out = Vec::new();
    for read in reads {
        // The reactor hands such a read on undecoded: it must decode to itself.
        let unchanged = decoder.passes_unchanged(read);
        let start = out.len();
        decoder.decode(read, &mut out);
        assert!(
            !unchanged || &out[start..] == *read,
            "{}: a read said to pass unchanged did not",
            system.name()
        );
    }
    decoder.finish(&mut out);
    (out, decoder.multibyte(), decoder.detected())
}

/// Run one input; panics on a broken invariant.
pub fn coding(data: &[u8]) {
    let all = systems();
    let mut input = Input::new(data);
    let system = &all[input.u16() as usize % all.len()];
    let cuts: Vec<usize> = (0..input.below(6)).map(|_| input.below(24)).collect();
    let bytes = input.rest();

    let (whole, multibyte, detected) = decode(system, &[bytes]);
    let mut reads = Vec::new();
    let mut rest = bytes;
    for cut in &cuts {
        let (read, after) = rest.split_at((*cut).min(rest.len()));
        reads.push(read);
        rest = after;
    }
    reads.push(rest);
    let (pieces, _, _) = decode(system, &reads);

    let base = system.base();
    // Which form the data is detected in may depend on where the first read ends (Emacs
    // decides on the first read that shows something), so only fixed systems must agree.
    let fixed = base != Base::Undecided
        && (system.eol() != Eol::Undecided || matches!(base, Base::Nil | Base::NoConversion));
    if fixed {
        assert_eq!(pieces, whole, "{}: reads {cuts:?} decode differently from one read", system.name());
    }
    assert!(
        whole.len() <= 3 * bytes.len(),
        "{}: {} bytes decode to {} bytes",
        system.name(),
        bytes.len(),
        whole.len()
    );
    if matches!(base, Base::Nil | Base::NoConversion) {
        assert_eq!(whole, bytes, "{} changed bytes", system.name());
    }
    if multibyte {
        assert_multibyte(&whole, system.name());
    }
    if let Some(found) = &detected {
        let named = CodingSystem::from_name(found.name());
        assert!(
            named.as_ref().is_ok_and(|n| n.eol() == found.eol()),
            "detected {} is no coding system",
            found.name()
        );
    }
    if lossless(system) {
        let mut encoder = system.encoder();
        let mut wire = Vec::new();
        if multibyte {
            encoder.encode_text(&whole, &mut wire);
        } else {
            encoder.encode_bytes(&whole, &mut wire);
        }
        encoder.finish(&mut wire);
        assert_eq!(wire, bytes, "{}: decoding then encoding lost bytes", system.name());
    }
    check_encoder(system, bytes);
}

/// Multibyte text is UTF-8 in which every other byte is a raw byte in Emacs's two-byte form.
fn assert_multibyte(text: &[u8], name: &str) {
    for run in runs(text) {
        if let Run::Raw(raw) = run {
            let stored = raw.stored();
            let pairs = stored.chunks(2).all(|pair| matches!(pair, [0xC0 | 0xC1, 0x80..=0xBF]));
            assert!(pairs, "{name}: stray bytes {stored:02X?} in decoded text");
        }
    }
}

/// Systems in which every byte string is text plus raw bytes with one encoding: decoding
/// then encoding must give the bytes back.
fn lossless(system: &CodingSystem) -> bool {
    let fixed_eol = system.eol() == Eol::Unix;
    match system.base() {
        Base::Nil | Base::NoConversion | Base::NoConversionMultibyte => true,
        Base::RawText | Base::Utf8(Utf8Form::Plain) => fixed_eol,
        Base::Single(set) => fixed_eol && set.round_trips(),
        _ => false,
    }
}

/// The encoder takes any text; text that is valid UTF-8 comes back from the Unicode systems.
fn check_encoder(system: &CodingSystem, text: &[u8]) {
    let mut encoder = system.encoder();
    let mut wire = Vec::new();
    encoder.encode_text(text, &mut wire);
    encoder.finish(&mut wire);
    let mut unibyte = Vec::new();
    system.encoder().encode_bytes(text, &mut unibyte);
    let unicode = matches!(system.name(), "utf-8-unix" | "utf-16le-unix" | "utf-16be-unix");
    if unicode && std::str::from_utf8(text).is_ok() {
        let (back, _, _) = decode(system, &[&wire]);
        assert_eq!(back, text, "{}: text does not survive encoding", system.name());
    }
}
