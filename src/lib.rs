//! netproc: Emacs's network processes (`make-network-process` and friends) as a library
//! with a C ABI, for editors written in C, C++, Rust or Zig, and for Emacs itself as a
//! dynamic module.
//!
//! `core` holds the model in plain Rust; `ffi` is the thin C boundary over it; `emacs` is the
//! Emacs dynamic module over the same core.
#![deny(missing_docs)]

/// cbindgen:ignore
pub mod core;
/// cbindgen:ignore
pub mod emacs;
pub mod ffi;
/// cbindgen:ignore
pub mod fuzzing;
