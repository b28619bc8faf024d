//! `struct emacs_runtime` and `struct emacs_env_28`, transcribed field for field, in order,
//! from Emacs 28's `emacs-module.h`. Facts only: no logic lives here.
#![allow(non_camel_case_types, missing_docs, dead_code)]

use std::ffi::{c_char, c_int, c_void};

/// `typedef struct emacs_value_tag *emacs_value;` — opaque; never assume NULL is valid.
#[repr(C)]
pub struct emacs_value_tag {
    _private: [u8; 0],
}
pub type emacs_value = *mut emacs_value_tag;

/// `emacs_env` is `struct emacs_env_28` in Emacs 28.
pub type emacs_env = emacs_env_28;

/// `enum emacs_funcall_exit`.
pub type emacs_funcall_exit = c_int;
pub const EMACS_FUNCALL_EXIT_RETURN: emacs_funcall_exit = 0;
pub const EMACS_FUNCALL_EXIT_SIGNAL: emacs_funcall_exit = 1;
pub const EMACS_FUNCALL_EXIT_THROW: emacs_funcall_exit = 2;

/// `enum emacs_process_input_result`.
pub type emacs_process_input_result = c_int;

/// `enum { emacs_variadic_function = -2 };`
pub const EMACS_VARIADIC_FUNCTION: isize = -2;

/// `typedef size_t emacs_limb_t;`
pub type emacs_limb_t = usize;

/// A module function: `emacs_value (*) (emacs_env *, ptrdiff_t, emacs_value *, void *)`.
pub type emacs_function = unsafe extern "C" fn(
    env: *mut emacs_env,
    nargs: isize,
    args: *mut emacs_value,
    data: *mut c_void,
) -> emacs_value;

/// A finalizer: `void (*) (void *)`.
pub type emacs_finalizer = unsafe extern "C" fn(data: *mut c_void);

/// `struct timespec` as the module API passes it (LP64 Linux).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct timespec {
    pub tv_sec: libc::time_t,
    pub tv_nsec: libc::c_long,
}

/// `struct emacs_runtime`.
#[repr(C)]
pub struct emacs_runtime {
    pub size: isize,
    pub private_members: *mut c_void,
    pub get_environment: Option<unsafe extern "C" fn(runtime: *mut emacs_runtime) -> *mut emacs_env>,
}

/// `struct emacs_env_28`.
#[repr(C)]
pub struct emacs_env_28 {
    pub size: isize,
    pub private_members: *mut c_void,
    // Memory management.
    pub make_global_ref: Option<unsafe extern "C" fn(env: *mut emacs_env, value: emacs_value) -> emacs_value>,
    pub free_global_ref: Option<unsafe extern "C" fn(env: *mut emacs_env, global_value: emacs_value)>,
    // Non-local exit handling.
    pub non_local_exit_check: Option<unsafe extern "C" fn(env: *mut emacs_env) -> emacs_funcall_exit>,
    pub non_local_exit_clear: Option<unsafe extern "C" fn(env: *mut emacs_env)>,
    pub non_local_exit_get: Option<
        unsafe extern "C" fn(
            env: *mut emacs_env,
            symbol: *mut emacs_value,
            data: *mut emacs_value,
        ) -> emacs_funcall_exit,
    >,
    pub non_local_exit_signal:
        Option<unsafe extern "C" fn(env: *mut emacs_env, symbol: emacs_value, data: emacs_value)>,
    pub non_local_exit_throw:
        Option<unsafe extern "C" fn(env: *mut emacs_env, tag: emacs_value, value: emacs_value)>,
    // Function registration.
    pub make_function: Option<
        unsafe extern "C" fn(
            env: *mut emacs_env,
            min_arity: isize,
            max_arity: isize,
            func: Option<emacs_function>,
            docstring: *const c_char,
            data: *mut c_void,
        ) -> emacs_value,
    >,
    pub funcall: Option<
        unsafe extern "C" fn(
            env: *mut emacs_env,
            func: emacs_value,
            nargs: isize,
            args: *mut emacs_value,
        ) -> emacs_value,
    >,
    pub intern: Option<unsafe extern "C" fn(env: *mut emacs_env, name: *const c_char) -> emacs_value>,
    // Type conversion.
    pub type_of: Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value) -> emacs_value>,
    pub is_not_nil: Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value) -> bool>,
    pub eq: Option<unsafe extern "C" fn(env: *mut emacs_env, a: emacs_value, b: emacs_value) -> bool>,
    pub extract_integer: Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value) -> i64>,
    pub make_integer: Option<unsafe extern "C" fn(env: *mut emacs_env, n: i64) -> emacs_value>,
    pub extract_float: Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value) -> f64>,
    pub make_float: Option<unsafe extern "C" fn(env: *mut emacs_env, d: f64) -> emacs_value>,
    pub copy_string_contents: Option<
        unsafe extern "C" fn(
            env: *mut emacs_env,
            value: emacs_value,
            buf: *mut c_char,
            len: *mut isize,
        ) -> bool,
    >,
    pub make_string:
        Option<unsafe extern "C" fn(env: *mut emacs_env, str: *const c_char, len: isize) -> emacs_value>,
    // Embedded pointer type.
    pub make_user_ptr: Option<
        unsafe extern "C" fn(
            env: *mut emacs_env,
            fin: Option<emacs_finalizer>,
            ptr: *mut c_void,
        ) -> emacs_value,
    >,
    pub get_user_ptr: Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value) -> *mut c_void>,
    pub set_user_ptr: Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value, ptr: *mut c_void)>,
    pub get_user_finalizer:
        Option<unsafe extern "C" fn(env: *mut emacs_env, uptr: emacs_value) -> Option<emacs_finalizer>>,
    pub set_user_finalizer:
        Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value, fin: Option<emacs_finalizer>)>,
    // Vector functions.
    pub vec_get:
        Option<unsafe extern "C" fn(env: *mut emacs_env, vector: emacs_value, index: isize) -> emacs_value>,
    pub vec_set: Option<
        unsafe extern "C" fn(env: *mut emacs_env, vector: emacs_value, index: isize, value: emacs_value),
    >,
    pub vec_size: Option<unsafe extern "C" fn(env: *mut emacs_env, vector: emacs_value) -> isize>,
    // Emacs 26.
    pub should_quit: Option<unsafe extern "C" fn(env: *mut emacs_env) -> bool>,
    // Emacs 27.
    pub process_input: Option<unsafe extern "C" fn(env: *mut emacs_env) -> emacs_process_input_result>,
    pub extract_time: Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value) -> timespec>,
    pub make_time: Option<unsafe extern "C" fn(env: *mut emacs_env, time: timespec) -> emacs_value>,
    pub extract_big_integer: Option<
        unsafe extern "C" fn(
            env: *mut emacs_env,
            arg: emacs_value,
            sign: *mut c_int,
            count: *mut isize,
            magnitude: *mut emacs_limb_t,
        ) -> bool,
    >,
    pub make_big_integer: Option<
        unsafe extern "C" fn(
            env: *mut emacs_env,
            sign: c_int,
            count: isize,
            magnitude: *const emacs_limb_t,
        ) -> emacs_value,
    >,
    // Emacs 28.
    pub get_function_finalizer:
        Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value) -> Option<emacs_finalizer>>,
    pub set_function_finalizer:
        Option<unsafe extern "C" fn(env: *mut emacs_env, arg: emacs_value, fin: Option<emacs_finalizer>)>,
    pub open_channel: Option<unsafe extern "C" fn(env: *mut emacs_env, pipe_process: emacs_value) -> c_int>,
    pub make_interactive:
        Option<unsafe extern "C" fn(env: *mut emacs_env, function: emacs_value, spec: emacs_value)>,
    pub make_unibyte_string:
        Option<unsafe extern "C" fn(env: *mut emacs_env, str: *const c_char, len: isize) -> emacs_value>,
}
