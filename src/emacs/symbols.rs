//! Symbols used on every event, as global references made once at load: interning a name
//! for each callback costs an obarray lookup and an allocation.

use std::sync::Arc;

use super::env::Env;
use super::error::LispResult;
use super::global::GlobalRef;
use super::sys::emacs_value;

/// The symbols of [`Sym`], interned once.
pub(crate) struct Symbols {
    /// One reference per name of [`SYMBOL_NAMES`], in its order.
    refs: Vec<Arc<GlobalRef>>,
}

/// The symbols of [`Symbols`], in the order of [`Sym`].
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
    "netproc--gc-guard",
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
    GcGuard,
}

impl Symbols {
    /// Intern every symbol and keep it.
    pub(crate) fn new(env: &Env) -> LispResult<Symbols> {
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
