//! netproc: Emacs's network processes (`make-network-process` and friends) as a library
//! with a C ABI, for editors written in C, C++, Rust or Zig, and for Emacs itself as a
//! dynamic module.
//!
//! `core` holds the model in plain Rust; `ffi` is the thin C boundary over it; `emacs` is the
//! Emacs dynamic module over the same core (cargo feature `emacs-module`, on by default);
//! `fuzzing` holds the fuzz targets' bodies (cargo feature `fuzzing`, off by default).
#![deny(missing_docs)]

/// cbindgen:ignore
pub mod core;
/// cbindgen:ignore
#[cfg(feature = "emacs-module")]
pub mod emacs;
pub mod ffi;
/// cbindgen:ignore
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
