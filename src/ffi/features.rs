//! `(featurep 'make-network-process …)`: the subfeatures netproc supports, as a list and
//! as a question. Needs no context.

use super::boundary::{ok_or_return, optional_input, out_ptr};
use super::guard::guard;
use super::status::netproc_status::{self, *};
use super::value::{netproc_value, write_out};
use crate::core::interfaces;

/// The subfeatures of make-network-process, as Emacs lists them: the option keywords
/// (netproc's own among them) and (:server t) (:service t) (:family ipv6) (:family ipv4)
/// (:family local) (:type seqpacket) (:type datagram) (:nowait t); then the framings:
/// (:framing line) (:framing content-length) (:framing length-prefix).
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_network_features(out: *mut netproc_value) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        ok_or_return!(out_ptr(None, out, "netproc_network_features"));
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &interfaces::network_features()) }
    })
}

/// `(featurep 'make-network-process SUBFEATURE)`: `subfeature` NULL or NIL asks about the
/// feature itself (true); a SYMBOL such as ":keepalive" about an option; a LIST such as
/// (:family ipv6) about a capability.
///
/// Ownership: *subfeature is only read; *result is the caller's.
/// Lifetime:  n/a.
/// Thread:    any.
/// Since:     0.1
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_network_featurep(
    subfeature: *const netproc_value,
    result: *mut bool,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_network_featurep";
        let subfeature = ok_or_return!(unsafe { optional_input(subfeature, FUNCTION, "subfeature") });
        ok_or_return!(out_ptr(None, result, FUNCTION));
        // SAFETY: checked not NULL.
        unsafe { result.write(interfaces::network_featurep(&subfeature)) };
        NETPROC_OK
    })
}
