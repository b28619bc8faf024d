//! Module functions for the process lifecycle and its simple accessors. Each takes process
//! objects only; netproc.el resolves Emacs's process designators (names, buffers, nil).

use std::time::Duration;

use super::boundary::{arg, Function};
use super::convert::{from_lisp, list_object, object, plist_argument, to_lisp};
use super::env::Env;
use super::error::{Failure, LispResult};
use super::global::global_of;
use super::host::EmacsHost;
use super::object::{lisp_process, output_count, process_arg, release_unlisted};
use super::state::Module;
use super::sys::emacs_value;
use crate::core::{reads_keyword, ExitStatus, Value};
use std::sync::Arc;

/// The functions of this file.
pub(crate) static FUNCTIONS: &[Function] = &[
    Function::new("netproc--init-channel", 1, Some(1), init_channel, c"Wake Emacs through PIPE-PROCESS."),
    Function::new(
        "netproc--wake-if-due",
        0,
        Some(0),
        wake_if_due,
        c"Wake Emacs through the channel if callbacks are due (after a JUST-THIS-ONE wait).",
    ),
    Function::new(
        "netproc--dispatch",
        0,
        Some(2),
        dispatch,
        c"Run due netproc callbacks; return how many ran. With LINGER, wait briefly for more.\nWith ONLY, a process, run its callbacks alone.\n\n(fn &optional LINGER ONLY)",
    ),
    Function::new(
        "netproc--make-network-process",
        0,
        None,
        make_network_process,
        c"Module side of make-network-process.",
    ),
    Function::new("netproc--delete-process", 1, Some(1), delete_process, c"Module side of delete-process."),
    Function::new("netproc--process-status", 1, Some(1), process_status, c"Module side of process-status."),
    Function::new("netproc--process-live-p", 1, Some(1), process_live_p, c"Module side of process-live-p."),
    Function::new(
        "netproc--process-exit-status",
        1,
        Some(1),
        exit_status,
        c"Module side of process-exit-status.",
    ),
    Function::new("netproc--process-name", 1, Some(1), process_name, c"Module side of process-name."),
    Function::new("netproc--process-buffer", 1, Some(1), process_buffer, c"Module side of process-buffer."),
    Function::new(
        "netproc--set-process-buffer",
        2,
        Some(2),
        set_process_buffer,
        c"Module side of set-process-buffer.",
    ),
    Function::new("netproc--process-filter", 1, Some(1), process_filter, c"Module side of process-filter."),
    Function::new(
        "netproc--set-process-filter",
        2,
        Some(2),
        set_process_filter,
        c"Module side of set-process-filter.",
    ),
    Function::new(
        "netproc--process-sentinel",
        1,
        Some(1),
        process_sentinel,
        c"Module side of process-sentinel.",
    ),
    Function::new(
        "netproc--set-process-sentinel",
        2,
        Some(2),
        set_process_sentinel,
        c"Module side of set-process-sentinel.",
    ),
    Function::new("netproc--process-plist", 1, Some(1), process_plist, c"Module side of process-plist."),
    Function::new(
        "netproc--set-process-plist",
        2,
        Some(2),
        set_process_plist,
        c"Module side of set-process-plist.",
    ),
    Function::new("netproc--stop-process", 1, Some(1), stop_process, c"Module side of stop-process."),
    Function::new(
        "netproc--continue-process",
        1,
        Some(1),
        continue_process,
        c"Module side of continue-process.",
    ),
    Function::new("netproc--process-list", 0, Some(0), process_list, c"Module side of process-list."),
    Function::new(
        "netproc--get-process",
        1,
        Some(1),
        get_process,
        c"Module side of get-process (a string NAME).",
    ),
    Function::new(
        "netproc--process-query-on-exit-flag",
        1,
        Some(1),
        query_flag,
        c"Module side of process-query-on-exit-flag.",
    ),
    Function::new(
        "netproc--set-process-query-on-exit-flag",
        2,
        Some(2),
        set_query_flag,
        c"Module side of set-process-query-on-exit-flag.",
    ),
    Function::new(
        "netproc--output-count",
        1,
        Some(1),
        output_count_of,
        c"How many filter calls PROCESS has had.",
    ),
    Function::new(
        "netproc--in-callback-p",
        0,
        Some(0),
        in_callback_p,
        c"Whether a netproc callback is running (netproc cannot pump from inside one).",
    ),
    Function::new(
        "netproc--process-p",
        1,
        Some(1),
        process_p,
        c"Whether OBJECT is a live netproc process object.",
    ),
    Function::new(
        "netproc--connect-attempt-delay",
        0,
        Some(0),
        connect_attempt_delay,
        c"Happy Eyeballs' delay between connect attempts, in milliseconds.",
    ),
    Function::new(
        "netproc--set-connect-attempt-delay",
        1,
        Some(1),
        set_connect_attempt_delay,
        c"Let connects made from now wait MILLISECONDS (a natural number) between attempts.",
    ),
];

fn init_channel(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let fd = env.open_channel(arg(env, args, 0)?)?;
    module
        .open_channel(fd)
        .map_err(|err| Failure::internal(&format!("cannot start the watcher thread: {err}")))?;
    env.t()
}

/// How long a dispatch woken by the watcher waits for each further event.
const LINGER: Duration = Duration::from_millis(1);
/// The longest one dispatch goes on delivering (checked between callbacks) before it gives
/// Emacs's loop its turn: timers, input, redisplay, Emacs's own processes. The rest stays
/// queued, in order, and the channel is rung, so that the next slice comes as soon as that
/// turn is over. Short enough that a 10 ms timer keeps its time while a stream pours in
/// (issue 14, item 5: 10 ms and more made it 20 ms late), long enough that the round trip
/// through Emacs's loop (tens of microseconds) costs little throughput. A slice also ends
/// when a timer is due, and delivers nothing just before one when a garbage collection is
/// near (timer_guard.rs).
const SLICE: Duration = Duration::from_millis(1);

fn dispatch(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    // A callback that waits for output cannot pump netproc again (the core's rule); the
    // outer dispatch delivers the rest when the callback returns.
    if module.shared().in_callback() {
        return env.int(0);
    }
    let mut host = EmacsHost::for_dispatch(env, module, SLICE);
    // C-g: deliver nothing more until Emacs has handled the quit (it does so as soon as
    // the channel's filter returns); the watcher wakes us again afterwards.
    if host.quit_pending() {
        if let Some(channel) = module.channel() {
            channel.rearm();
            // Events deferred by the quit must not wait for new network activity.
            if module.has_deferred() {
                channel.wake();
            }
        }
        return env.int(0);
    }
    // Events a quit held back come first; a new quit while they run holds the rest again.
    let flushed = host.flush_deferred();
    // ONLY (accept-process-output with JUST-THIS-ONE): that process's callbacks alone; the
    // others wait in order, and there is no lingering for more.
    let only = match args.get(1) {
        Some(&value) if env.is_not_nil(value) => Some(process_arg(env, value)?),
        _ => None,
    };
    if only.is_none() {
        host.guard_timers();
    }
    let shared = module.shared();
    // What an earlier slice left queued goes before anything new is read, so that the queue
    // never holds more than one turn's reads however slow the filters are.
    // Held back for a timer from the start: nothing is read either (the guard window is
    // a few milliseconds; what waits is read after the timer).
    let held_from_start = host.holding_for_timer();
    let mut polled = if module.has_deferred() || host.slice_over() || held_from_start {
        Ok(0)
    } else if shared.has_queued(only.as_ref()) {
        shared.deliver_queued(only.as_ref(), &mut host)
    } else {
        match &only {
            Some(process) => shared.poll_for(process, Some(Duration::ZERO), &mut host),
            None => shared.poll(Some(Duration::ZERO), &mut host),
        }
    };
    // Woken by the watcher with events flowing: stay a little for the next ones instead
    // of going back through the wake-up round trip (two threads, a pipe, Emacs's select)
    // for each, which is most of the cost of a small event. Bounded: each wait is short,
    // and it stops when the slice is over, a wait brings nothing, something is left
    // queued, a quit is pending, or a callback failed.
    let linger = only.is_none() && args.first().is_some_and(|&value| env.is_not_nil(value));
    if linger && matches!(polled, Ok(n) if n > 0) {
        while !host.slice_over()
            && !host.holding_for_timer()
            && !host.has_failure()
            && !module.has_deferred()
            && !shared.has_queued(None)
            && !host.quit_pending()
        {
            match shared.poll(Some(LINGER), &mut host) {
                Ok(0) => break,
                Ok(n) => polled = polled.map(|total| total + n),
                Err(err) => {
                    polled = Err(err);
                    break;
                }
            }
        }
    }
    release_unlisted(module);
    // Wait for the timer only when the hold kept something back: arrivals queued, or
    // readiness the watcher announced (it woke this dispatch) and the hold left unread.
    let woken = args.first().is_some_and(|&value| env.is_not_nil(value));
    if host.holding_for_timer() && (shared.has_queued(only.as_ref()) || (held_from_start && woken)) {
        host.wait_for_held_timer();
    }
    if let Some(channel) = module.channel() {
        // Deferred events, what a slice left queued, or events the watcher read ahead
        // during this dispatch, must not wait for new network activity: ring the channel
        // now. The byte brings Emacs back here, whose end rearms the watcher; rearming it
        // now as well would only wake its thread to ring again, a context switch per slice
        // on a busy machine.
        // With ONLY, the others' due callbacks wait for the next pump, which
        // `netproc--wake-if-due' calls for once the JUST-THIS-ONE wait is over: a wake now
        // would bring Emacs straight back here, busily, for the length of that wait.
        let others_due = only.is_none() && module.shared().next_timeout() == Some(Duration::ZERO);
        if module.has_deferred() || others_due {
            channel.wake();
        } else {
            channel.rearm();
        }
    }
    host.finish()?;
    env.int((flushed + polled?) as i64)
}

fn wake_if_due(env: &Env, module: &Module, _: &[emacs_value]) -> LispResult<emacs_value> {
    if let Some(channel) = module.channel() {
        if module.has_deferred() || module.shared().next_timeout() == Some(Duration::ZERO) {
            channel.wake();
        }
    }
    env.nil()
}

/// A filter or sentinel argument: nil, t, and the default's own symbol mean the default.
fn callback_arg(env: &Env, value: emacs_value, default: &str) -> LispResult<Value> {
    if env.eq(value, env.intern(default)?) {
        return Ok(Value::Nil);
    }
    object(env, value)
}

fn connect_attempt_delay(env: &Env, module: &Module, _args: &[emacs_value]) -> LispResult<emacs_value> {
    let delay = module.shared().settings().connect_attempt_delay;
    env.int(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
}

fn set_connect_attempt_delay(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    let millis = match from_lisp(env, value)? {
        Value::Int(millis) if millis >= 0 => millis as u64,
        other => return Err(crate::core::Error::wrong_type("natnump", &other).into()),
    };
    module
        .shared()
        .update_settings(|settings| settings.connect_attempt_delay = Duration::from_millis(millis));
    Ok(value)
}

/// A number of seconds for the core: a float becomes Emacs's `(TICKS . HZ)` in
/// microseconds (`time-convert`), which the core reads; the core has no floats.
fn seconds_argument(env: &Env, value: emacs_value) -> LispResult<Value> {
    if env.is_not_nil(env.call("floatp", &[value])?) {
        return from_lisp(env, env.call("time-convert", &[value, env.int(1_000_000)?])?);
    }
    from_lisp(env, value)
}

fn make_network_process(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let mut pairs = Vec::with_capacity(args.len() / 2 + 1);
    for pair in args.chunks(2) {
        let key = from_lisp(env, pair[0])?;
        let value = match pair.get(1) {
            None => Value::Nil,
            Some(&value) => match key.as_symbol() {
                Some(":filter") => callback_arg(env, value, "internal-default-process-filter")?,
                Some(":sentinel") => callback_arg(env, value, "internal-default-process-sentinel")?,
                Some(":log" | ":drain") => object(env, value)?,
                Some(":plist") => plist_argument(env, value)?,
                Some(":connect-timeout" | ":attempt-delay") => seconds_argument(env, value)?,
                // What the core only keeps comes back `eq`, as from Emacs's contact plist.
                Some(key) if !reads_keyword(key) => object(env, value)?,
                _ => from_lisp(env, value)?,
            },
        };
        pairs.push((key, value));
    }
    let mut host = EmacsHost::new(env, module);
    let made = module.shared().make_network_process(pairs, &mut host);
    host.finish()?;
    match made? {
        Some(process) => lisp_process(env, &process),
        None => env.nil(),
    }
}

fn delete_process(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let mut host = EmacsHost::new(env, module);
    // The core's delete runs Emacs's notify pass too, for every boundary.
    let deleted = module.shared().delete_process(&process, &mut host);
    module.note_status_change(&process);
    host.finish()?;
    deleted?;
    release_unlisted(module);
    env.nil()
}

fn process_status(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    env.intern(process_arg(env, arg(env, args, 0)?)?.status().name())
}

fn process_live_p(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    if !env.type_is(value, "netproc-process")? {
        return env.nil();
    }
    let tail = process_arg(env, value)?.status().live_tail();
    let items = tail.iter().map(|status| env.intern(status.name())).collect::<LispResult<Vec<_>>>()?;
    env.list(&items)
}

fn exit_status(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    match process_arg(env, arg(env, args, 0)?)?.exit_status() {
        ExitStatus::Code(code) => env.int(i64::from(code)),
        ExitStatus::Message(message) => env.string(message.as_bytes()),
    }
}

fn process_name(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    env.string(process_arg(env, arg(env, args, 0)?)?.name())
}

fn process_buffer(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &process_arg(env, arg(env, args, 0)?)?.buffer())
}

fn set_process_buffer(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let buffer = arg(env, args, 1)?;
    module.shared().set_buffer(&process, object(env, buffer)?)?;
    Ok(buffer)
}

fn process_filter(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &process_arg(env, arg(env, args, 0)?)?.filter())
}

fn set_process_filter(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let filter = arg(env, args, 1)?;
    module.shared().set_filter(&process, callback_arg(env, filter, "internal-default-process-filter")?)?;
    // As Emacs's Fset_process_filter: the function installed, the default one for nil.
    installed(env, filter, "internal-default-process-filter")
}

fn process_sentinel(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    to_lisp(env, &process_arg(env, arg(env, args, 0)?)?.sentinel())
}

fn set_process_sentinel(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let sentinel = arg(env, args, 1)?;
    module
        .shared()
        .set_sentinel(&process, callback_arg(env, sentinel, "internal-default-process-sentinel")?)?;
    installed(env, sentinel, "internal-default-process-sentinel")
}

/// What a setter of a process function returns: `value`, or for nil the default function
/// `default` that nil stands for.
fn installed(env: &Env, value: emacs_value, default: &str) -> LispResult<emacs_value> {
    if env.is_not_nil(value) {
        Ok(value)
    } else {
        env.intern(default)
    }
}

/// `process-plist`: the list itself, as `set-process-plist` stored it. A plist shared with
/// other holders (the contact's `:plist`, a server and the connections it accepted) is
/// first copied for this process alone, as Emacs copies the spine when it makes the
/// process (`Fcopy_sequence` in make-network-process and server_accept_connection), so
/// that `process-put` on one never changes another's.
fn process_plist(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let plist = process.plist();
    if let (Value::Host(object), Some(global)) = (&plist, global_of(&plist)) {
        // `plist` and the process hold one reference each; any more are other holders.
        if Arc::strong_count(object) > 2 {
            let copy = env.call("copy-sequence", &[global.value()])?;
            module.shared().set_plist(&process, list_object(env, copy)?)?;
            return Ok(copy);
        }
        return Ok(global.value());
    }
    to_lisp(env, &plist)
}

fn set_process_plist(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let process = process_arg(env, arg(env, args, 0)?)?;
    let plist = arg(env, args, 1)?;
    // netproc-set-process-plist checked `listp`; a circular or dotted list, which
    // Emacs's set-process-plist takes too, is kept as itself like any other.
    let kept = if env.is_not_nil(env.call("consp", &[plist])?) {
        list_object(env, plist)?
    } else {
        from_lisp(env, plist)?
    };
    module.shared().set_plist(&process, kept)?;
    Ok(plist)
}

fn stop_process(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    module.shared().stop_process(&process_arg(env, value)?)?;
    Ok(value)
}

fn continue_process(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    module.shared().continue_process(&process_arg(env, value)?)?;
    Ok(value)
}

fn process_list(env: &Env, module: &Module, _args: &[emacs_value]) -> LispResult<emacs_value> {
    let items = module
        .shared()
        .process_list()
        .iter()
        .map(|p| lisp_process(env, p))
        .collect::<LispResult<Vec<_>>>()?;
    env.list(&items)
}

fn get_process(env: &Env, module: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let name = env.string_bytes(arg(env, args, 0)?)?;
    match module.shared().get_process(&name) {
        Some(process) => lisp_process(env, &process),
        None => env.nil(),
    }
}

fn query_flag(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    env.boolean(process_arg(env, arg(env, args, 0)?)?.query_on_exit())
}

fn set_query_flag(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let flag = arg(env, args, 1)?;
    process_arg(env, arg(env, args, 0)?)?.set_query_on_exit(env.is_not_nil(flag));
    Ok(flag)
}

fn output_count_of(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    env.int(output_count(&process_arg(env, arg(env, args, 0)?)?) as i64)
}

fn process_p(env: &Env, _: &Module, args: &[emacs_value]) -> LispResult<emacs_value> {
    let value = arg(env, args, 0)?;
    env.boolean(env.type_is(value, "netproc-process")? && process_arg(env, value).is_ok())
}

fn in_callback_p(env: &Env, module: &Module, _args: &[emacs_value]) -> LispResult<emacs_value> {
    env.boolean(module.shared().in_callback())
}
