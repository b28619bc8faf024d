//! `gnutls-negotiate` (STARTTLS): an open plain connection upgraded to TLS in place,
//! without waiting. Emacs's `gnutls-negotiate` blocks its caller for the whole handshake;
//! here the handshake runs in the reactor (tls_io.rs) and the call returns at once.
//! Bytes queued before the call still go out in the clear, ahead of the handshake; bytes
//! sent after it wait and go out encrypted once the handshake is done, so a caller that
//! goes on talking right after the call (as `network-stream-open-starttls` does) talks
//! TLS. A failed handshake closes the connection: status `failed`, one sentinel
//! `"failed with code MESSAGE\n"` — never back to plaintext.

use super::context::Shared;
use super::error::{Error, Result};
use super::process::{ProcRef, Role};
use super::socket::SocketKind;
use super::tls::{server_config, TlsParams, TlsSession};
use super::value::Value;

impl Shared {
    /// Upgrade `process` to TLS with `params` (a `:tls-parameters` value). A client checks
    /// the server's certificate against `:hostname` (or the connection's `:host`); a
    /// connection a server accepted is the TLS server, with `:keylist` or `:cert-pem` and
    /// `:key-pem`.
    pub fn negotiate_tls(&self, process: &ProcRef, params: &Value) -> Result<()> {
        self.check_usable()?;
        let mut core = self.core.lock();
        let mut state = process.state.lock();
        let name = process.name_text();
        if state.kind() != SocketKind::Stream || state.role() == Role::Server {
            return Err(Error::msg(format!(
                "Process {name} is not a stream connection: it cannot start TLS"
            )));
        }
        if !state.lifecycle.is_active() || !state.link.has_socket() {
            return Err(Error::msg(format!("Process {name} not running")));
        }
        if state.link.tls().is_some() {
            return Err(Error::msg(format!("Process {name} already uses TLS")));
        }
        let Some(parsed) = TlsParams::from_value(params)? else {
            return Err(Error::wrong_type("consp", params));
        };
        let session = Box::new(if state.role() == Role::Accepted {
            TlsSession::server(server_config(&parsed)?)?
        } else {
            let hostname = match (&parsed.hostname, state.contact.get_or_nil(":host")) {
                (Some(name), _) => name.clone(),
                (None, Value::Str(host)) => String::from_utf8_lossy(&host).into_owned(),
                (None, _) => {
                    return Err(Error::msg(
                        "A TLS connection without :host needs :hostname in :tls-parameters",
                    ))
                }
            };
            TlsSession::client(&parsed, &hostname)?
        });
        let clear = state.output.len();
        state.link.start_tls(session, clear);
        core.begin_handshake(process, &mut state, None);
        if clear > 0 {
            core.flush_output(process, &mut state);
        }
        Ok(())
    }
}
