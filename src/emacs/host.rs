//! The core's [`Host`] for Emacs: filters, sentinels and log functions become Lisp calls on
//! the main thread, buffers are Lisp buffers.
//!
//! Host methods cannot fail, so a non-local exit from Lisp (an error that escaped because
//! `debug-on-error` is set, a throw) is kept, the remaining events of the batch are still
//! delivered (nothing the core already read is lost), and the first exit is raised when the
//! module call returns.
//!
//! A quit (C-g) is different: once Emacs wants to quit, the remaining events of the batch
//! are deferred, in order, to the module's queue instead of being run, the module call
//! returns so that Emacs can handle the quit, and the next dispatch delivers the deferred
//! events before anything new.
//!
//! How a callback is run. Emacs runs a filter or sentinel with `inhibit-quit` bound, its
//! match data and (for sentinels) current buffer restored afterwards, and an error caught
//! by an `error` handler that reports it (or, with `debug-on-error`, no handler). In a
//! dispatch (`netproc--run-dispatch` binds `inhibit-quit` around the whole batch) the
//! module does the rest itself, per event, with a few cheap calls: the callback directly,
//! then the buffer and match data put back, and an error handed to
//! `netproc--callback-error`, which reports it as Emacs does. Outside a dispatch (the
//! "deleted" sentinel of `delete-process`), and whenever `debug-on-error` is set, each
//! callback goes through `netproc--call` in Lisp instead.

use super::convert::{object, to_lisp};
use super::env::Env;
use super::error::{Exit, Failure, LispResult};
use super::object::{count_output, lisp_process};
use super::state::{Deferred, Module};
use super::symbols::Sym;
use super::sys::emacs_value;
use super::timer_guard::TimerGuard;
use crate::core::event::{LogEvent, SentinelEvent};
use crate::core::{Host, ProcRef, Value};
use std::time::{Duration, Instant};

/// What a string costs Emacs's collector besides its bytes (its header), roughly.
const STRING_COST: usize = 64;

/// The kind of a callback.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Filter,
    Sentinel,
    Log,
}

/// How this host runs callbacks (see the module docs).
#[derive(Clone, Copy)]
enum Mode {
    /// Not decided yet: decided at the first callback.
    Undecided,
    /// Through `netproc--call` in Lisp.
    Lisp,
    /// Directly, restoring this buffer and match data after each callback.
    Direct { buffer: emacs_value, match_data: emacs_value },
}

/// Dispatches core events to Lisp during one module call.
pub(crate) struct EmacsHost<'a> {
    env: &'a Env,
    module: &'a Module,
    /// The first non-local exit or error met in a callback.
    failure: Option<Failure>,
    mode: Mode,
    /// When a dispatch's slice is over (see [`EmacsHost::slice_over`]); None: never.
    slice_end: Option<Instant>,
    /// Callbacks this host ran (not those it deferred).
    delivered: usize,
    /// Bytes this host handed to callbacks (what their strings cost Emacs's collector).
    allocated: usize,
    /// When to hold callbacks back for a timer that is due (`EmacsHost::guard_timers`).
    guard: Option<TimerGuard>,
}

impl<'a> EmacsHost<'a> {
    /// A host whose callbacks go through `netproc--call`.
    pub(crate) fn new(env: &'a Env, module: &'a Module) -> EmacsHost<'a> {
        EmacsHost {
            env,
            module,
            failure: None,
            mode: Mode::Lisp,
            slice_end: None,
            delivered: 0,
            allocated: 0,
            guard: None,
        }
    }

    /// A host for `netproc--dispatch`, which runs inside `inhibit-quit`: callbacks are
    /// called directly unless `debug-on-error` is set.
    /// It delivers for `slice` at most (see [`EmacsHost::slice_over`]).
    pub(crate) fn for_dispatch(env: &'a Env, module: &'a Module, slice: Duration) -> EmacsHost<'a> {
        EmacsHost {
            env,
            module,
            failure: None,
            mode: Mode::Undecided,
            slice_end: Some(Instant::now() + slice),
            delivered: 0,
            allocated: 0,
            guard: None,
        }
    }

    /// Hold this slice's callbacks back while a timer is about to be due and a garbage
    /// collection is near (see timer_guard.rs). Only where no single process is waited
    /// for: a wait with JUST-THIS-ONE has no guard.
    pub(crate) fn guard_timers(&mut self) {
        self.guard = TimerGuard::ask(self.env, self.module.symbols(), self.module.timer_guard());
        // What was delivered before the guard was asked is in its estimate already.
        self.allocated = 0;
    }

    /// Whether the next callback waits for a timer (see [`EmacsHost::guard_timers`]).
    pub(crate) fn holding_for_timer(&self) -> bool {
        self.guard.as_ref().is_some_and(|guard| guard.holds(self.allocated))
    }

    /// The slice held something back for a timer: wait until it is due, so that Emacs's
    /// loop runs it next (not after a callback failed, nor with a quit pending: those
    /// return to Emacs at once).
    pub(crate) fn wait_for_held_timer(&self) {
        if self.has_failure() || self.quit_pending() {
            return;
        }
        if let Some(guard) = self.guard.as_ref().filter(|guard| guard.holds(self.allocated)) {
            guard.wait_until_due(self.module.timer_guard());
        }
    }

    /// Whether this dispatch has had its slice: it delivered something and its time is up.
    /// The core then leaves the rest queued, in order (`Host::pause_delivery`), and Emacs's
    /// loop gets its turn (timers, input, other processes) before the next slice. At least
    /// one callback per dispatch, so that a filter slower than a slice still makes progress.
    pub(crate) fn slice_over(&self) -> bool {
        self.delivered > 0 && self.slice_end.is_some_and(|end| Instant::now() >= end)
    }

    /// Whether a quit is pending: `quit-flag` itself, since a dispatch runs with
    /// `inhibit-quit` bound (where `should_quit` always says no).
    pub(crate) fn quit_pending(&self) -> bool {
        let env = self.env;
        let symbols = self.module.symbols();
        let flag = env.funcall(symbols.get(Sym::SymbolValue), &[symbols.get(Sym::QuitFlag)]);
        match flag {
            Ok(value) => env.is_not_nil(value),
            Err(_) => env.should_quit(),
        }
    }

    /// Whether a callback exited non-locally.
    pub(crate) fn has_failure(&self) -> bool {
        self.failure.is_some()
    }

    /// The failure to raise, if a callback exited non-locally.
    pub(crate) fn finish(self) -> LispResult<()> {
        self.failure.map_or(Ok(()), Err)
    }

    /// Deliver the events deferred by a quit, oldest first, until Emacs wants to quit
    /// again; return how many were delivered.
    pub(crate) fn flush_deferred(&mut self) -> usize {
        let mut delivered = 0;
        while !self.slice_over() && !self.quit_pending() {
            let Some(event) = self.module.next_deferred() else { break };
            match event {
                Deferred::Filter { process, filter, data, multibyte } => {
                    self.deliver_filter(&process, &filter, &data, multibyte)
                }
                Deferred::Sentinel { process, sentinel, message } => {
                    self.deliver_sentinel(&process, &sentinel, &message)
                }
                Deferred::Log { server, log, client, message } => {
                    self.deliver_log(&server, &log, client.as_ref(), &message)
                }
            }
            delivered += 1;
        }
        delivered
    }

    /// Whether an event must wait: Emacs wants to quit, or earlier events already wait.
    fn deferring(&self) -> bool {
        self.module.has_deferred() || self.quit_pending()
    }

    fn deliver_filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8], multibyte: bool) {
        self.delivered += 1;
        self.allocated += data.len() + STRING_COST;
        let env = self.env;
        let result = (|| {
            let lisp = lisp_process(env, process)?;
            let text = if multibyte { env.string(data)? } else { env.unibyte_string(data)? };
            count_output(process);
            self.call(Kind::Filter, filter, &[lisp, text])
        })();
        self.keep(result);
    }

    fn deliver_sentinel(&mut self, process: &ProcRef, sentinel: &Value, message: &str) {
        self.delivered += 1;
        self.allocated += message.len() + STRING_COST;
        self.module.note_status_change(process);
        let env = self.env;
        let result = (|| {
            let lisp = lisp_process(env, process)?;
            let message = env.string(message.as_bytes())?;
            self.call(Kind::Sentinel, sentinel, &[lisp, message])
        })();
        self.keep(result);
    }

    fn deliver_log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, message: &str) {
        self.delivered += 1;
        self.allocated += message.len() + STRING_COST;
        let env = self.env;
        let result = (|| {
            let server = lisp_process(env, server)?;
            let client = match client {
                Some(client) => lisp_process(env, client)?,
                None => env.nil()?,
            };
            let message = env.string(message.as_bytes())?;
            self.call(Kind::Log, log, &[server, client, message])
        })();
        self.keep(result);
    }

    fn keep<T>(&mut self, result: LispResult<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(failure) => {
                self.failure.get_or_insert(failure);
                None
            }
        }
    }

    /// Run a callback as Emacs runs one of its KIND (see the module docs).
    fn call(&mut self, kind: Kind, function: &Value, args: &[emacs_value]) -> LispResult<()> {
        let env = self.env;
        let symbols = self.module.symbols();
        let function = if function.is_nil() {
            symbols.get(match kind {
                Kind::Filter => Sym::DefaultFilter,
                Kind::Sentinel => Sym::DefaultSentinel,
                Kind::Log => Sym::Ignore,
            })
        } else {
            to_lisp(env, function)?
        };
        let kind_symbol = symbols.get(match kind {
            Kind::Filter => Sym::Filter,
            Kind::Sentinel => Sym::Sentinel,
            Kind::Log => Sym::Log,
        });
        if let Mode::Undecided = self.mode {
            self.mode = self.decide_mode()?;
        }
        let Mode::Direct { buffer, match_data } = self.mode else {
            // `(netproc--call KIND FUNCTION ARGS…)`.
            let mut call_args = Vec::with_capacity(args.len() + 2);
            call_args.push(kind_symbol);
            call_args.push(function);
            call_args.extend_from_slice(args);
            env.funcall(symbols.get(Sym::Call), &call_args)?;
            return Ok(());
        };
        // Emacs calls log functions as they are, errors and all.
        if kind == Kind::Log {
            env.funcall(function, args)?;
            return Ok(());
        }
        let outcome = env.funcall(function, args);
        // What Emacs restores after a callback: the buffer (save-current-buffer) and the
        // match data (restore_search_regs).
        let current = env.funcall(symbols.get(Sym::CurrentBuffer), &[])?;
        if !env.eq(current, buffer) {
            env.funcall(symbols.get(Sym::RestoreBuffer), &[buffer])?;
        }
        env.funcall(symbols.get(Sym::SetMatchData), &[match_data, symbols.get(Sym::T)])?;
        match outcome {
            Ok(_) => Ok(()),
            Err(Failure::Exit(Exit::Signal(symbol, data))) => {
                // Reported (an error) or not (another signal, which goes on up).
                let reported = env.funcall(symbols.get(Sym::CallbackError), &[kind_symbol, symbol, data])?;
                if env.is_not_nil(reported) {
                    Ok(())
                } else {
                    Err(Failure::Exit(Exit::Signal(symbol, data)))
                }
            }
            Err(other) => Err(other),
        }
    }

    /// Direct calls, unless `debug-on-error` asks for Emacs's handler-less calls (the
    /// debugger must see the error where it happens).
    fn decide_mode(&self) -> LispResult<Mode> {
        let env = self.env;
        let symbols = self.module.symbols();
        let debug = env.funcall(symbols.get(Sym::SymbolValue), &[symbols.get(Sym::DebugOnError)])?;
        if env.is_not_nil(debug) {
            return Ok(Mode::Lisp);
        }
        let buffer = env.funcall(symbols.get(Sym::CurrentBuffer), &[])?;
        let match_data = env.funcall(symbols.get(Sym::MatchData), &[symbols.get(Sym::T)])?;
        Ok(Mode::Direct { buffer, match_data })
    }
}

/// The failure of a TLS client the Network Security Manager stopped, in Emacs's words
/// (finish_after_tls_connection, src/process.c).
const NSM_REFUSAL: &str = "The Network Security Manager stopped the connections";

impl Host for EmacsHost<'_> {
    /// Emacs asks `nsm-verify-connection` when a TLS client's handshake is done, before
    /// its "open" (`netproc--tls-check` in lisp/netproc-tls.el). An error there (a quit
    /// in its prompt) refuses the connection too, and is raised when the module call
    /// returns.
    fn tls_check(&mut self, process: &ProcRef) -> Result<(), String> {
        let env = self.env;
        let verdict = (|| env.call("netproc--tls-check", &[lisp_process(env, process)?]))();
        match verdict {
            Ok(verdict) if env.is_not_nil(verdict) => Ok(()),
            Ok(_) => Err(NSM_REFUSAL.to_string()),
            Err(failure) => {
                self.keep::<()>(Err(failure));
                Err(NSM_REFUSAL.to_string())
            }
        }
    }

    fn filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8]) {
        // Inside the call the core says whether this data is multibyte text.
        let multibyte = process.filter_multibyte_p();
        if self.deferring() {
            let event = Deferred::Filter {
                process: process.clone(),
                filter: filter.clone(),
                data: data.to_vec(),
                multibyte,
            };
            self.module.defer(event);
        } else {
            self.deliver_filter(process, filter, data, multibyte);
        }
    }

    fn sentinel(&mut self, process: &ProcRef, sentinel: &Value, event: &SentinelEvent) {
        let message = &*event.message();
        if self.deferring() {
            let event = Deferred::Sentinel {
                process: process.clone(),
                sentinel: sentinel.clone(),
                message: message.to_string(),
            };
            self.module.defer(event);
        } else {
            self.deliver_sentinel(process, sentinel, message);
        }
    }

    fn log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, event: &LogEvent) {
        let message = &*event.message();
        if self.deferring() {
            let event = Deferred::Log {
                server: server.clone(),
                log: log.clone(),
                client: client.cloned(),
                message: message.to_string(),
            };
            self.module.defer(event);
        } else {
            self.deliver_log(server, log, client, message);
        }
    }

    fn pause_delivery(&mut self) -> bool {
        self.slice_over() || self.holding_for_timer()
    }

    fn buffer_name(&mut self, buffer: &Value) -> Option<Vec<u8>> {
        let env = self.env;
        let result = (|| -> LispResult<Option<Vec<u8>>> {
            if let Value::Str(name) = buffer {
                return Ok(Some(name.to_vec()));
            }
            if buffer.is_nil() {
                return Ok(None);
            }
            let lisp = to_lisp(env, buffer)?;
            if !env.is_not_nil(env.call("buffer-live-p", &[lisp])?) {
                return Ok(None);
            }
            let name = env.call("buffer-name", &[lisp])?;
            Ok(Some(env.string_bytes(name)?))
        })();
        self.keep(result).flatten()
    }

    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        let env = self.env;
        let result = (|| {
            let name = env.string(name)?;
            let buffer = env.call("get-buffer-create", &[name])?;
            object(env, buffer)
        })();
        self.keep(result).unwrap_or(Value::Nil)
    }
}
