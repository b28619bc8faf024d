//! Loading: `plugin_is_GPL_compatible`, `emacs_module_init` (runtime and environment size
//! checks, error symbols, function registration) and the module's one netproc context.

use std::collections::VecDeque;
use std::ffi::c_int;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::channel::Channel;
use super::env::Env;
use super::error::{Failure, LispResult};
use super::global::GlobalRef;
use super::host::Deferred;
use super::signal::raise;
use super::sys::{emacs_env_28, emacs_runtime, emacs_value};
use crate::core::{ProcRef, Shared};

/// Emacs refuses to load a module without this symbol. netproc is GPL-3.0-or-later.
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static plugin_is_GPL_compatible: c_int = 0;

/// Everything the module keeps between calls. One per Emacs session.
pub(crate) struct Module {
    /// The netproc context behind every process made from Lisp.
    pub(crate) shared: Arc<Shared>,
    /// The watcher and its channel, once netproc.el made the pipe process.
    pub(crate) channel: OnceLock<Arc<Channel>>,
    /// Processes that had a status change since the last check (see object.rs).
    status_changed: Mutex<Vec<ProcRef>>,
    /// Events held back while Emacs handled a quit (see host.rs), oldest first.
    pub(crate) deferred: Mutex<VecDeque<Deferred>>,
    /// Symbols the dispatch uses for every event, interned once (see [`Symbols`]).
    symbols: OnceLock<Symbols>,
}

/// Symbols used on every event, as global references made once at load: interning a
/// name for each callback costs an obarray lookup and an allocation.
pub(crate) struct Symbols {
    refs: Vec<Arc<GlobalRef>>,
}

/// The symbols of [`Symbols`], in order.
const SYMBOL_NAMES: &[&str] = &[
    "t",
    "symbol-value",
    "quit-flag",
    "debug-on-error",
    "current-buffer",
    "match-data",
    "set-match-data",
    "netproc--restore-buffer",
    "netproc--callback-error",
    "netproc--call",
    "filter",
    "sentinel",
    "log",
    "netproc--default-filter",
    "netproc--default-sentinel",
    "ignore",
];

/// Indices into [`SYMBOL_NAMES`].
#[derive(Clone, Copy)]
pub(crate) enum Sym {
    T,
    SymbolValue,
    QuitFlag,
    DebugOnError,
    CurrentBuffer,
    MatchData,
    SetMatchData,
    RestoreBuffer,
    CallbackError,
    Call,
    Filter,
    Sentinel,
    Log,
    DefaultFilter,
    DefaultSentinel,
    Ignore,
}

impl Symbols {
    fn new(env: &Env) -> LispResult<Symbols> {
        let refs = SYMBOL_NAMES
            .iter()
            .map(|name| GlobalRef::new(env, env.intern(name)?))
            .collect::<LispResult<Vec<_>>>()?;
        Ok(Symbols { refs })
    }

    /// The symbol, usable in any module call.
    pub(crate) fn get(&self, sym: Sym) -> emacs_value {
        self.refs[sym as usize].value()
    }
}

impl Module {
    pub(crate) fn note_status_change(&self, process: &ProcRef) {
        self.status_changed.lock().push(process.clone());
    }

    pub(crate) fn take_status_changed(&self) -> Vec<ProcRef> {
        std::mem::take(&mut *self.status_changed.lock())
    }

    /// The symbols interned at load.
    pub(crate) fn symbols(&self) -> LispResult<&Symbols> {
        self.symbols.get().ok_or_else(|| Failure::internal("netproc-module symbols are not initialised"))
    }
}

static MODULE: OnceLock<Module> = OnceLock::new();

/// The module state (made by `emacs_module_init`).
pub(crate) fn module() -> LispResult<&'static Module> {
    MODULE.get().ok_or_else(|| Failure::internal("netproc-module is not initialised"))
}

fn make_module() -> std::io::Result<Module> {
    let shared = Shared::new()?;
    Ok(Module {
        shared,
        channel: OnceLock::new(),
        status_changed: Mutex::new(Vec::new()),
        deferred: Mutex::new(VecDeque::new()),
        symbols: OnceLock::new(),
    })
}

/// The entry point Emacs calls when loading the module.
///
/// # Safety
/// Called by Emacs with a valid runtime, on the main thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn emacs_module_init(runtime: *mut emacs_runtime) -> c_int {
    let outcome = std::panic::catch_unwind(|| {
        if runtime.is_null() {
            return 1;
        }
        // SAFETY: Emacs passes a valid runtime; `size` is its first field in every version.
        let runtime_size = unsafe { (*runtime).size };
        if runtime_size < std::mem::size_of::<emacs_runtime>() as isize {
            eprintln!("netproc-module: this Emacs's module runtime is too old (size {runtime_size})");
            return 1;
        }
        // SAFETY: the runtime is large enough to have get_environment.
        let raw_env = match unsafe { (*runtime).get_environment } {
            // SAFETY: as documented by emacs-module.h.
            Some(get) => unsafe { get(runtime) },
            None => std::ptr::null_mut(),
        };
        if raw_env.is_null() {
            return 2;
        }
        // SAFETY: every emacs_env starts with its size.
        let env_size = unsafe { (*raw_env).size };
        let needed = std::mem::size_of::<emacs_env_28>() as isize;
        if env_size < needed {
            eprintln!(
                "netproc-module: Emacs 28 or later is required (this Emacs's module environment \
                 has {env_size} bytes, emacs_env_28 has {needed})"
            );
            return 2;
        }
        // SAFETY: the environment of this init call, used only inside it.
        let env = unsafe { Env::from_raw(raw_env) };
        match initialise(&env) {
            Ok(()) => 0,
            Err(failure) => {
                raise(&env, failure);
                3
            }
        }
    });
    outcome.unwrap_or(4)
}

fn initialise(env: &Env) -> LispResult<()> {
    if MODULE.get().is_none() {
        let module =
            make_module().map_err(|err| Failure::internal(&format!("cannot create the reactor: {err}")))?;
        let _ = MODULE.set(module);
    }
    if let Some(module) = MODULE.get() {
        if module.symbols.get().is_none() {
            let _ = module.symbols.set(Symbols::new(env)?);
        }
    }
    define_errors(env)?;
    super::boundary::register_all(env)?;
    let feature = env.intern("netproc-module")?;
    env.call("provide", &[feature])?;
    Ok(())
}

/// `netproc-error` (a kind of `error`) and `netproc-panic` (deliberately not an `error`).
fn define_errors(env: &Env) -> LispResult<()> {
    let netproc_error = env.intern("netproc-error")?;
    let message = env.string(b"netproc error")?;
    env.call("define-error", &[netproc_error, message])?;
    let panic = env.intern("netproc-panic")?;
    let conditions = env.list(&[panic])?;
    env.call("put", &[panic, env.intern("error-conditions")?, conditions])?;
    let panic_message = env.string(b"netproc internal error")?;
    env.call("put", &[panic, env.intern("error-message")?, panic_message])?;
    Ok(())
}
