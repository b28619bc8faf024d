//! The C boundary: thin `extern "C"` wrappers over `core`, one file per C noun.
//!
//! Rules kept here: every body runs inside `guard::guard` (no unwind reaches C), every
//! pointer is checked before use, and every failure is a negative `netproc_status` with the
//! Emacs error symbol and message kept for `netproc_last_error`.
//!
//! The modules form layers, each using only those below it (`tests/module_graph.rs`):
//!
//! - leaves: `status` (the status codes and the one mapping from a core error), `callbacks`
//!   (the C function types, and which keyword may hold which), `owner`, `handles`,
//!   `version`;
//! - `last_error`, then `cstate` (what the boundary keeps per context), then `guard` (the
//!   panic guard, the owning-thread check, error recording);
//! - `value` (netproc_value and its conversions), then `boundary` (reading handles,
//!   pointers, lengths and values), then `host` (the core's `Host`, calling the callbacks);
//! - on top, the nouns: `context` (with the process list), `process` and `process_attrs`,
//!   `coding`, `datagram`, `address`, `features`, `descriptors`, `tls`.

// The safety contract of each `extern "C"` function is its Ownership/Lifetime/Thread lines,
// which cbindgen copies into the header where C callers read them; a Rust-only `# Safety`
// section would repeat them.
#![allow(clippy::missing_safety_doc)]

pub mod address;
mod boundary;
pub mod callbacks;
pub mod coding;
pub mod context;
mod cstate;
pub mod datagram;
pub mod descriptors;
pub mod events;
pub mod features;
mod guard;
mod handles;
mod host;
mod last_error;
mod owner;
pub mod process;
pub mod process_attrs;
pub mod sentinel_event;
pub mod status;
pub mod tls;
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
