//! The Emacs dynamic module: the same library, loaded by `(require 'netproc)`, gives Emacs
//! 28 netproc's processes from Lisp.
//!
//! Files: `sys` (the `emacs-module.h` structs), `env` (checked calls), `error` (signals),
//! `global` (global references and when they are freed), `convert` (values), `signal`
//! (failures raised as Lisp signals), `object`
//! (process objects), `host` (the core's Host: callbacks into Lisp), `channel` (waking
//! Emacs from the watcher thread), `boundary` (the panic guard and function table),
//! `primitives` and `io` (the module functions), `init` (`emacs_module_init`).
//!
//! Only the main thread ever touches an `emacs_env`; the watcher thread only polls the
//! reactor's descriptor and writes a byte to the pipe Emacs gave us.

mod boundary;
mod channel;
mod convert;
mod env;
mod error;
mod global;
mod host;
mod init;
mod io;
mod object;
mod primitives;
mod signal;
mod sys;

pub use init::{emacs_module_init, plugin_is_GPL_compatible};
