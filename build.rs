//! Build script: keeps the version constants in step with Cargo.toml, generates
//! the C header with cbindgen, and sets the shared library's soname.
//!
//! The header is written to `$OUT_DIR/netproc.h` and copied to
//! `<target dir>/netproc.h`, where `make header` and `make check-header` find it.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The one file in src/ this script may rewrite (see `sync_version_constants`).
const VERSION_RS: &str = "src/ffi/version.rs";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    let major: u32 = env_var("CARGO_PKG_VERSION_MAJOR").parse().unwrap_or(0);
    let minor: u32 = env_var("CARGO_PKG_VERSION_MINOR").parse().unwrap_or(0);
    let patch: u32 = env_var("CARGO_PKG_VERSION_PATCH").parse().unwrap_or(0);

    // Before the header: the header must show the synced numbers.
    sync_version_constants(&manifest_dir.join(VERSION_RS), major, minor, patch);
    generate_header(&manifest_dir);
    set_soname(major, minor);
}

fn env_var(name: &str) -> String {
    // Cargo always sets these for build scripts; an empty value only degrades output.
    env::var(name).unwrap_or_default()
}

/// Makes the `NETPROC_VERSION_*` constants agree with Cargo.toml.
///
/// The constants live in Rust source (not only in build output) so that the plain
/// `cbindgen` CLI produces the same header as this script. The file is rewritten
/// only when a number differs, so an up-to-date tree is never touched.
fn sync_version_constants(path: &Path, major: u32, minor: u32, patch: u32) {
    let wanted = [
        ("NETPROC_VERSION_MAJOR", major),
        ("NETPROC_VERSION_MINOR", minor),
        ("NETPROC_VERSION_PATCH", patch),
        ("NETPROC_VERSION_NUMBER", major * 10000 + minor * 100 + patch),
    ];
    let Ok(text) = fs::read_to_string(path) else {
        println!("cargo:warning={} not readable; version constants not checked", path.display());
        return;
    };

    let mut found = 0;
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match version_line(line, &wanted) {
            Some((up_to_date, fixed)) => {
                found += 1;
                changed |= !up_to_date;
                out.push_str(if up_to_date { line } else { &fixed });
            }
            None => out.push_str(line),
        }
    }

    if found != wanted.len() {
        println!(
            "cargo:warning={}: expected one `pub const NAME: u32 = N;` line for each of \
             NETPROC_VERSION_MAJOR/MINOR/PATCH/NUMBER, found {found} lines",
            path.display()
        );
    }
    if changed {
        println!("cargo:warning=updated version constants in {} to {major}.{minor}.{patch}", path.display());
        if let Err(e) = fs::write(path, out) {
            println!("cargo:warning=cannot write {}: {e}", path.display());
        }
    }
}

/// If `line` is `pub const NETPROC_VERSION_X: u32 = N;` for a wanted name, returns
/// whether N is already the wanted value, and the line with the wanted value.
fn version_line(line: &str, wanted: &[(&str, u32)]) -> Option<(bool, String)> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let (name, rest) = body.strip_prefix("pub const ")?.split_once(':')?;
    let name = name.trim();
    let &(_, value) = wanted.iter().find(|(n, _)| *n == name)?;
    let (_, current) = rest.split_once('=')?;
    let up_to_date = current.trim().trim_end_matches(';').trim().parse() == Ok(value);
    let eol = if line.ends_with('\n') { "\n" } else { "" };
    Some((up_to_date, format!("{indent}pub const {name}: u32 = {value};{eol}")))
}

/// Generates the header; a failure is a warning, never a build error, so that a
/// cbindgen parse hiccup cannot block `cargo test`. `make check-header` then fails
/// because the copy in the target directory is missing.
fn generate_header(manifest_dir: &Path) {
    let out_dir = PathBuf::from(env_var("OUT_DIR"));
    let target_copy = target_dir(manifest_dir).join("netproc.h");

    let config = match cbindgen::Config::from_file(manifest_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(e) => return header_failed(&target_copy, &format!("cbindgen.toml: {e}")),
    };
    let bindings = match cbindgen::Builder::new().with_crate(manifest_dir).with_config(config).generate() {
        Ok(bindings) => bindings,
        Err(e) => return header_failed(&target_copy, &e.to_string()),
    };

    let generated = out_dir.join("netproc.h");
    bindings.write_to_file(&generated);
    // Copy only on change, so the file's mtime means "the header changed".
    let new = fs::read(&generated).unwrap_or_default();
    if fs::read(&target_copy).ok().as_ref() != Some(&new) {
        let _ = fs::create_dir_all(target_copy.parent().unwrap_or(Path::new(".")));
        if let Err(e) = fs::write(&target_copy, &new) {
            println!("cargo:warning=cannot write {}: {e}", target_copy.display());
        }
    }
}

fn header_failed(target_copy: &Path, why: &str) {
    // Flatten: cargo shows only the first line of a multi-line warning.
    println!("cargo:warning=header not generated: {}", why.replace('\n', " "));
    // A stale copy would let `make check-header` pass on an old header.
    let _ = fs::remove_file(target_copy);
}

/// `$CARGO_TARGET_DIR` if set, else `<manifest dir>/target`. A relative
/// `$CARGO_TARGET_DIR` is taken from the manifest dir, where make runs cargo.
fn target_dir(manifest_dir: &Path) -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => manifest_dir.join(dir),
        _ => manifest_dir.join("target"),
    }
}

/// Soname policy (STYLE.md §3): below 1.0 every minor release may break the ABI.
fn set_soname(major: u32, minor: u32) {
    let os = env_var("CARGO_CFG_TARGET_OS");
    let family = env_var("CARGO_CFG_TARGET_FAMILY");
    // -soname is an ELF linker flag; Apple and Windows linkers reject it.
    if family != "unix" || os == "macos" || os == "ios" {
        return;
    }
    let soname =
        if major == 0 { format!("libnetproc.so.0.{minor}") } else { format!("libnetproc.so.{major}") };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
}
