//! Module functions for talking to processes and describing them: sending, contact,
//! coding systems, datagram addresses, socket options and the address utilities.

use super::boundary::{arg, Function};
use super::convert::{from_lisp, object, to_lisp};
use super::env::Env;
use super::error::{Failure, LispResult};
use super::object::process_arg;
use super::state::Module;
use super::sys::emacs_value;
use crate::core::{address, interfaces, ContactQuery, Value};

/// The functions of this file.
pub(crate) static FUNCTIONS: &[Function] = &[
    Function::new(
        "netproc--process-contact",
        1,
        Some(3),
        process_contact,
        c"Module side of process-contact.",
    ),
    Function::new(
        "netproc--process-send-string",
        2,
        Some(2),
        send_string,
        c"Module side of process-send-string.",
    ),
    Function::new("netproc--process-send-eof", 1, Some(1), send_eof, c"Module side of process-send-eof."),
    Function::new(
        "netproc--process-coding-system",
        1,
        Some(1),
        coding_system,
        c"Module side of process-coding-system.",
    ),
    Function::new(
        "netproc--set-process-coding-system",
        3,
        Some(3),
        set_coding_system,
        c"Module side of set-process-coding-system.",
    ),
    Function::new(
        "netproc--process-filter-multibyte-p",
        1,
        Some(1),
        filter_multibyte_p,
        c"Module side of process-filter-multibyte-p.",
    ),
    Function::new(
        "netproc--set-process-filter-multibyte",
        2,
        Some(2),
        set_filter_multibyte,
        c"Module side of set-process-filter-multibyte.",
    ),
    Function::new(
        "netproc--process-datagram-address",
        1,
        Some(1),
        datagram_address,
        c"Module side of process-datagram-address.",
    ),
    Function::new(
        "netproc--datagram-sender",
        1,
        Some(1),
        datagram_sender,
        c"Module side of netproc-datagram-sender.",
    ),
    Function::new(
        "netproc--set-process-datagram-address",
        2,
        Some(2),
        set_datagram_address,
        c"Module side of set-process-datagram-address.",
    ),
    Function::new(
        "netproc--set-network-process-option",
        3,
        Some(4),
        set_option,
        c"Module side of set-network-process-option.",
    ),
    Function::new(
        "netproc--format-network-address",
        1,
        Some(2),
        format_address,
        c"Module side of format-network-address.",
    ),
    Function::new(
        "netproc--network-features",
        0,
        Some(0),
        network_features,
        c"Module side of netproc-network-features.",
    ),
    Function::new(
        "netproc--network-interface-list",
        0,
        Some(2),
        interface_list,
        c"Module side of network-interface-list.",
    ),
    Function::new(
        "netproc--network-interface-info",
        1,
        Some(1),
        interface_info,
        c"Module side of network-interface-info.",
    ),
    Function::new(
        "netproc--network-lookup-address-info",
        1,
        Some(3),
        lookup_address_info,
        c"Module side of network-lookup-address-info.",
    ),
    Function::new(
        "netproc--output-pending",
        1,
        Some(1),
        output_pending,
        c"Bytes sent to PROCESS and not yet written.",
    ),
    Function::new(
        "netproc--queued-count",
        0,
        Some(0),
        queued_count,
        c"How many arrivals (reads, closes, connects) wait for delivery.",
    ),
    Function::new(
        "netproc--raise-open-file-limit",
        1,
        Some(1),
        raise_open_file_limit,
        c"Raise the soft open-file limit to LIMIT (nil: the hard limit); return the new limit.",
    ),
    Function::new(
        "netproc--set-default-coding-system",
        2,
        Some(2),
        set_default_coding,
        c"Coding systems for processes made without :coding.",
    ),
];

fn process_contact(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let key = arg(env, args, 1)?;
    let query = match from_lisp(env, key)? {
        Value::Nil => ContactQuery::HostService,
        Value::T => ContactQuery::All,
        Value::Symbol(name) => ContactQuery::Key(name),
        // plist-get compares keys with eq: only a symbol can be found.
        _ => return env.nil(),
    };
    let no_block = env.is_not_nil(arg(env, args, 2)?);
    to_lisp(env, &process.contact(&query, no_block))
}

fn send_string(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let string = arg(env, args, 1)?;
    let bytes = env.string_bytes(string)?;
    let level = if env.is_not_nil(env.call("multibyte-string-p", &[string])?) {
        module.shared().send_text(&process, &bytes)?
    } else {
        module.shared().send(&process, &bytes)?
    };
    // nil as Emacs's; t only for a process with a high-water mark now above it.
    env.boolean(level == crate::core::WaterLevel::Above)
}

fn send_eof(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    module.shared().send_eof(&process_arg(env, value)?)?;
    Ok(value)
}

fn coding_system(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &process_arg(env, arg(env, args, 0)?)?.coding_system())
}

fn set_coding_system(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let decoding = from_lisp(env, arg(env, args, 1)?)?;
    let encoding = from_lisp(env, arg(env, args, 2)?)?;
    module.shared().set_coding_system(&process, &decoding, &encoding)?;
    env.nil()
}

fn filter_multibyte_p(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    env.boolean(process_arg(env, arg(env, args, 0)?)?.filter_multibyte_p())
}

fn set_filter_multibyte(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let flag = arg(env, args, 1)?;
    module.shared().set_filter_multibyte(&process, env.is_not_nil(flag))?;
    // Emacs's set-process-filter-multibyte returns nil whatever FLAG is.
    env.nil()
}

fn datagram_address(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &process_arg(env, arg(env, args, 0)?)?.datagram_address())
}

fn set_datagram_address(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let address = arg(env, args, 1)?;
    if process.set_datagram_address(&from_lisp(env, address)?) {
        Ok(address)
    } else {
        env.nil()
    }
}

fn set_option(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let option_value = arg(env, args, 1)?;
    let option = from_lisp(env, option_value)?;
    // A function stays the Lisp object it is, as for :filter and :sentinel.
    let value = if option.as_symbol() == Some(":drain") {
        object(env, arg(env, args, 2)?)?
    } else {
        from_lisp(env, arg(env, args, 2)?)?
    };
    let no_error = env.is_not_nil(arg(env, args, 3)?);
    // Emacs checks OPTION with CHECK_SYMBOL before anything else about it.
    let Some(name) = option.as_symbol().map(str::to_string) else {
        return Err(env.wrong_type("symbolp", option_value));
    };
    let applied = module.shared().set_network_option(&process, &name, &value, no_error)?;
    env.boolean(applied)
}

fn datagram_sender(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &process_arg(env, arg(env, args, 0)?)?.datagram_sender())
}

fn network_features(env: &Env, _: &Module, _: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &interfaces::network_features())
}

fn format_address(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let address = from_lisp(env, arg(env, args, 0)?)?;
    let omit_port = env.is_not_nil(arg(env, args, 1)?);
    to_lisp(env, &address::format_network_address(&address, omit_port)?)
}

fn interface_list(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let full = env.is_not_nil(arg(env, args, 0)?);
    let family = from_lisp(env, arg(env, args, 1)?)?;
    to_lisp(env, &interfaces::network_interface_list(full, &family)?)
}

fn interface_info(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let name = env.string_bytes(arg(env, args, 0)?)?;
    to_lisp(env, &interfaces::network_interface_info(&name)?)
}

fn lookup_address_info(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let name = env.string_bytes(arg(env, args, 0)?)?;
    let family = from_lisp(env, arg(env, args, 1)?)?;
    // Emacs 29's HINTS; netproc-api.el passes nil where the running Emacs has none.
    let hints = from_lisp(env, arg(env, args, 2)?)?;
    match interfaces::network_lookup_address_info(&name, &family, &hints)? {
        Ok(addresses) => to_lisp(env, &addresses),
        Err(message) => {
            // Emacs shows a failed lookup with `message' and returns nil.
            let format = env.string(b"%s")?;
            env.call("message", &[format, env.string(message.as_bytes())?])?;
            env.nil()
        }
    }
}

fn output_pending(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    env.int(module.shared().output_pending(&process) as i64)
}

fn queued_count(env: &Env, module: &Module, _: &[emacs_value]) -> LispResult<emacs_value> {
    env.int(module.shared().queued_count() as i64)
}

fn set_default_coding(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let decoding = from_lisp(env, arg(env, args, 0)?)?;
    let encoding = from_lisp(env, arg(env, args, 1)?)?;
    module.shared().set_default_coding_system(&decoding, &encoding)?;
    env.nil()
}

/// Emacs lowers its soft RLIMIT_NOFILE to FD_SETSIZE (1024) at startup, for its select();
/// netproc's descriptors never reach that select, so the module may raise it again. Emacs
/// itself still refuses descriptors of 1024 or more for its own processes.
fn raise_open_file_limit(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let wanted = arg(env, args, 0)?;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(Failure::internal(&format!("getrlimit: {}", std::io::Error::last_os_error())));
    }
    let target = match from_lisp(env, wanted)? {
        Value::Nil => limit.rlim_max,
        Value::Int(n) if n > 0 => (n as libc::rlim_t).min(limit.rlim_max),
        _ => return Err(env.wrong_type("natnump", wanted)),
    };
    if target > limit.rlim_cur {
        limit.rlim_cur = target;
        // SAFETY: setrlimit reads one rlimit struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(Failure::internal(&format!("setrlimit: {}", std::io::Error::last_os_error())));
        }
    }
    env.int(limit.rlim_cur.min(i64::MAX as libc::rlim_t) as i64)
}
