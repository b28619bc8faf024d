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

use super::convert::{object, to_lisp};
use super::env::Env;
use super::error::{Failure, LispResult};
use super::init::Module;
use super::object::{count_output, lisp_process};
use super::sys::emacs_value;
use crate::core::{Host, ProcRef, Value};

/// An event whose delivery waits for Emacs to handle a quit.
pub(crate) enum Deferred {
    Filter { process: ProcRef, filter: Value, data: Vec<u8>, multibyte: bool },
    Sentinel { process: ProcRef, sentinel: Value, message: String },
    Log { server: ProcRef, log: Value, client: Option<ProcRef>, message: String },
}

/// Dispatches core events to Lisp during one module call.
pub(crate) struct EmacsHost<'a> {
    env: &'a Env,
    module: &'a Module,
    /// The first non-local exit or error met in a callback.
    failure: Option<Failure>,
}

impl<'a> EmacsHost<'a> {
    pub(crate) fn new(env: &'a Env, module: &'a Module) -> EmacsHost<'a> {
        EmacsHost { env, module, failure: None }
    }

    /// The failure to raise, if a callback exited non-locally.
    pub(crate) fn finish(self) -> LispResult<()> {
        self.failure.map_or(Ok(()), Err)
    }

    /// Deliver the events deferred by a quit, oldest first, until Emacs wants to quit
    /// again; return how many were delivered.
    pub(crate) fn flush_deferred(&mut self) -> usize {
        let mut delivered = 0;
        while !self.env.should_quit() {
            let Some(event) = self.module.deferred.lock().pop_front() else { break };
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
        !self.module.deferred.lock().is_empty() || self.env.should_quit()
    }

    fn defer(&self, event: Deferred) {
        self.module.deferred.lock().push_back(event);
    }

    fn deliver_filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8], multibyte: bool) {
        let env = self.env;
        let result = (|| {
            let lisp = lisp_process(env, process)?;
            let text = if multibyte { env.string(data)? } else { env.unibyte_string(data)? };
            count_output(process);
            self.call("filter", filter, "netproc--default-filter", &[lisp, text])
        })();
        self.keep(result);
    }

    fn deliver_sentinel(&mut self, process: &ProcRef, sentinel: &Value, message: &str) {
        self.module.note_status_change(process);
        let env = self.env;
        let result = (|| {
            let lisp = lisp_process(env, process)?;
            let message = env.string(message.as_bytes())?;
            self.call("sentinel", sentinel, "netproc--default-sentinel", &[lisp, message])
        })();
        self.keep(result);
    }

    fn deliver_log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, message: &str) {
        let env = self.env;
        let result = (|| {
            let server = lisp_process(env, server)?;
            let client = match client {
                Some(client) => lisp_process(env, client)?,
                None => env.nil()?,
            };
            let message = env.string(message.as_bytes())?;
            self.call("log", log, "ignore", &[server, client, message])
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

    /// `(netproc--call KIND FUNCTION ARGS…)`: netproc.el runs the function the way Emacs
    /// runs filters and sentinels (inhibit-quit, saved buffer and match data, errors
    /// reported through `command-error-function`).
    fn call(&self, kind: &str, function: &Value, default: &str, args: &[emacs_value]) -> LispResult<()> {
        let env = self.env;
        let function = if function.is_nil() { env.intern(default)? } else { to_lisp(env, function)? };
        let mut call_args = vec![env.intern(kind)?, function];
        call_args.extend_from_slice(args);
        env.call("netproc--call", &call_args)?;
        Ok(())
    }
}

impl Host for EmacsHost<'_> {
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
            self.defer(event);
        } else {
            self.deliver_filter(process, filter, data, multibyte);
        }
    }

    fn sentinel(&mut self, process: &ProcRef, sentinel: &Value, message: &str) {
        if self.deferring() {
            let event = Deferred::Sentinel {
                process: process.clone(),
                sentinel: sentinel.clone(),
                message: message.to_string(),
            };
            self.defer(event);
        } else {
            self.deliver_sentinel(process, sentinel, message);
        }
    }

    fn log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, message: &str) {
        if self.deferring() {
            let event = Deferred::Log {
                server: server.clone(),
                log: log.clone(),
                client: client.cloned(),
                message: message.to_string(),
            };
            self.defer(event);
        } else {
            self.deliver_log(server, log, client, message);
        }
    }

    fn buffer_name(&mut self, buffer: &Value) -> Option<Vec<u8>> {
        let env = self.env;
        let result = (|| -> LispResult<Option<Vec<u8>>> {
            if let Value::Str(name) = buffer {
                return Ok(Some(name.clone()));
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
