//! Build script: generates the C header with cbindgen and sets the shared library's
//! soname. It writes only into Cargo's own directories: `$OUT_DIR`, and the target
//! directory, where `make` finds what it needs:
//!
//! - `<target dir>/netproc.h`: the header, which `make header` copies to `include/` and
//!   `make check-header` compares with `include/netproc.h`;
//! - `<target dir>/netproc.soname`: the soname, which the Makefile reads when it stages and
//!   installs the library, so that the soname rule is written here only.
//!
//! The version numbers come from Cargo.toml through Cargo's `CARGO_PKG_VERSION_*`
//! variables, in Rust (`src/ffi/version.rs`) and in the header's `#define`s (below) alike.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    let target_dir = target_dir(&manifest_dir);
    let major: u32 = env_var("CARGO_PKG_VERSION_MAJOR").parse().unwrap_or(0);
    let minor: u32 = env_var("CARGO_PKG_VERSION_MINOR").parse().unwrap_or(0);
    let patch: u32 = env_var("CARGO_PKG_VERSION_PATCH").parse().unwrap_or(0);

    generate_header(&manifest_dir, &target_dir, version_defines(major, minor, patch));
    set_soname(&target_dir, &soname(major, minor));
}

fn env_var(name: &str) -> String {
    // Cargo always sets these for build scripts; an empty value only degrades output.
    env::var(name).unwrap_or_default()
}

/// The header's version macros, from the same numbers as `src/ffi/version.rs`'s constants.
/// They open the header (cbindgen's `after_includes`), where hosts look for them.
fn version_defines(major: u32, minor: u32, patch: u32) -> String {
    let number = major * 10000 + minor * 100 + patch;
    let mut text = String::new();
    for (name, value, doc) in [
        ("MAJOR", major, "Major version of the library this header belongs to."),
        ("MINOR", minor, "Minor version."),
        ("PATCH", patch, "Patch version."),
        ("NUMBER", number, "MAJOR * 10000 + MINOR * 100 + PATCH, for `#if` comparisons."),
    ] {
        text.push_str(&format!("\n/**\n * {doc}\n */\n#define NETPROC_VERSION_{name} {value}\n"));
    }
    // cbindgen ends the block with a newline of its own.
    text.pop();
    text
}

/// Generates the header; a failure is a warning, never a build error, so that a
/// cbindgen parse hiccup cannot block `cargo test`. `make check-header` then fails
/// because the copy in the target directory is missing.
fn generate_header(manifest_dir: &Path, target_dir: &Path, defines: String) {
    let out_dir = PathBuf::from(env_var("OUT_DIR"));
    let target_copy = target_dir.join("netproc.h");

    let mut config = match cbindgen::Config::from_file(manifest_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(e) => return header_failed(&target_copy, &format!("cbindgen.toml: {e}")),
    };
    config.after_includes = Some(defines);
    let bindings = match cbindgen::Builder::new().with_crate(manifest_dir).with_config(config).generate() {
        Ok(bindings) => bindings,
        Err(e) => return header_failed(&target_copy, &e.to_string()),
    };

    let generated = out_dir.join("netproc.h");
    bindings.write_to_file(&generated);
    // Copy only on change, so the file's mtime means "the header changed".
    let new = fs::read(&generated).unwrap_or_default();
    write_if_changed(&target_copy, &new);
}

fn header_failed(target_copy: &Path, why: &str) {
    // Flatten: cargo shows only the first line of a multi-line warning.
    println!("cargo:warning=header not generated: {}", why.replace('\n', " "));
    // A stale copy would let `make check-header` pass on an old header.
    let _ = fs::remove_file(target_copy);
}

fn write_if_changed(path: &Path, contents: &[u8]) {
    if fs::read(path).ok().as_deref() != Some(contents) {
        let _ = fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
        if let Err(e) = fs::write(path, contents) {
            println!("cargo:warning=cannot write {}: {e}", path.display());
        }
    }
}

/// `$CARGO_TARGET_DIR` if set, else `<manifest dir>/target`. A relative
/// `$CARGO_TARGET_DIR` is taken from the manifest dir, where make runs cargo.
fn target_dir(manifest_dir: &Path) -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => manifest_dir.join(dir),
        _ => manifest_dir.join("target"),
    }
}

/// The soname policy (README, "Soname and ABI policy"), written here and nowhere else:
/// below 1.0 every minor release may break the ABI, from 1.0 on only a major one.
fn soname(major: u32, minor: u32) -> String {
    if major == 0 {
        format!("libnetproc.so.0.{minor}")
    } else {
        format!("libnetproc.so.{major}")
    }
}

/// Links the shared library with `soname` and leaves it in `<target dir>/netproc.soname`
/// for the Makefile (the symlinks it stages and installs are named after it).
fn set_soname(target_dir: &Path, soname: &str) {
    write_if_changed(&target_dir.join("netproc.soname"), format!("{soname}\n").as_bytes());
    let os = env_var("CARGO_CFG_TARGET_OS");
    let family = env_var("CARGO_CFG_TARGET_FAMILY");
    // -soname is an ELF linker flag; Apple and Windows linkers reject it.
    if family != "unix" || os == "macos" || os == "ios" {
        return;
    }
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
}
