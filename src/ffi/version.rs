//! Library version, at compile time (macros in the header) and at run time.
//!
//! Every number comes from Cargo.toml through Cargo's `CARGO_PKG_VERSION_*` variables:
//! here parsed at compile time, and in the header as the `#define`s that build.rs writes
//! from the same variables (cbindgen cannot evaluate `env!`, so it skips these constants).
//! Nothing is copied by hand and nothing in the sources is rewritten by the build.

use std::ffi::c_char;

/// A decimal number at compile time (the parts of `CARGO_PKG_VERSION`).
const fn decimal(text: &str) -> u32 {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "empty version number");
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "version number is not decimal");
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// Major version (Cargo.toml's).
/// cbindgen:ignore
pub const NETPROC_VERSION_MAJOR: u32 = decimal(env!("CARGO_PKG_VERSION_MAJOR"));
/// Minor version.
/// cbindgen:ignore
pub const NETPROC_VERSION_MINOR: u32 = decimal(env!("CARGO_PKG_VERSION_MINOR"));
/// Patch version.
/// cbindgen:ignore
pub const NETPROC_VERSION_PATCH: u32 = decimal(env!("CARGO_PKG_VERSION_PATCH"));
/// MAJOR * 10000 + MINOR * 100 + PATCH, for `#if` comparisons.
/// cbindgen:ignore
pub const NETPROC_VERSION_NUMBER: u32 =
    NETPROC_VERSION_MAJOR * 10000 + NETPROC_VERSION_MINOR * 100 + NETPROC_VERSION_PATCH;

// The number encodes MINOR and PATCH in two decimal digits each.
const _: () = assert!(NETPROC_VERSION_MINOR < 100 && NETPROC_VERSION_PATCH < 100);

/// The runtime library's version as NETPROC_VERSION_NUMBER encodes it.
///
/// Ownership: nothing to release.
/// Lifetime:  n/a.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_version() -> u32 {
    NETPROC_VERSION_NUMBER
}

/// The runtime library's version as a NUL-terminated string, e.g. "0.2.0".
///
/// Ownership: static storage; never free it.
/// Lifetime:  the whole program.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_spell_the_package_version() {
        let parts = format!("{NETPROC_VERSION_MAJOR}.{NETPROC_VERSION_MINOR}.{NETPROC_VERSION_PATCH}");
        assert_eq!(parts, env!("CARGO_PKG_VERSION"));
        // SAFETY: a static NUL-terminated string.
        let runtime = unsafe { std::ffi::CStr::from_ptr(netproc_version_string()) };
        assert_eq!(runtime.to_str().unwrap(), parts);
        assert_eq!(netproc_version(), NETPROC_VERSION_NUMBER);
    }

    #[test]
    fn decimal_reads_digits() {
        assert_eq!(decimal("0"), 0);
        assert_eq!(decimal("12"), 12);
        assert_eq!(decimal("4294967295"), u32::MAX);
    }
}
