//! Every coding system Emacs 28.2 defines, against netproc's: each base system and each of
//! its aliases is accepted, under the same base name, or the base is one of the refusals
//! listed here with the reason (docs/DIFFERENCES.md), and then every name of it is refused
//! with `(coding-system-error NAME)`. The list of systems is tests/data/emacs-coding-systems.txt,
//! made with Emacs by tools/emacs-coding-data.el.

use std::collections::{BTreeMap, BTreeSet};

use netproc::core::coding::{CodingSystem, Eol};

const CNS: &str = "needs CNS 11643 (Emacs's chinese-cns11643-1 to -7, about 48,000 characters), \
                   which netproc has no tables for";
const JIS_X_0213: &str = "needs JIS X 0213 (Emacs's japanese-jisx0213-1, -2 and .2004-1, about 4,300 \
                          characters beyond JIS X 0208), which netproc has no tables for";
const HKSCS: &str = "Emacs's big5-hkscs charset gives the HKSCS additions no Unicode character and \
                     maps several hundred other codes unlike its big5; it would need a table of \
                     its own, which netproc does not have";
const ISO_2022_SHIFTS: &str = "ISO 2022 with locking or single shifts, or 8 bits, over all of \
                               Emacs's charsets: not implemented (netproc has iso-2022-7bit, \
                               over the charsets it has tables for)";
const COMPOUND_TEXT: &str = "X11 compound text (ISO 2022 in 8 bits over all of Emacs's charsets, \
                             and extended segments), meant for X selections: not implemented";
const ISCII: &str = "ISCII (IS 13194), converted by Lisp with context rules \
                     (in-is13194-post-read-conversion): not implemented";
const TIBETAN: &str = "Emacs's tibetan charsets have no Unicode mapping (Lisp composes and \
                       decomposes Tibetan)";
const VIQR: &str = "VIQR, converted by Lisp with Emacs's Vietnamese tables \
                    (viqr-post-read-conversion): not implemented";

/// The base systems netproc refuses, and why (docs/DIFFERENCES.md lists them too).
const REFUSED: &[(&str, &str)] = &[
    ("chinese-big5-hkscs", HKSCS),
    ("compound-text", COMPOUND_TEXT),
    ("compound-text-with-extensions", COMPOUND_TEXT),
    ("ctext-no-compositions", COMPOUND_TEXT),
    ("euc-jis-2004", JIS_X_0213),
    ("euc-tw", CNS),
    ("in-is13194-devanagari", ISCII),
    ("iso-2022-7bit-lock", ISO_2022_SHIFTS),
    ("iso-2022-7bit-lock-ss2", CNS),
    ("iso-2022-7bit-ss2", ISO_2022_SHIFTS),
    ("iso-2022-8bit-ss2", ISO_2022_SHIFTS),
    ("iso-2022-cn", CNS),
    ("iso-2022-cn-ext", CNS),
    ("iso-2022-jp-2004", JIS_X_0213),
    ("japanese-shift-jis-2004", JIS_X_0213),
    ("tibetan-iso-8bit", TIBETAN),
    ("vietnamese-viqr", VIQR),
];

/// One base system of Emacs's.
struct Base {
    name: String,
    /// Whether it has `-unix`, `-dos` and `-mac` variants.
    variants: bool,
    /// Its other names.
    aliases: Vec<String>,
}

/// The bases, and the other names (`unix`, `emacs-internal`) with the system each names.
fn inventory() -> (Vec<Base>, Vec<(String, String)>) {
    let mut bases = Vec::new();
    let mut others = Vec::new();
    for line in include_str!("data/emacs-coding-systems.txt").lines() {
        if line.starts_with(";;") {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["=", name, system] => others.push((name.to_string(), system.to_string())),
            [name, _type, eol, aliases @ ..] => bases.push(Base {
                name: name.to_string(),
                variants: *eol == "variants",
                aliases: aliases.iter().map(|alias| alias.to_string()).collect(),
            }),
            _ => panic!("bad line: {line}"),
        }
    }
    (bases, others)
}

fn assert_refused(name: &str) {
    match CodingSystem::from_name(name) {
        Ok(system) => panic!("{name} is refused, but accepted as {}", system.name()),
        Err(error) => {
            assert_eq!(error.symbol.name(), "coding-system-error", "{name}");
            assert!(error.data.first().is_some_and(|value| value.is_symbol(name)), "{name}");
        }
    }
}

fn accepted(name: &str) -> CodingSystem {
    match CodingSystem::from_name(name) {
        Ok(system) => system,
        Err(error) => panic!("{name}: {error}"),
    }
}

#[test]
fn every_emacs_coding_system_is_accepted_or_refused_with_a_reason() {
    let (bases, others) = inventory();
    assert_eq!(bases.len(), 126, "Emacs 28.2 has 126 base coding systems");
    let refused: BTreeMap<&str, &str> = REFUSED.iter().copied().collect();
    assert_eq!(refused.len(), REFUSED.len(), "a base is listed twice");
    let emacs_bases: BTreeSet<&str> = bases.iter().map(|base| base.name.as_str()).collect();
    for name in refused.keys() {
        assert!(emacs_bases.contains(name), "{name} is no base system of Emacs's");
    }
    let mut accepted_count = 0;
    for base in &bases {
        let names = std::iter::once(&base.name).chain(&base.aliases);
        if refused.contains_key(base.name.as_str()) {
            for name in names {
                assert_refused(name);
                for suffix in ["-unix", "-dos", "-mac"] {
                    assert_refused(&format!("{name}{suffix}"));
                }
            }
            continue;
        }
        accepted_count += 1;
        for name in names {
            let system = accepted(name);
            assert_eq!(system.name(), name);
            if base.variants {
                // The variants are named after the base, whatever the alias.
                for (eol, suffix) in [(Eol::Unix, "-unix"), (Eol::Dos, "-dos"), (Eol::Mac, "-mac")] {
                    assert_eq!(system.with_eol(eol).name(), format!("{}{suffix}", base.name), "{name}");
                    let variant = accepted(&format!("{name}{suffix}"));
                    assert_eq!(variant.eol(), eol, "{name}{suffix}");
                }
            } else {
                assert_eq!(system.with_eol(Eol::Dos).name(), name.as_str(), "{name} has no variants");
                for suffix in ["-unix", "-dos", "-mac"] {
                    assert_refused(&format!("{name}{suffix}"));
                }
            }
        }
    }
    for (name, system) in &others {
        match CodingSystem::from_name(system) {
            Ok(target) => {
                let named = accepted(name);
                assert_eq!(named.name(), name.as_str());
                assert_eq!(named.eol(), target.eol(), "{name}");
                for eol in [Eol::Unix, Eol::Dos, Eol::Mac].into_iter().filter(|eol| *eol != target.eol()) {
                    assert_eq!(named.with_eol(eol).name(), target.with_eol(eol).name(), "{name}");
                }
            }
            Err(_) => assert_refused(name),
        }
    }
    assert_eq!(accepted_count + refused.len(), bases.len());
    println!("{accepted_count} of {} base systems accepted, {} refused", bases.len(), refused.len());
}

#[test]
fn the_refusals_are_documented() {
    let differences = include_str!("../docs/DIFFERENCES.md");
    for (name, _) in REFUSED {
        assert!(differences.contains(&format!("`{name}`")), "docs/DIFFERENCES.md does not name {name}");
    }
}

#[test]
fn netproc_knows_no_name_emacs_lacks() {
    let (bases, others) = inventory();
    let mut emacs: BTreeSet<String> = BTreeSet::new();
    for base in bases {
        emacs.insert(base.name);
        emacs.extend(base.aliases);
    }
    emacs.extend(others.into_iter().map(|(name, _)| name));
    for name in CodingSystem::known_names() {
        assert!(emacs.contains(name), "{name} is no coding system of Emacs 28.2");
    }
}
