//! The C boundary: thin `extern "C"` wrappers over `core`, one file per C noun.
//!
//! Rules kept here: every body runs inside `boundary::guard` (no unwind reaches C), every
//! pointer is checked before use, and every failure is a negative `netproc_status` with the
//! Emacs error symbol and message kept for `netproc_last_error`.

// The safety contract of each `extern "C"` function is its Ownership/Lifetime/Thread lines,
// which cbindgen copies into the header where C callers read them; a Rust-only `# Safety`
// section would repeat them.
#![allow(clippy::missing_safety_doc)]

mod boundary;
pub mod callbacks;
pub mod coding;
pub mod context;
pub mod datagram;
mod handles;
pub mod network;
mod owner;
pub mod process;
pub mod status;
pub mod value;
pub mod version;

/// A netproc context: one event loop with its processes. Opaque.
#[allow(non_camel_case_types)]
pub struct netproc_context {
    _private: [u8; 0],
}

/// A network process. Opaque: a handle-table key, never dereferenced by the host or by
/// netproc; reference counted (netproc_process_ref/_free).
#[allow(non_camel_case_types)]
pub struct netproc_process {
    _private: [u8; 0],
}
