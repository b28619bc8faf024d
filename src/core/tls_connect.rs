//! TLS at `make-network-process`: the parameters read and checked before anything is
//! opened, the name the certificate must carry, and the handshake of a blocking connect,
//! which, as in Emacs, finishes (or fails) before the create call returns.

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::contact::Contact;
use super::error::{Error, Result};
use super::link::Link;
use super::process::State;
use super::socket::SocketKind;
use super::tls::{server_config, Broken, ServerTls, TlsParams, TlsSession};
use super::value::Value;

/// What `:tls-parameters` asks of a new process.
pub(crate) enum TlsRequest {
    /// A client: the session to start once connected.
    Client(Box<TlsSession>),
    /// A server: what its connections' handshakes use.
    Server(ServerTls),
}

impl TlsRequest {
    /// Give the new process what was asked: a client its session (started once
    /// connected), a server its configuration. Returns whether it is a client.
    pub(crate) fn apply(self, state: &mut State) -> bool {
        match self {
            TlsRequest::Server(config) => {
                state.set_tls_server(config);
                false
            }
            TlsRequest::Client(session) => {
                state.link.start_tls(session, 0);
                true
            }
        }
    }
}

/// Read `:tls-parameters` (nil: no TLS). `host` is the `:host` as given, for the name to
/// check when `:hostname` is not given; a connection with neither (a unix socket) must
/// name one, since a certificate can only be checked against a name.
pub(crate) fn tls_request(
    value: &Value,
    kind: SocketKind,
    server: bool,
    host: &str,
) -> Result<Option<TlsRequest>> {
    if !value.is_list() {
        return Err(Error::wrong_type("listp", value));
    }
    let Some(params) = TlsParams::from_value(value)? else { return Ok(None) };
    if kind != SocketKind::Stream {
        return Err(Error::msg("TLS needs a stream connection (:type nil)"));
    }
    if server {
        return Ok(Some(TlsRequest::Server(server_config(&params)?)));
    }
    let hostname = match (&params.hostname, host) {
        (Some(name), _) => name.clone(),
        (None, "") => {
            return Err(Error::msg("A TLS connection without :host needs :hostname in :tls-parameters"))
        }
        (None, host) => host.to_owned(),
    };
    Ok(Some(TlsRequest::Client(Box::new(TlsSession::client(&params, &hostname)?))))
}

/// Run a blocking connect's handshake to its end, waiting in poll(2) at most `timeout`.
/// A failure is the error `make-network-process` signals, naming its reason.
pub(crate) fn handshake_now(state: &mut State, timeout: Duration) -> Result<()> {
    handshake_on(&mut state.link, timeout)?;
    if let Some(tls) = state.link.tls() {
        note_negotiated(&mut state.contact, tls);
    }
    Ok(())
}

fn handshake_on(link: &mut Link, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let pushed = link.push_tls().map_err(|err| broken(Broken::Socket(err)))?;
        let Some((socket, tls)) = link.socket_and_tls() else {
            return Err(Error::msg("TLS handshake failed: no connection"));
        };
        let more = tls.receive(socket).map_err(broken)?;
        if tls.take_established() {
            link.push_tls().map_err(|err| broken(Broken::Socket(err)))?;
            return Ok(());
        }
        if more {
            continue;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::msg(format!(
                "TLS handshake timed out after {} seconds",
                timeout.as_secs_f64()
            )));
        }
        let events = if pushed { libc::POLLIN } else { libc::POLLIN | libc::POLLOUT };
        wait(socket.as_raw_fd(), events, left).map_err(|err| broken(Broken::Socket(err)))?;
    }
}

/// After a handshake: the contact says what was negotiated (`:tls-protocol`, and `:alpn`
/// when a protocol was agreed).
pub(crate) fn note_negotiated(contact: &mut Contact, tls: &TlsSession) {
    let (protocol, alpn) = tls.negotiated();
    contact.put(":tls-protocol", Value::string(protocol));
    if let Some(alpn) = alpn {
        contact.put(":alpn", Value::string(alpn));
    }
}

fn broken(broken: Broken) -> Error {
    match broken {
        Broken::Tls(message) => Error::msg(message),
        Broken::Socket(err) => Error::file("TLS handshake failed", &err, vec![]),
    }
}

/// Wait until the descriptor is ready for `events`, or `left` passed; a signal only
/// shortens the wait.
fn wait(fd: i32, events: i16, left: Duration) -> io::Result<()> {
    let mut waiting = libc::pollfd { fd, events, revents: 0 };
    let millis = i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd, for the length we pass.
    let rc = unsafe { libc::poll(&mut waiting, 1, millis) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(())
}
