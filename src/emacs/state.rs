//! What the module keeps between calls: one [`Module`] per Emacs session, made by
//! `emacs_module_init` and found by every module function through [`module`]. Its fields
//! are private: the queues change only through the methods here.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::channel::Channel;
use super::env::Env;
use super::error::{Failure, LispResult};
use super::symbols::Symbols;
use super::timer_guard::GuardRecord;
use crate::core::{ProcRef, Shared, Value};

/// An event whose delivery waits for Emacs to handle a quit (see host.rs).
pub(crate) enum Deferred {
    Filter { process: ProcRef, filter: Value, data: Vec<u8>, multibyte: bool },
    Sentinel { process: ProcRef, sentinel: Value, message: String },
    Log { server: ProcRef, log: Value, client: Option<ProcRef>, message: String },
}

/// Everything the module keeps between calls. One per Emacs session.
pub(crate) struct Module {
    /// The netproc context behind every process made from Lisp.
    shared: Arc<Shared>,
    /// The watcher and its channel, once netproc.el made the pipe process.
    channel: OnceLock<Arc<Channel>>,
    /// Processes that had a status change since the last check (see object.rs).
    status_changed: Mutex<Vec<ProcRef>>,
    /// Events held back while Emacs handled a quit (see host.rs), oldest first.
    deferred: Mutex<VecDeque<Deferred>>,
    /// Symbols the dispatch uses for every event, interned once.
    symbols: Symbols,
    /// What the timer guard remembers between slices (timer_guard.rs).
    timer_guard: GuardRecord,
}

static MODULE: OnceLock<Module> = OnceLock::new();

/// The module state (made by `emacs_module_init`).
pub(crate) fn module() -> LispResult<&'static Module> {
    MODULE.get().ok_or_else(|| Failure::internal("netproc-module is not initialised"))
}

/// Make the module state, unless an earlier load made it already.
pub(crate) fn start(env: &Env) -> LispResult<()> {
    if MODULE.get().is_none() {
        let shared =
            Shared::new().map_err(|err| Failure::internal(&format!("cannot create the reactor: {err}")))?;
        let module = Module {
            shared,
            channel: OnceLock::new(),
            status_changed: Mutex::new(Vec::new()),
            deferred: Mutex::new(VecDeque::new()),
            symbols: Symbols::new(env)?,
            timer_guard: GuardRecord::default(),
        };
        let _ = MODULE.set(module);
    }
    Ok(())
}

impl Module {
    /// The netproc context behind every process made from Lisp.
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The symbols interned at load.
    pub(crate) fn symbols(&self) -> &Symbols {
        &self.symbols
    }

    /// What the timer guard remembers between slices.
    pub(crate) fn timer_guard(&self) -> &GuardRecord {
        &self.timer_guard
    }

    /// Wake Emacs by writing to `fd`, the write end of netproc.el's pipe process (owned
    /// from now on): the first time, start the watcher thread; later (netproc.el was
    /// loaded again and made another pipe), give the watcher the new descriptor.
    pub(crate) fn open_channel(&self, fd: i32) -> std::io::Result<()> {
        match self.channel.get() {
            Some(channel) => channel.replace_fd(fd),
            None => {
                let channel = Channel::start(self.shared.clone(), fd)?;
                let _ = self.channel.set(channel);
            }
        }
        Ok(())
    }

    /// The channel to Emacs, once netproc.el made it.
    pub(crate) fn channel(&self) -> Option<&Channel> {
        self.channel.get().map(|channel| &**channel)
    }

    /// Note that `process` had a status change (its sentinel ran, or it was deleted).
    pub(crate) fn note_status_change(&self, process: &ProcRef) {
        self.status_changed.lock().push(process.clone());
    }

    /// The processes noted since the last call, and forget them.
    pub(crate) fn take_status_changed(&self) -> Vec<ProcRef> {
        std::mem::take(&mut *self.status_changed.lock())
    }

    /// Hold `event` back until Emacs has handled a quit, behind those already held.
    pub(crate) fn defer(&self, event: Deferred) {
        self.deferred.lock().push_back(event);
    }

    /// The oldest event held back, taken out of the queue.
    pub(crate) fn next_deferred(&self) -> Option<Deferred> {
        self.deferred.lock().pop_front()
    }

    /// Whether events are held back.
    pub(crate) fn has_deferred(&self) -> bool {
        !self.deferred.lock().is_empty()
    }
}
