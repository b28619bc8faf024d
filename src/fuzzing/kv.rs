//! The `keyword_values` target: arbitrary keyword/value arrays through the real C entry
//! point netproc_make_network_process, with every shape of value C can express, NULLs and
//! short counts included, then the process calls that decode values too.

use std::ffi::{c_char, CString};

use super::input::{node, well_formed, Input, Node};
use super::lower::Arena;
use super::sandbox::{confine, sink, Footprint};
use super::{assert_error_recorded, assert_plist, take_value};
use crate::ffi::context::{netproc_context_free, netproc_context_new, netproc_poll};
use crate::ffi::process::*;
use crate::ffi::status::netproc_status::{self, *};
use crate::ffi::value::*;
use crate::ffi::{netproc_context, netproc_process};

/// Keywords make-network-process knows, and a few it does not.
const KEYS: &[&str] = &[
    ":name",
    ":type",
    ":server",
    ":nowait",
    ":host",
    ":service",
    ":family",
    ":local",
    ":remote",
    ":buffer",
    ":coding",
    ":filter",
    ":sentinel",
    ":log",
    ":plist",
    ":stop",
    ":noquery",
    ":filter-multibyte",
    ":tls-parameters",
    ":linger",
    ":keepalive",
    ":reuseaddr",
    ":broadcast",
    ":dontroute",
    ":oobinline",
    ":priority",
    ":bindtodevice",
    ":use-external-socket",
    "name",
    "",
];

/// A key: one of [`KEYS`], NULL (`None`), or arbitrary bytes (cut at a NUL, as C would see
/// them).
fn key(input: &mut Input<'_>) -> Option<Vec<u8>> {
    let pick = input.byte() as usize;
    if pick < KEYS.len() * 6 {
        return Some(KEYS[pick % KEYS.len()].as_bytes().to_vec());
    }
    if pick == 255 {
        return None;
    }
    let bytes = input.bytes(16);
    Some(bytes.split(|b| *b == 0).next().unwrap_or(&[]).to_vec())
}

/// Where and how the decoder must refuse the arguments: the first NULL key or malformed
/// value, in argument order.
fn expected_refusal(args: &[(Option<Vec<u8>>, Node)]) -> Option<(usize, netproc_status)> {
    args.iter().enumerate().find_map(|(at, (key, value))| match key {
        None => Some((at, NETPROC_E_NULL)),
        Some(_) if !well_formed(value, 0) => Some((at, NETPROC_E_INVALID)),
        Some(_) => None,
    })
}

/// Run one input; panics on a broken invariant.
pub fn keyword_values(data: &[u8]) {
    let sink = sink();
    let before = Footprint::now();
    run(&mut Input::new(data), sink.port != 0);
    sink.drain();
    before.assert_restored("keyword_values");
}

fn run(input: &mut Input<'_>, have_sink: bool) {
    let mode = input.byte();
    let garbage = mode & 0x10 != 0;
    let count = input.below(9);
    let mut args: Vec<(Option<Vec<u8>>, Node)> =
        (0..count).map(|_| (key(input), node(input, 0, true))).collect();
    if !have_sink {
        return;
    }
    confine(&mut args, sink());

    let mut arena = Arena::default();
    let keys: Vec<Option<CString>> =
        args.iter().map(|(k, _)| k.as_ref().map(|k| CString::new(k.clone()).unwrap_or_default())).collect();
    let c_args: Vec<netproc_arg> = args
        .iter()
        .zip(&keys)
        .map(|((_, value), key)| netproc_arg {
            key: key.as_ref().map_or(std::ptr::null(), |k| k.as_ptr()),
            value: arena.lower(value, garbage),
        })
        .collect();

    let mut ctx: *mut netproc_context = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { netproc_context_new(&mut ctx) }, NETPROC_OK);

    // Now and then a NULL context, out-pointer or array, or fewer arguments than built
    // (a shorter count is legal: the host owns more than it passes).
    let (pass_ctx, pass_out, pass_args, passed) = match mode % 8 {
        1 => (std::ptr::null_mut(), true, true, count),
        2 => (ctx, false, true, count),
        3 if count > 0 => (ctx, true, false, count),
        4 => (ctx, true, true, count / 2),
        _ => (ctx, true, true, count),
    };
    let expected = if pass_ctx.is_null() || !pass_out || !pass_args {
        Some((0, NETPROC_E_NULL))
    } else {
        expected_refusal(&args[..passed])
    };
    let mut process: *mut netproc_process = std::ptr::null_mut();
    // SAFETY: every pointer is NULL or valid for what the call reads; the arena outlives it.
    let status = unsafe {
        netproc_make_network_process(
            pass_ctx,
            if pass_args { c_args.as_ptr() } else { std::ptr::null() },
            passed,
            if pass_out { &mut process } else { std::ptr::null_mut() },
        )
    };
    assert_ne!(status, NETPROC_E_PANIC, "make-network-process panicked");
    match expected {
        Some((_, refusal)) if status == refusal => {}
        Some((at, refusal)) => {
            // An earlier argument may be refused on its own terms (a function slot holding
            // something else): then the arguments before the bad one fail just the same.
            assert_eq!(status, NETPROC_E_WRONG_TYPE, "expected {refusal:?} at argument {at}: {args:?}");
            let message = last_message(ctx);
            let mut again: *mut netproc_process = std::ptr::null_mut();
            // SAFETY: as above, with the well-formed prefix only.
            let prefix = unsafe { netproc_make_network_process(ctx, c_args.as_ptr(), at, &mut again) };
            assert_eq!((prefix, last_message(ctx)), (status, message), "prefix of {args:?}");
        }
        None => assert!(
            !matches!(status, NETPROC_E_NULL | NETPROC_E_INVALID),
            "well-formed arguments refused with {status:?}: {args:?}"
        ),
    }
    if status != NETPROC_OK {
        assert!(process.is_null(), "out written on failure");
        assert_error_recorded(if pass_ctx.is_null() { std::ptr::null_mut() } else { ctx }, status);
    } else if passed == 0 {
        assert!(process.is_null(), "an empty argument list makes no process");
    } else {
        assert!(!process.is_null(), "success without a process");
        // SAFETY: a live handle we own, on its context's thread.
        unsafe { exercise(ctx, process, input, &mut arena, garbage) };
    }
    // SAFETY: ctx came from netproc_context_new and is freed once.
    assert_eq!(unsafe { netproc_context_free(ctx) }, NETPROC_OK);
}

fn last_message(ctx: *mut netproc_context) -> Vec<u8> {
    let mut message = std::ptr::null();
    // SAFETY: a live context and a valid out-pointer; the message is copied at once.
    unsafe {
        crate::ffi::context::netproc_last_error(
            ctx,
            std::ptr::null_mut(),
            &mut message,
            std::ptr::null_mut(),
        );
        std::ffi::CStr::from_ptr(message).to_bytes().to_vec()
    }
}

/// The calls on a process that decode values or hand them out.
unsafe fn exercise(
    ctx: *mut netproc_context,
    process: *mut netproc_process,
    input: &mut Input<'_>,
    arena: &mut Arena,
    garbage: bool,
) {
    unsafe {
        let status = netproc_process_status(process);
        assert!(!status.is_null());
        let mut out = netproc_nil();
        assert_eq!(netproc_process_contact(process, c"t".as_ptr(), false, &mut out), NETPROC_OK);
        assert_plist(&take_value(&mut out));
        assert_eq!(netproc_process_contact(process, std::ptr::null(), false, &mut out), NETPROC_OK);
        let host_service = take_value(&mut out);
        assert!(
            matches!(&host_service, crate::core::Value::List(items) if items.len() == 2),
            "(process-contact p) is {host_service}"
        );

        let query =
            CString::new(input.bytes(12).split(|b| *b == 0).next().unwrap_or(&[])).unwrap_or_default();
        assert_eq!(netproc_process_contact(process, query.as_ptr(), input.flag(), &mut out), NETPROC_OK);
        drop(take_value(&mut out));

        let plist = node(input, 0, true);
        let lowered = arena.lower(&plist, garbage);
        let status = netproc_set_process_plist(process, &lowered);
        if well_formed(&plist, 0) {
            // A non-list is Emacs's (wrong-type-argument listp …).
            assert!(
                matches!(status, NETPROC_OK | NETPROC_E_WRONG_TYPE),
                "set-process-plist {plist:?}: {status:?}"
            );
        } else {
            assert_eq!(status, NETPROC_E_INVALID, "set-process-plist {plist:?}");
        }
        if status != NETPROC_OK {
            assert_error_recorded(ctx, status);
        } else {
            assert_eq!(netproc_process_plist(process, &mut out), NETPROC_OK);
            drop(take_value(&mut out));
        }

        let option = CString::new(super::kv::key(input).unwrap_or_default()).unwrap_or_default();
        let value = node(input, 0, true);
        let lowered = arena.lower(&value, garbage);
        let mut applied = false;
        let status = netproc_set_network_process_option(
            process,
            option.as_ptr() as *const c_char,
            &lowered,
            true,
            &mut applied,
        );
        assert_ne!(status, NETPROC_E_PANIC);
        if !well_formed(&value, 0) {
            assert_eq!(status, NETPROC_E_INVALID, "option value {value:?}");
        }
        if status != NETPROC_OK {
            assert_error_recorded(ctx, status);
        }

        // Let callbacks run once (open/failed sentinels, a nowait connect's result).
        assert!(netproc_poll(ctx, 0) >= 0);
        assert_eq!(netproc_delete_process(process), NETPROC_OK);
        netproc_process_free(process);
    }
}
