//! Loading: `plugin_is_GPL_compatible` and `emacs_module_init` (runtime and environment
//! size checks, the module state, error symbols, registration of the function tables).

use std::ffi::c_int;

use super::boundary::register;
use super::env::Env;
use super::error::LispResult;
use super::signal::raise;
use super::state;
use super::sys::{emacs_env_28, emacs_runtime};
use super::{io, primitives, tls};

/// Emacs refuses to load a module without this symbol. netproc is GPL-3.0-or-later.
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static plugin_is_GPL_compatible: c_int = 0;

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
    // Emacs watches its own descriptors with select(2), so it can only use numbers below
    // FD_SETSIZE. netproc's sockets go at or above it, where only netproc's epoll looks:
    // they take nothing from Emacs's subprocesses, files and file watches, and the open-file
    // limit can be raised for them without Emacs ever meeting a descriptor it cannot watch.
    crate::core::descriptors::set_descriptor_floor(libc::FD_SETSIZE as i32);
    raise_open_file_limit_to_hard();
    state::start(env)?;
    define_errors(env)?;
    register(env, primitives::FUNCTIONS)?;
    register(env, io::FUNCTIONS)?;
    register(env, tls::FUNCTIONS)?;
    let feature = env.intern("netproc-module")?;
    env.call("provide", &[feature])?;
    Ok(())
}

/// The soft open-file limit up to the hard one (Emacs lowers it to FD_SETSIZE at startup);
/// best effort: a limit that cannot be raised leaves netproc with fewer connections.
fn raise_open_file_limit_to_hard() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write one rlimit struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// `netproc-error` (a kind of `error`) and `netproc-panic` (deliberately not an `error`).
fn define_errors(env: &Env) -> LispResult<()> {
    use crate::core::error::Symbol;
    let netproc_error = env.intern(Symbol::NetprocError.name())?;
    let message = env.string(Symbol::NetprocError.message().as_bytes())?;
    env.call("define-error", &[netproc_error, message])?;
    let panic = env.intern(Symbol::NetprocPanic.name())?;
    let conditions = env.list(&[panic])?;
    env.call("put", &[panic, env.intern("error-conditions")?, conditions])?;
    let panic_message = env.string(Symbol::NetprocPanic.message().as_bytes())?;
    env.call("put", &[panic, env.intern("error-message")?, panic_message])?;
    Ok(())
}
