//! Module functions for TLS on a process: STARTTLS, where a handshake is, peer status,
//! `gnutls-available-p`, warning texts and the handshake timeout. lisp/netproc-tls.el
//! builds Emacs's `gnutls-negotiate` and friends on them (the parameters with Emacs's own
//! `gnutls-boot-parameters`, the wait for the handshake in Lisp, where callbacks can run).

use std::time::Duration;

use super::boundary::{arg, Function};
use super::convert::{from_lisp, to_lisp};
use super::env::Env;
use super::error::LispResult;
use super::object::process_arg;
use super::state::Module;
use super::sys::emacs_value;
use crate::core::{tls_available, tls_warning_description, Error, TlsState, Value};

/// The functions of this file.
pub(crate) static FUNCTIONS: &[Function] = &[
    Function::new(
        "netproc--gnutls-negotiate",
        2,
        Some(2),
        negotiate,
        c"Start TLS on PROCESS with PARAMS, (TYPE . PLIST); return PROCESS without waiting.",
    ),
    Function::new(
        "netproc--gnutls-state",
        1,
        Some(1),
        state,
        c"Where PROCESS's TLS handshake is: `handshake' (running), `ready' (done), or nil.",
    ),
    Function::new(
        "netproc--gnutls-server-side-p",
        1,
        Some(1),
        server_side_p,
        c"Whether TLS on PROCESS would be the server side (a connection a server accepted).",
    ),
    Function::new(
        "netproc--gnutls-peer-status",
        1,
        Some(2),
        peer_status,
        c"Module side of gnutls-peer-status.",
    ),
    Function::new(
        "netproc--gnutls-available-p",
        0,
        Some(0),
        available,
        c"Module side of gnutls-available-p.",
    ),
    Function::new(
        "netproc--gnutls-peer-status-warning-describe",
        1,
        Some(1),
        warning_describe,
        c"Module side of gnutls-peer-status-warning-describe (a symbol).",
    ),
    Function::new(
        "netproc--tls-handshake-timeout",
        0,
        Some(0),
        handshake_timeout,
        c"How long a TLS handshake may take, in milliseconds.",
    ),
    Function::new(
        "netproc--set-tls-handshake-timeout",
        1,
        Some(1),
        set_handshake_timeout,
        c"Let TLS handshakes that start from now take MILLISECONDS (a positive integer).",
    ),
];

fn negotiate(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    let process = process_arg(env, value)?;
    let params = from_lisp(env, arg(env, args, 1)?)?;
    module.shared().negotiate_tls(&process, &params)?;
    Ok(value)
}

fn state(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    match process_arg(env, arg(env, args, 0)?)?.tls_state() {
        TlsState::None => env.nil(),
        TlsState::Handshaking => env.intern("handshake"),
        TlsState::Established => env.intern("ready"),
    }
}

fn server_side_p(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    env.boolean(process_arg(env, arg(env, args, 0)?)?.tls_server_side())
}

fn peer_status(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    // The second argument asks for Emacs 30's `:public-key-id-sha256` (netproc-versions.el).
    let sha256_key_id = env.is_not_nil(arg(env, args, 1)?);
    to_lisp(env, &process_arg(env, arg(env, args, 0)?)?.tls_peer_status_with(sha256_key_id))
}

fn available(env: &Env, _: &Module, _args: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &tls_available())
}

fn warning_describe(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    match from_lisp(env, value)? {
        Value::Symbol(name) => match tls_warning_description(&name) {
            Some(text) => env.string(text.as_bytes()),
            None => env.nil(),
        },
        // nil and t are symbols too, and describe nothing.
        Value::Nil | Value::T => env.nil(),
        other => Err(Error::wrong_type("symbolp", &other).into()),
    }
}

fn handshake_timeout(env: &Env, module: &Module, _args: &[emacs_value]) -> LispResult<emacs_value> {
    let timeout = module.shared().settings().tls_handshake_timeout;
    env.int(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX))
}

fn set_handshake_timeout(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    let millis = match from_lisp(env, value)? {
        Value::Int(millis) if millis > 0 => millis as u64,
        other => return Err(Error::wrong_type("natnump", &other).into()),
    };
    module
        .shared()
        .update_settings(|settings| settings.tls_handshake_timeout = Duration::from_millis(millis));
    Ok(value)
}
