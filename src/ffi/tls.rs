//! TLS on a process: STARTTLS (Emacs's `gnutls-negotiate`), the peer's status
//! (`gnutls-peer-status`), and what netproc's TLS offers (`gnutls-available-p`). A TLS
//! connection from the start is a `:tls-parameters` keyword of
//! netproc_make_network_process(); its handshake timeout is the context's
//! (netproc_context_set_tls_handshake_timeout()).

use super::boundary::{context_of, input, ok_or_return, out_ptr, process_ref};
use super::guard::{guard, status_of};
use super::netproc_process;
use super::status::netproc_status::{self, *};
use super::value::{netproc_value, write_out};
use crate::core::tls_available;

/// `gnutls-negotiate`: upgrade the open stream connection `process` to TLS in place
/// (STARTTLS). `params` is a `:tls-parameters` value, `(gnutls-x509pki KEY VALUE ...)`,
/// as netproc_make_network_process() takes it: `:hostname` (default: the connection's
/// `:host`), `:trustfiles` or `:trust-pem`, `:crlfiles`, `:keylist` or `:cert-pem` with
/// `:key-pem`, `:verify-error`, `:verify-flags`, `:priority`, `:alpn`. A client checks the
/// server's certificate; a connection a server accepted becomes the TLS server, and needs
/// a certificate and key.
///
/// The call does not wait: it checks the parameters, starts the handshake and returns.
/// Bytes queued before the call still go out in the clear, ahead of the handshake; bytes
/// sent after it wait for the handshake and go out encrypted, so a host may go on talking
/// at once. The handshake ends within the context's TLS handshake timeout: once it is done,
/// netproc_gnutls_peer_status() gives non-NIL; if it fails, the connection closes with
/// status "failed", one sentinel "failed with code MESSAGE\n", and
/// netproc_process_exit_status() gives the MESSAGE (never back to plaintext).
///
/// Fails with NETPROC_E_ERROR for a process that is not an open stream connection, one
/// that already uses TLS, or parameters netproc cannot use (a server side without a
/// certificate, "gnutls-anon"); NETPROC_E_WRONG_TYPE for a malformed value
/// (`wrong-type-argument`, as Emacs's `gnutls-boot` signals it); NETPROC_E_FILE for a file
/// named in `params` that cannot be read. Nothing changes on failure.
///
/// Ownership: *params is only read.
/// Lifetime:  n/a.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_gnutls_negotiate(
    process: *mut netproc_process,
    params: *const netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_gnutls_negotiate";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        let context = ok_or_return!(context_of(&process, FUNCTION));
        // SAFETY: the host passes NULL or a valid value.
        let params = ok_or_return!(unsafe { input(Some(&context), params, FUNCTION, "params") });
        status_of(&context, context.negotiate_tls(&process, &params))
    })
}

/// `gnutls-peer-status`: NIL unless the process has a TLS session whose handshake is done
/// (a plain connection, a server, a handshake still running, a connection closed: NIL).
/// Otherwise the plist Emacs's `gnutls-peer-status` gives, in GnuTLS's words:
/// `:warnings` (a LIST of SYMBOLs such as ":expired", when the certificate checks found
/// problems that `:verify-error` did not make fatal), `:certificates` (the peer's chain,
/// its own certificate first; each a plist `:version :serial-number :issuer :valid-from
/// :valid-to :subject :public-key-algorithm :certificate-security-level
/// :signature-algorithm :public-key-id :certificate-id :pem`) and `:certificate` (the
/// first of them), both absent when the peer sent no certificate; then `:key-exchange`,
/// `:protocol`, `:cipher`, `:mac`, `:encrypt-then-mac` and, below TLS 1.3,
/// `:safe-renegotiation`.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    context thread only, else refused with NETPROC_E_WRONG_THREAD; any thread
///            once the context is freed.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_gnutls_peer_status(
    process: *mut netproc_process,
    out: *mut netproc_value,
) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        const FUNCTION: &str = "netproc_gnutls_peer_status";
        let process = ok_or_return!(process_ref(process, FUNCTION));
        ok_or_return!(out_ptr(process.context().as_deref(), out, FUNCTION));
        let status = process.tls_peer_status();
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &status) }
    })
}

/// `gnutls-available-p`: what netproc's TLS offers, as a LIST of SYMBOLs in the shape
/// Emacs gives: the TLS extensions netproc uses, as GnuTLS names them ("ALPN", "Server
/// Name Indication", ...), then `gnutls`. Without the entries that announce Emacs's GnuTLS
/// crypto functions (`gnutls3`, `digests`, `ciphers`, `AEAD-ciphers`, `macs`), which netproc
/// does not have.
///
/// Ownership: caller owns *out; release it with netproc_value_free().
/// Lifetime:  until released.
/// Thread:    any.
/// Since:     0.2
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netproc_gnutls_available_p(out: *mut netproc_value) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        ok_or_return!(out_ptr(None, out, "netproc_gnutls_available_p"));
        // SAFETY: checked not NULL.
        unsafe { write_out(out, &tls_available()) }
    })
}
