//! The core's [`Host`] for Emacs: filters, sentinels and log functions become Lisp calls on
//! the main thread, buffers are Lisp buffers.
//!
//! Host methods cannot fail, so a non-local exit from Lisp (an error that escaped because
//! `debug-on-error` is set, a throw, a quit) is kept, the remaining events of the batch are
//! still delivered (nothing the core already read is lost), and the first exit is raised
//! when the module call returns.

use super::convert::{object, to_lisp};
use super::env::Env;
use super::error::{Failure, LispResult};
use super::init::Module;
use super::object::{count_output, lisp_process};
use super::sys::emacs_value;
use crate::core::{Host, ProcRef, Value};

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
        let env = self.env;
        let result = (|| {
            let lisp = lisp_process(env, process)?;
            // Inside the call the core says whether this data is multibyte text.
            let text =
                if process.filter_multibyte_p() { env.string(data)? } else { env.unibyte_string(data)? };
            count_output(process);
            self.call("filter", filter, "netproc--default-filter", &[lisp, text])
        })();
        self.keep(result);
    }

    fn sentinel(&mut self, process: &ProcRef, sentinel: &Value, message: &str) {
        self.module.note_status_change(process);
        let env = self.env;
        let result = (|| {
            let lisp = lisp_process(env, process)?;
            let message = env.string(message.as_bytes())?;
            self.call("sentinel", sentinel, "netproc--default-sentinel", &[lisp, message])
        })();
        self.keep(result);
    }

    fn log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, message: &str) {
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
