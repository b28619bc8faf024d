//! The Emacs dynamic module: the same library, loaded by `(require 'netproc)`, gives Emacs
//! 28 netproc's processes from Lisp.
//!
//! Files, each using only those listed before it (`tests/module_graph.rs` checks that
//! the imports form no cycle):
//!
//! - `sys`: the `emacs-module.h` structs; `channel`: waking Emacs from the watcher thread;
//! - `error`: failures as data; `env`: checked calls into Emacs;
//! - `global`: global references and when they are freed; `convert`: values;
//! - `signal`: failures raised as Lisp signals; `symbols`: symbols interned once;
//! - `timer_guard`: holding callbacks back just before a timer is due;
//! - `state`: the module's state between calls; `object`: process objects;
//! - `host`: the core's Host, callbacks into Lisp;
//! - `boundary`: the panic guard and the shape of a function table;
//! - `io`, `primitives` and `tls`: the module functions; `init`: `emacs_module_init`.
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
mod state;
mod symbols;
mod sys;
mod timer_guard;
mod tls;

pub use init::{emacs_module_init, plugin_is_GPL_compatible};
