//! A thin, checked wrapper over `emacs_env`: every call that can exit non-locally is
//! followed by a check, and a pending exit is taken out of the environment (so later calls
//! still work) and handed back as [`Failure::Exit`] for `signal.rs` to re-raise.

use std::ffi::{c_char, c_void, CString};

use super::error::{Exit, Failure, LispResult};
use super::sys::{
    emacs_env, emacs_finalizer, emacs_value, EMACS_FUNCALL_EXIT_RETURN, EMACS_FUNCALL_EXIT_THROW,
};
use crate::core::coding::{runs, Run};

/// Call a function of the environment table. Every field is present: `emacs_module_init`
/// refused environments smaller than `emacs_env_28`, and Emacs fills every field it has.
macro_rules! raw_call {
    ($env:expr, $field:ident $(, $arg:expr)*) => {{
        let raw = $env.raw;
        // SAFETY: `raw` is the live environment of the current module call (see `Env`), and
        // the field was checked to exist at init.
        unsafe {
            let f = (*raw).$field.expect(concat!("emacs_env_28 has ", stringify!($field)));
            f(raw $(, $arg)*)
        }
    }};
}

/// The environment of one module call. Only valid on the main thread, during that call.
pub(crate) struct Env {
    raw: *mut emacs_env,
}

impl Env {
    /// Wrap the environment Emacs passed to a module function.
    ///
    /// # Safety
    /// `raw` must be the environment of the module call now running, and the `Env` must not
    /// outlive that call.
    pub(crate) unsafe fn from_raw(raw: *mut emacs_env) -> Env {
        Env { raw }
    }

    /// Take a pending non-local exit out of the environment, if there is one.
    pub(crate) fn take_exit(&self) -> LispResult<()> {
        if raw_call!(self, non_local_exit_check) == EMACS_FUNCALL_EXIT_RETURN {
            return Ok(());
        }
        let mut symbol: emacs_value = std::ptr::null_mut();
        let mut data: emacs_value = std::ptr::null_mut();
        let kind = raw_call!(self, non_local_exit_get, &mut symbol, &mut data);
        raw_call!(self, non_local_exit_clear);
        Err(Failure::Exit(match kind {
            EMACS_FUNCALL_EXIT_THROW => Exit::Throw(symbol, data),
            // EMACS_FUNCALL_EXIT_SIGNAL, and anything a later Emacs might add.
            _ => Exit::Signal(symbol, data),
        }))
    }

    /// Make `exit` the pending non-local exit of this module call.
    pub(crate) fn raise(&self, exit: &Exit) {
        match *exit {
            Exit::Signal(symbol, data) => raw_call!(self, non_local_exit_signal, symbol, data),
            Exit::Throw(tag, value) => raw_call!(self, non_local_exit_throw, tag, value),
        }
    }

    /// `(wrong-type-argument PREDICATE VALUE)` for a Lisp value we could not convert, as
    /// a failure to return (the caller's module function then signals it).
    pub(crate) fn wrong_type(&self, predicate: &str, value: emacs_value) -> Failure {
        let data = self
            .intern(predicate)
            .and_then(|symbol| self.list(&[symbol, value]))
            .and_then(|data| Ok((self.intern("wrong-type-argument")?, data)));
        match data {
            Ok((symbol, data)) => Failure::Exit(Exit::Signal(symbol, data)),
            Err(failure) => failure,
        }
    }

    /// `(signal SYMBOL DATA)` as the pending exit.
    pub(crate) fn signal(&self, symbol: emacs_value, data: emacs_value) {
        raw_call!(self, non_local_exit_signal, symbol, data);
    }

    /// The symbol called `name` (interned).
    pub(crate) fn intern(&self, name: &str) -> LispResult<emacs_value> {
        if name.is_ascii() && !name.contains('\0') {
            let text = CString::new(name).map_err(|_| Failure::internal("symbol name with NUL"))?;
            let value = raw_call!(self, intern, text.as_ptr());
            self.take_exit()?;
            return Ok(value);
        }
        let name = self.string(name.as_bytes())?;
        self.call("intern", &[name])
    }

    /// `nil`.
    pub(crate) fn nil(&self) -> LispResult<emacs_value> {
        self.intern("nil")
    }

    /// `t`.
    pub(crate) fn t(&self) -> LispResult<emacs_value> {
        self.intern("t")
    }

    /// `t` or `nil`.
    pub(crate) fn boolean(&self, flag: bool) -> LispResult<emacs_value> {
        if flag {
            self.t()
        } else {
            self.nil()
        }
    }

    /// `(funcall FUNCTION ARGS…)` for a function value.
    pub(crate) fn funcall(&self, function: emacs_value, args: &[emacs_value]) -> LispResult<emacs_value> {
        // Emacs only reads the arguments (the C prototype is not const).
        let value = raw_call!(self, funcall, function, args.len() as isize, args.as_ptr().cast_mut());
        self.take_exit()?;
        Ok(value)
    }

    /// `(NAME ARGS…)`.
    pub(crate) fn call(&self, name: &str, args: &[emacs_value]) -> LispResult<emacs_value> {
        let function = self.intern(name)?;
        self.funcall(function, args)
    }

    /// Lisp truth.
    pub(crate) fn is_not_nil(&self, value: emacs_value) -> bool {
        raw_call!(self, is_not_nil, value)
    }

    /// `eq`.
    pub(crate) fn eq(&self, a: emacs_value, b: emacs_value) -> bool {
        raw_call!(self, eq, a, b)
    }

    /// `(type-of VALUE)`.
    pub(crate) fn type_of(&self, value: emacs_value) -> LispResult<emacs_value> {
        let value = raw_call!(self, type_of, value);
        self.take_exit()?;
        Ok(value)
    }

    /// Whether `value`'s type is the symbol `name`.
    pub(crate) fn type_is(&self, value: emacs_value, name: &str) -> LispResult<bool> {
        let kind = self.type_of(value)?;
        Ok(self.eq(kind, self.intern(name)?))
    }

    /// A fixnum or bignum from an integer.
    pub(crate) fn int(&self, n: i64) -> LispResult<emacs_value> {
        let value = raw_call!(self, make_integer, n);
        self.take_exit()?;
        Ok(value)
    }

    /// The integer `value` holds (signals if it is not one, or does not fit).
    pub(crate) fn extract_int(&self, value: emacs_value) -> LispResult<i64> {
        let n = raw_call!(self, extract_integer, value);
        self.take_exit()?;
        Ok(n)
    }

    /// The number `value` holds as a float (signals if it is not a float).
    pub(crate) fn extract_float(&self, value: emacs_value) -> LispResult<f64> {
        let n = raw_call!(self, extract_float, value);
        self.take_exit()?;
        Ok(n)
    }

    /// Element `index` of the vector `vector` (signals if it is not one, or too short).
    pub(crate) fn vec_get(&self, vector: emacs_value, index: usize) -> LispResult<emacs_value> {
        let value = raw_call!(self, vec_get, vector, index as isize);
        self.take_exit()?;
        Ok(value)
    }

    /// A unibyte string of `bytes`.
    pub(crate) fn unibyte_string(&self, bytes: &[u8]) -> LispResult<emacs_value> {
        let value =
            raw_call!(self, make_unibyte_string, bytes.as_ptr().cast::<c_char>(), bytes.len() as isize);
        self.take_exit()?;
        Ok(value)
    }

    /// A multibyte string from netproc's multibyte form: UTF-8 text, with raw bytes in
    /// Emacs's two-byte form (or standing for themselves). Raw runs become eight-bit
    /// characters through `concat`, which converts unibyte pieces that way.
    pub(crate) fn string(&self, text: &[u8]) -> LispResult<emacs_value> {
        if std::str::from_utf8(text).is_ok() {
            return self.utf8_string(text);
        }
        let mut pieces = Vec::new();
        for run in runs(text) {
            pieces.push(match run {
                Run::Text(text) => self.utf8_string(text.as_bytes())?,
                Run::Raw(raw) => {
                    let bytes = raw.to_vec();
                    // A lone unibyte piece would stay unibyte: make it multibyte first.
                    let piece = self.unibyte_string(&bytes)?;
                    self.call("string-to-multibyte", &[piece])?
                }
            });
        }
        self.call("concat", &pieces)
    }

    fn utf8_string(&self, text: &[u8]) -> LispResult<emacs_value> {
        let value = raw_call!(self, make_string, text.as_ptr().cast::<c_char>(), text.len() as isize);
        self.take_exit()?;
        Ok(value)
    }

    /// The bytes of a Lisp string: UTF-8 for text, and a single byte for each raw byte
    /// (eight-bit character) or for each byte of a unibyte string, which netproc's text
    /// form accepts as raw bytes.
    pub(crate) fn string_bytes(&self, value: emacs_value) -> LispResult<Vec<u8>> {
        match self.copy_utf8(value) {
            Ok(bytes) => Ok(bytes),
            // Emacs 28's copy_string_contents refuses eight-bit characters and unibyte
            // strings with bytes above 127 (`unicode-string-p`). Take the bytes, then read
            // each one as a Latin-1 character, which the module API can copy.
            Err(Failure::Exit(_)) => {
                let multibyte = self.is_not_nil(self.call("multibyte-string-p", &[value])?);
                let unibyte = if multibyte {
                    let utf8_emacs = self.intern("utf-8-emacs-unix")?;
                    self.call("encode-coding-string", &[value, utf8_emacs, self.t()?])?
                } else {
                    value
                };
                let latin1 = self.intern("iso-latin-1-unix")?;
                let chars = self.call("decode-coding-string", &[unibyte, latin1, self.t()?])?;
                let text = self.copy_utf8(chars)?;
                // Every character is U+0000..U+00FF by construction.
                Ok(String::from_utf8_lossy(&text).chars().map(|c| c as u32 as u8).collect())
            }
            Err(failure) => Err(failure),
        }
    }

    fn copy_utf8(&self, value: emacs_value) -> LispResult<Vec<u8>> {
        let mut length: isize = 0;
        raw_call!(self, copy_string_contents, value, std::ptr::null_mut(), &mut length);
        self.take_exit()?;
        let mut buffer = vec![0u8; length.max(1) as usize];
        raw_call!(self, copy_string_contents, value, buffer.as_mut_ptr().cast::<c_char>(), &mut length);
        self.take_exit()?;
        // `length` counts the terminating NUL.
        buffer.truncate((length as usize).saturating_sub(1));
        Ok(buffer)
    }

    /// A user pointer with a finalizer.
    pub(crate) fn user_ptr(
        &self,
        finalizer: emacs_finalizer,
        pointer: *mut c_void,
    ) -> LispResult<emacs_value> {
        let value = raw_call!(self, make_user_ptr, Some(finalizer), pointer);
        self.take_exit()?;
        Ok(value)
    }

    /// The pointer inside a user pointer (signals if `value` is not one).
    pub(crate) fn get_user_ptr(&self, value: emacs_value) -> LispResult<*mut c_void> {
        let pointer = raw_call!(self, get_user_ptr, value);
        self.take_exit()?;
        Ok(pointer)
    }

    /// A global reference to `value`: valid in every later module call until freed.
    pub(crate) fn make_global_ref(&self, value: emacs_value) -> LispResult<emacs_value> {
        let global = raw_call!(self, make_global_ref, value);
        self.take_exit()?;
        Ok(global)
    }

    /// Free a global reference made by `make_global_ref`.
    pub(crate) fn free_global_ref(&self, global: emacs_value) {
        raw_call!(self, free_global_ref, global);
        // Freeing never fails for a reference we made; clear anything odd all the same.
        let _ = self.take_exit();
    }

    /// The write end of a pipe process's channel (Emacs 28 `open_channel`).
    pub(crate) fn open_channel(&self, pipe_process: emacs_value) -> LispResult<i32> {
        let fd = raw_call!(self, open_channel, pipe_process);
        self.take_exit()?;
        Ok(fd)
    }

    /// Whether the user asked to quit (C-g).
    pub(crate) fn should_quit(&self) -> bool {
        raw_call!(self, should_quit)
    }

    /// `(list ITEMS…)`.
    pub(crate) fn list(&self, items: &[emacs_value]) -> LispResult<emacs_value> {
        self.call("list", items)
    }

    /// Register a module function under `name`.
    pub(crate) fn defun(
        &self,
        name: &str,
        min: isize,
        max: isize,
        function: super::sys::emacs_function,
        doc: &std::ffi::CStr,
        data: *mut c_void,
    ) -> LispResult<()> {
        let value = raw_call!(self, make_function, min, max, Some(function), doc.as_ptr(), data);
        self.take_exit()?;
        let symbol = self.intern(name)?;
        self.call("defalias", &[symbol, value])?;
        Ok(())
    }
}
