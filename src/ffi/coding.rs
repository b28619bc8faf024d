//! Coding systems at the C boundary: encoded sends, the process's coding systems, the
//! multibyte flag, and the context default.
//!
//! Text netproc hands a filter is either unibyte (the bytes as read) or multibyte: UTF-8,
//! where a byte B that could not be decoded appears as the two bytes 0xC0 | (B >> 6 & 1),
//! 0x80 | (B & 0x3F) — Emacs's own internal form of the raw-byte character, which never
//! occurs in valid UTF-8. netproc_process_filter_multibyte_p() called inside the filter
//! says which one the call carries.

use std::ffi::{c_char, CStr};

use super::boundary::{
    byte_slice, context_of, context_ref, ok_or_return, optional_input, out_ptr, process_ref,
};
use super::guard::{fail, fail_argument, guard};
use super::netproc_context;
use super::netproc_process;
use super::status::netproc_status::{self, *};
use super::value::{netproc_value, write_out};
use crate::core::coding::CodingSystem;

/// `process-send-string` with multibyte text: `text` (UTF-8, raw bytes in the two-byte form
/// above) is encoded through the process's encoding coding system, end-of-line conversion
/// included, then sent like netproc_process_send(), which instead sends unibyte bytes
/// (end-of-line conversion only). A length beyond PTRDIFF_MAX is NETPROC_E_INVALID.
///
/// Ownership: text is copied (encoded) before returning.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_send_text(
    process: *mut netproc_process,
    text: *const u8,
    length: usize,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_send_text";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = ok_or_return!(context_of(&process, FUNCTION));
        let bytes = ok_or_return!(unsafe { byte_slice(Some(&context), text, length, FUNCTION, "text") });
        super::guard::status_of_send(&context, context.send_text(&process, bytes))
    })
}

/// `process-coding-system`: a CONS (DECODING . ENCODING) of SYMBOLs (NIL for none). After
/// `undecided` has detected something, DECODING names what it found (e.g. utf-8-dos).
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_coding_system(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_process_coding_system";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        ok_or_return!(out_ptr(process.context().as_deref(), out, FUNCTION));
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &process.coding_system()) }
    })
}

/// `set-process-coding-system`: SYMBOL values naming coding systems, or NIL/NULL. As in
/// Emacs, ENCODING gets an end-of-line type (utf-8 becomes utf-8-unix, nil raw-text-unix).
/// An unknown name is NETPROC_E_CODING, (coding-system-error NAME), and changes nothing.
///
/// Ownership: the values are only read.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_coding_system(
    process: *mut netproc_process,
    decoding: *const netproc_value,
    encoding: *const netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_set_process_coding_system";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = ok_or_return!(context_of(&process, FUNCTION));
        let decoding = ok_or_return!(unsafe { optional_input(decoding, FUNCTION, "decoding") });
        let encoding = ok_or_return!(unsafe { optional_input(encoding, FUNCTION, "encoding") });
        match context.set_coding_system(&process, &decoding, &encoding) {
            Ok(()) => NETPROC_OK,
            Err(error) => fail(Some(&context), &error),
        }
    })
}

/// `process-filter-multibyte-p`. Inside a filter: whether the data of that call is
/// multibyte text (UTF-8 with raw-byte pairs) rather than unibyte bytes. Elsewhere: whether
/// the filter would get multibyte text now (false while the process has no socket).
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_process_filter_multibyte_p(process: *mut netproc_process) -> bool {
    guard(false, || match process_ref(process, "netproc_process_filter_multibyte_p") {
        Ok(process) => process.filter_multibyte_p(),
        Err(_) => false,
    })
}

/// `set-process-filter-multibyte`: false makes the filter get unibyte bytes (decoding
/// becomes the raw-text form, end-of-line conversion kept); true restores the decoding that
/// false replaced (which Emacs 28.2 cannot do).
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_set_process_filter_multibyte(
    process: *mut netproc_process,
    multibyte: bool,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_set_process_filter_multibyte";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = ok_or_return!(context_of(&process, FUNCTION));
        match context.set_filter_multibyte(&process, multibyte) {
            Ok(()) => NETPROC_OK,
            Err(error) => fail(Some(&context), &error),
        }
    })
}

/// The coding systems of processes made later without `:coding` (Emacs's
/// default-process-coding-system). The default is binary both ways: bytes pass unchanged.
///
/// Ownership: the values are only read.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_context_set_default_coding_system(
    ctx: *mut netproc_context,
    decoding: *const netproc_value,
    encoding: *const netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_context_set_default_coding_system";
        // SAFETY: the host passes a live context or NULL.
        let context = ok_or_return!(unsafe { context_ref(ctx, FUNCTION) });
        let decoding = ok_or_return!(unsafe { optional_input(decoding, FUNCTION, "decoding") });
        let encoding = ok_or_return!(unsafe { optional_input(encoding, FUNCTION, "encoding") });
        match context.set_default_coding_system(&decoding, &encoding) {
            Ok(()) => NETPROC_OK,
            Err(error) => fail(Some(&context), &error),
        }
    })
}

/// `check-coding-system`: NETPROC_OK if `name` (NUL-terminated) names a coding system
/// netproc knows (aliases and -unix/-dos/-mac variants included), else NETPROC_E_CODING
/// with (coding-system-error NAME).
///
/// Ownership: name is only read.
/// Lifetime:  n/a.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_check_coding_system(name: *const c_char) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        if name.is_null() {
            return fail_argument(None, NETPROC_E_NULL, "netproc_check_coding_system: name is NULL");
        }
        // SAFETY: not NULL; the host promises a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        match CodingSystem::from_name(&name) {
            Ok(_) => NETPROC_OK,
            Err(error) => fail(None, &error),
        }
    })
}
