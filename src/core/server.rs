//! Accepting connections: the new process's name, contact, inheritance and events, as
//! Emacs's `server_accept_connection` makes them.

use socket2::{SockAddr, Socket};

use super::address::Address;
use super::contact::Contact;
use super::context::Core;
use super::inbox::{Accepted, Arrival};
use super::process::{ProcRef, Role, State};
use super::short_text::{ClientId, HostText};
use super::tls::TlsSession;

impl Core {
    /// Turn an accepted (non-blocking) socket into a process that inherits from `server`.
    pub(crate) fn adopt_connection(
        &mut self,
        server: &ProcRef,
        server_state: &mut State,
        socket: Socket,
        peer: SockAddr,
    ) {
        let accept_number = self.table().count_accept();
        let peer = Address::from_sockaddr(&peer);
        // A server bound to one address accepts on that address; only a wildcard-bound one
        // needs getsockname to tell which local address a connection came in on.
        let local = if server_state.serves_one_address() {
            None
        } else {
            let local = socket.local_addr().map(|addr| Address::from_sockaddr(&addr));
            Some(local.unwrap_or(Address::Local(Vec::new())))
        };
        let mut client_id = ClientId::new();
        client_id.push_ascii(b'<');
        let host = match (&peer, peer.host_text()) {
            (Address::Inet4 { port, .. }, Some(text)) => {
                client_id.push_str(&text);
                client_id.push_ascii(b':');
                client_id.push_decimal(u64::from(*port));
                text
            }
            (Address::Inet6 { port, .. }, Some(text)) => {
                client_id.push_str("[");
                client_id.push_str(&text);
                client_id.push_str("]:");
                client_id.push_decimal(u64::from(*port));
                text
            }
            _ => {
                client_id.push_decimal(accept_number);
                HostText::from("-")
            }
        };
        client_id.push_ascii(b'>');
        let contact = Contact::accepted(&server_state.contact, peer, local);

        let name = self.table().unique_name(&[server.name(), b" ", client_id.as_bytes()]);

        let mut state = State::new(Role::Accepted, server_state.kind(), contact);
        state.set_handlers_at_creation(server_state.filter().clone(), server_state.sentinel().clone());
        let plist = server_state.plist();
        if plist.is_non_nil() {
            state.set_plist(plist);
        }
        state.coding = server_state.coding.inherit();
        state.set_framer(super::framing_ops::inherit(server_state));
        state.set_family(server_state.family());
        state.link.attach(socket);
        let tls = match server_state.tls_server() {
            Some(config) => match TlsSession::server(config.clone()) {
                Ok(session) => Some(Box::new(session)),
                // rustls could not start a session (out of memory): refuse this one.
                Err(_) => return,
            },
            None => None,
        };
        let handshaking = tls.is_some();
        if let Some(session) = tls {
            state.link.start_tls(session, 0);
        }
        // Only a server using the default filter (or t) gives its connections buffers.
        let wants_buffer = server_state.filter().is_nil() || server_state.filter().is_symbol("t");

        let serial = self.table().next_serial();
        let client = self.new_process(serial, name, state);
        let mut client_state = client.state.lock();
        // Below 256: a client id holds at most 52 bytes.
        let client_id_length = client_id.len() as u8;
        let accepted = Accepted { server: server.clone(), host, client_id_length, wants_buffer };
        if handshaking {
            if let Err(err) = self.register(&client, &mut client_state) {
                let errno = err.raw_os_error().unwrap_or(0);
                self.inbox().record(server, server_state, Arrival::AcceptFailed { errno });
                return;
            }
            // Listed and announced once its handshake is done (tls_io.rs).
            self.begin_handshake(&client, &mut client_state, Some(accepted));
            return;
        }
        self.table().list(&client, &mut client_state);
        // The opening comes first in the client's own stream, so nothing it sends can
        // reach its filter before its "open from" sentinel.
        self.inbox().record(&client, &mut client_state, Arrival::Accepted(accepted));
        // Read before registering: registered only if it needs watching after that read
        // (register_when_needed).
        client_state.link.mark_readable();
        self.round().mark_ready(&client, &mut client_state);
    }
}
