//! Library version, at compile time (macros in the header) and at run time.

use std::ffi::c_char;

/// Major version of the library this header belongs to.
pub const NETPROC_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const NETPROC_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const NETPROC_VERSION_PATCH: u32 = 0;
/// MAJOR * 10000 + MINOR * 100 + PATCH, for `#if` comparisons.
pub const NETPROC_VERSION_NUMBER: u32 = 100;

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

/// The runtime library's version as a NUL-terminated string, e.g. "0.1.0".
///
/// Ownership: static storage; never free it.
/// Lifetime:  the whole program.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub extern "C" fn netproc_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
