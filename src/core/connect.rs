//! `:nowait` connections: answers from the resolver, non-blocking connects, and moving on
//! to the next address when one fails, as Emacs does.

use std::io;

use super::address::Address;
use super::context::Core;
use super::process::{ProcRef, State};
use super::socket::{apply_options, new_socket, SocketKind};
use super::status::Failure;

impl Core {
    /// Act on finished background lookups.
    pub(crate) fn take_lookup_answers(&mut self) {
        for (process, answer) in self.lookups().take_answers() {
            let mut state = process.state.lock();
            state.set_lookup(None);
            if !state.lifecycle.is_connecting() || state.is_deleted() {
                continue;
            }
            match answer {
                Err(_) => {
                    let message = format!("Name lookup of {} failed", state.lookup_host());
                    self.fail_connect(&process, &mut state, Failure::Lookup(message));
                }
                Ok(addresses) => {
                    state.set_connect_remaining(addresses);
                    self.try_next_address(&process, &mut state, libc::EADDRNOTAVAIL);
                }
            }
        }
    }

    /// Start on the next address left; `failed` when none is left. `last_errno` is what the
    /// previous attempt failed with. Returns the failure it recorded, if it did.
    pub(crate) fn try_next_address(
        &mut self,
        process: &ProcRef,
        state: &mut State,
        last_errno: i32,
    ) -> Option<Failure> {
        let mut errno = last_errno;
        while let Some(address) = state.next_connect_address() {
            match self.start_connect(process, state, &address) {
                Ok(()) => return None,
                Err(err) => errno = err.raw_os_error().unwrap_or(libc::ECONNREFUSED),
            }
        }
        self.fail_connect(process, state, Failure::Errno(errno));
        Some(Failure::Errno(errno))
    }

    /// Make a non-blocking socket for `address` and start connecting. A connect that
    /// finishes at once (unix sockets) is announced at once.
    fn start_connect(&mut self, process: &ProcRef, state: &mut State, address: &Address) -> io::Result<()> {
        let socket = new_socket(address.family(), state.kind())?;
        socket.set_nonblocking(true)?;
        state.set_family(address.family());
        if state.kind() == SocketKind::Datagram {
            // No connect for datagrams: the address is where sends go.
            state.set_datagram_peer(Some(address.clone()));
            state.contact.put(":remote", address.to_value());
            state.link.attach(socket);
            self.register(process, state)?;
            // Nothing to connect, so nothing to announce: `open` at once, as before the
            // lookup finished the process was only waiting for an address.
            state.lifecycle.opened();
            state.link.mark_readable();
            self.round().mark_ready(process, state);
            self.flush_datagrams(state);
            return Ok(());
        }
        apply_options(&socket, &state.contact.plist())
            .map_err(|err| io::Error::from_raw_os_error(err.errno.max(1)))?;
        let finished = match socket.connect(&address.to_sockaddr()) {
            Ok(()) => true,
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => false,
            Err(err) => return Err(err),
        };
        state.contact.put(":remote", address.to_value());
        if let Ok(local) = socket.local_addr() {
            state.contact.put(":local", Address::from_sockaddr(&local).to_value());
        }
        state.link.attach_connecting(socket, finished);
        self.register(process, state)?;
        if finished {
            self.connected(process, state);
        }
        Ok(())
    }
}
