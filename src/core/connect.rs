//! `:nowait` connections: answers from the resolver, the race between a stream client's
//! addresses (attempts.rs decides; this drives it from the reactor), its deadline, and
//! datagram clients, which have nothing to connect.

use std::time::Instant;

use super::address::Address;
use super::attempts::{begin, Progress, Started};
use super::context::Core;
use super::process::{ProcRef, State};
use super::socket::{apply_options, new_socket, SocketKind};
use super::status::Failure;

impl Core {
    /// Act on finished background lookups.
    pub(crate) fn take_lookup_answers(&mut self) {
        // Asked twice per reactor turn; most turns have no lookup in flight.
        if !self.lookups().has_answers() {
            return;
        }
        for (process, answer) in self.lookups().take_answers() {
            let mut state = process.state.lock();
            state.set_lookup(None);
            if !state.lifecycle.is_connecting() || state.is_deleted() {
                continue;
            }
            match answer {
                Err(_) => {
                    let message = format!("Name lookup of {} failed", state.lookup_host());
                    self.end_connect(&process, &mut state);
                    self.fail_connect(&process, &mut state, Failure::Lookup(message));
                }
                Ok(addresses) => {
                    self.begin_connect(&process, &mut state, addresses);
                }
            }
        }
    }

    /// Connect a `:nowait` client to `addresses` (its name's, or the one it was given).
    /// Returns the failure it recorded, if it failed at once.
    pub(crate) fn begin_connect(
        &mut self,
        process: &ProcRef,
        state: &mut State,
        addresses: Vec<Address>,
    ) -> Option<Failure> {
        if state.kind() == SocketKind::Datagram {
            return self.open_datagram_client(process, state, addresses);
        }
        state.race_mut()?.set_addresses(addresses);
        self.advance_connect(process, state)
    }

    /// Move the race on: an attempt's socket reported something, or its time came. The
    /// winner becomes the process's socket; at the end the rest are closed. Returns the
    /// failure it recorded, if the connect failed.
    pub(crate) fn advance_connect(&mut self, process: &ProcRef, state: &mut State) -> Option<Failure> {
        let kind = state.kind();
        let options = state.contact.plist().into_owned();
        let mut race = state.take_race()?;
        let progress = race.advance(Instant::now(), &mut |address| {
            let socket = new_socket(address.family(), kind)
                .map_err(|err| err.raw_os_error().unwrap_or(libc::EMFILE))?;
            apply_options(&socket, &options).map_err(|err| err.errno.max(1))?;
            let mut started = begin(socket, address)?;
            let (Started::Connected(attempt) | Started::InProgress(attempt)) = &mut started;
            let slot = self.register_attempt(process, &attempt.socket);
            attempt.slot = Some(slot.map_err(|err| err.raw_os_error().unwrap_or(libc::ENOMEM))?);
            // What process-contact shows while connecting: the latest attempt's.
            state.contact.put(":remote", address.to_value());
            if let Ok(local) = attempt.socket.local_addr() {
                state.contact.put(":local", Address::from_sockaddr(&local).to_value());
            }
            Ok(started)
        });
        for attempt in race.take_closed() {
            self.close_attempt(attempt);
        }
        match progress {
            Progress::Waiting => {
                match race.wake_at() {
                    Some(at) => self.deadlines().wake_connect_at(process, at),
                    None => self.forget_connect_time(process),
                }
                state.set_race(race);
                None
            }
            Progress::Won(winner) => {
                self.forget_connect_time(process);
                state.contact.put(":remote", winner.address.to_value());
                if let Ok(local) = winner.socket.local_addr() {
                    state.contact.put(":local", Address::from_sockaddr(&local).to_value());
                }
                state.set_family(winner.address.family());
                self.adopt_attempt(state, winner);
                self.connected(process, state);
                None
            }
            Progress::Failed(errno) => {
                self.forget_connect_time(process);
                // At the deadline the name may still be being looked up.
                if state.take_lookup().is_some() {
                    self.lookups().cancel(process.serial);
                }
                self.fail_connect(process, state, Failure::Errno(errno));
                Some(Failure::Errno(errno))
            }
        }
    }

    /// Look at the connects whose next attempt or deadline has come.
    pub(crate) fn expire_connects(&mut self) {
        for process in self.deadlines().take_connects_due() {
            let mut state = process.state.lock();
            if state.lifecycle.is_connecting() && !state.is_deleted() {
                self.advance_connect(&process, &mut state);
            }
            drop(state);
            self.release_later(process);
        }
    }

    /// Stop connecting (`delete-process`, or a failed lookup): close every attempt in
    /// flight and forget the connect's times.
    pub(crate) fn end_connect(&mut self, process: &ProcRef, state: &mut State) {
        if let Some(race) = state.take_race() {
            for attempt in race.abandon() {
                self.close_attempt(attempt);
            }
        }
        self.forget_connect_time(process);
    }

    fn forget_connect_time(&mut self, process: &ProcRef) {
        if let Some(held) = self.deadlines().forget_connect(process) {
            self.release_later(held);
        }
    }

    /// A `:nowait` datagram client: a socket for the first address that takes one; no
    /// connect for datagrams, the address is where sends go.
    fn open_datagram_client(
        &mut self,
        process: &ProcRef,
        state: &mut State,
        addresses: Vec<Address>,
    ) -> Option<Failure> {
        let mut errno = libc::EADDRNOTAVAIL;
        for address in addresses {
            let socket = match new_socket(address.family(), SocketKind::Datagram) {
                Ok(socket) => socket,
                Err(err) => {
                    errno = err.raw_os_error().unwrap_or(libc::EMFILE);
                    continue;
                }
            };
            if let Err(err) = socket.set_nonblocking(true) {
                errno = err.raw_os_error().unwrap_or(libc::EINVAL);
                continue;
            }
            state.set_family(address.family());
            state.set_datagram_peer(Some(address.clone()));
            state.contact.put(":remote", address.to_value());
            state.link.attach(socket);
            if let Err(err) = self.register(process, state) {
                errno = err.raw_os_error().unwrap_or(libc::ENOMEM);
                self.close_socket(state);
                continue;
            }
            // Nothing to connect, so nothing to announce: `open` at once, as before the
            // lookup finished the process was only waiting for an address.
            state.lifecycle.opened();
            state.link.mark_readable();
            self.round().mark_ready(process, state);
            self.flush_datagrams(state);
            return None;
        }
        self.fail_connect(process, state, Failure::Errno(errno));
        Some(Failure::Errno(errno))
    }
}
