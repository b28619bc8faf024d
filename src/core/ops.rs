//! The process primitives: sending, `process-send-eof`, `delete-process`, stop and
//! continue, the setters, `process-contact` and `set-network-process-option`.

use std::io;

use super::address::Address;
use super::backpressure::{mark_of, WaterLevel};
use super::context::{Core, Host, Shared};
use super::error::{Error, Result};
use super::event::SentinelEvent;
use super::process::{ProcRef, Process, Role, State};
use super::queue::QueueError;
use super::socket::{is_option, set_option, SocketKind};
use super::value::{FunctionRole, Value};

/// Which part of the contact `process-contact` returns.
#[derive(Clone, Debug)]
pub enum ContactQuery {
    /// KEY nil: `(HOST SERVICE)`.
    HostService,
    /// KEY t: the whole plist.
    All,
    /// Another KEY: its value.
    Key(String),
}

impl Shared {
    /// Lock the context and the process, in that order, and run `f`. Events it gathers
    /// stay queued for the next `poll`, as Emacs reports them from its next pump.
    pub(crate) fn with_process<R>(
        &self,
        process: &ProcRef,
        f: impl FnOnce(&mut Core, &mut State) -> Result<R>,
    ) -> Result<R> {
        self.check_usable()?;
        let mut core = self.core.lock();
        let mut state = process.state.lock();
        f(&mut core, &mut state)
    }

    /// `process-send-string` with a unibyte string: no character conversion, but the
    /// encoding's end-of-line conversion applies (send_process). Written now if the socket takes it,
    /// otherwise queued and flushed as it drains. Never blocks. Above for a process with a
    /// high-water mark (`:high-water`, `:drain`) whose queue is above it after the send.
    pub fn send(&self, process: &ProcRef, data: &[u8]) -> Result<WaterLevel> {
        self.with_process(process, |core, state| {
            core.check_can_send(process, state)?;
            let encoded = state.coding.encode_bytes(data);
            core.send(process, state, &encoded)?;
            Ok(state.water_level_after_send())
        })
    }

    /// `process-send-string` with a multibyte string (UTF-8, raw bytes in Emacs's two-byte
    /// form), encoded through the process's encoding coding system. As `send` for the
    /// high-water mark.
    pub fn send_text(&self, process: &ProcRef, text: &[u8]) -> Result<WaterLevel> {
        self.with_process(process, |core, state| {
            core.check_can_send(process, state)?;
            let encoded = state.coding.encode_text(text);
            core.send(process, state, &encoded)?;
            Ok(state.water_level_after_send())
        })
    }

    /// `process-send-eof`: shut down the writing side once queued output is out.
    pub fn send_eof(&self, process: &ProcRef) -> Result<()> {
        self.with_process(process, |core, state| {
            if state.kind() == SocketKind::Datagram {
                return Ok(());
            }
            if !state.lifecycle.accepts_output() {
                return Err(not_running(process));
            }
            // Emacs allows a second EOF while the process runs (it shuts down again); the
            // first one already covers everything queued, so there is nothing left to do.
            if state.link.eof_requested() {
                return Ok(());
            }
            // A stateful encoder (ISO-2022) returns to its initial state before the EOF.
            let closing = state.coding.finish_encoding();
            core.queue_output(process, state, &closing)?;
            state.link.request_eof();
            core.flush_output(process, state);
            Ok(())
        })
    }

    /// `delete-process`: close, leave `process-list`, and run the `"deleted\n"` sentinel
    /// before returning. Output still queued is written in the background first, unless
    /// `:linger 0` asked for an abortive close. Deleting twice does nothing. Then, as
    /// Emacs's Fdelete_process ends with status_notify, the status news already known for
    /// other processes (a send that found its peer gone, a `:nowait` failure) gets its
    /// sentinels before it returns, unless the call comes from a callback. No filter runs.
    pub fn delete_process(&self, process: &ProcRef, host: &mut dyn Host) -> Result<()> {
        self.delete_without_notify(process, host)?;
        // From inside a callback, the delivery under way goes on with the rest in order
        // as soon as that callback returns; a nested pass would run other filters inside it.
        if !self.in_callback() {
            self.notify_pending(host);
        }
        Ok(())
    }

    /// `delete-process` without the notify pass (for freeing the context, when nothing
    /// else is to be delivered).
    fn delete_without_notify(&self, process: &ProcRef, host: &mut dyn Host) -> Result<()> {
        let sentinel = self.with_process(process, |core, state| {
            if !state.is_listed() {
                // Closed and gone from the list already; what it keeps of its peer goes.
                state.link.forget_peer();
                return Ok(None);
            }
            core.delete(process, state);
            Ok(Some(state.sentinel().clone()))
        })?;
        if let Some(sentinel) = sentinel {
            self.call_host(|| host.sentinel(process, &sentinel, &SentinelEvent::Deleted));
        }
        Ok(())
    }

    /// `stop-process`: stop reading (or accepting).
    pub fn stop_process(&self, process: &ProcRef) -> Result<()> {
        self.with_process(process, |_, state| {
            state.lifecycle.set_stopped(true);
            Ok(())
        })
    }

    /// `continue-process`: resume reading (or accepting); held input comes first.
    pub fn continue_process(&self, process: &ProcRef) -> Result<()> {
        self.with_process(process, |core, state| {
            state.lifecycle.set_stopped(false);
            core.resume_input(process, state);
            Ok(())
        })
    }

    /// `set-process-filter`: nil for the default filter, t to stop reading, or a function.
    pub fn set_filter(&self, process: &ProcRef, filter: Value) -> Result<()> {
        if !filter.fits_function(FunctionRole::Filter, self.settings().typed_functions) {
            return Err(Error::wrong_type("functionp", &filter));
        }
        self.with_process(process, |core, state| {
            state.set_filter(filter);
            core.resume_input(process, state);
            Ok(())
        })
    }

    /// `set-process-sentinel`: nil for the default sentinel, or a function.
    pub fn set_sentinel(&self, process: &ProcRef, sentinel: Value) -> Result<()> {
        if !sentinel.fits_function(FunctionRole::Sentinel, self.settings().typed_functions) {
            return Err(Error::wrong_type("functionp", &sentinel));
        }
        self.with_process(process, |_, state| {
            state.set_sentinel(sentinel);
            Ok(())
        })
    }

    /// `set-process-buffer`.
    pub fn set_buffer(&self, process: &ProcRef, buffer: Value) -> Result<()> {
        // set-process-buffer's CHECK_BUFFER: a function is never a buffer, and a host with
        // typed values gives a buffer as a host object or a name.
        let typed = self.settings().typed_functions;
        let shape = matches!(buffer, Value::Nil | Value::Host(_) | Value::Str(_));
        if buffer.function_role().is_some() || (typed && !shape) {
            return Err(Error::wrong_type("bufferp", &buffer));
        }
        self.with_process(process, |_, state| {
            state.set_buffer(buffer);
            Ok(())
        })
    }

    /// `set-process-plist`: the plist must be a list (a cons is one, as LISTP says).
    pub fn set_plist(&self, process: &ProcRef, plist: Value) -> Result<()> {
        if !plist.is_list() {
            return Err(Error::wrong_type("listp", &plist));
        }
        self.with_process(process, |_, state| {
            state.set_plist(plist);
            Ok(())
        })
    }

    /// `set-network-process-option`. With `no_error`, an unknown option gives Ok(false).
    pub fn set_network_option(
        &self,
        process: &ProcRef,
        option: &str,
        value: &Value,
        no_error: bool,
    ) -> Result<bool> {
        let typed = self.settings().typed_functions;
        self.with_process(process, |core, state| {
            // A deleted process may still be writing its last output; it is not running,
            // as Emacs says of a process without a descriptor.
            let socket = state.link.socket().filter(|_| !state.is_deleted());
            let Some(socket) = socket else {
                return Err(Error::msg("Process is not running"));
            };
            if super::framing_ops::is_framing_option(option) {
                core.set_framing_option(process, state, option, value)?;
                state.contact.put(option, value.clone());
                return Ok(true);
            }
            match option {
                ":high-water" => {
                    let mark =
                        mark_of(value).ok_or_else(|| Error::msg("Bad option value for :high-water"))?;
                    state.watermark_mut().set_mark(mark);
                    state.contact.put(option, value.clone());
                    return Ok(true);
                }
                ":drain" => {
                    if !value.fits_function(FunctionRole::Sentinel, typed) {
                        return Err(Error::wrong_type("functionp", value));
                    }
                    state.watermark_mut().set_drain(value.clone());
                    state.contact.put(option, value.clone());
                    return Ok(true);
                }
                _ => {}
            }
            if !is_option(option) {
                return if no_error { Ok(false) } else { Err(Error::msg("Unknown or unsupported option")) };
            }
            set_option(socket, option, value)?;
            if option == ":linger" {
                state.link.set_abortive_close(super::socket::linger_is_abortive(Some(value)));
            }
            state.contact.put(option, value.clone());
            Ok(true)
        })
    }

    /// Delete every listed process (newest first, each with its `"deleted\n"` sentinel)
    /// and close every socket, including those still draining. Used when the context is
    /// freed; processes made meanwhile (by those sentinels) stay listed, for the caller to
    /// call this again.
    pub fn shutdown(&self, host: &mut dyn Host) {
        for process in self.process_list() {
            let _ = self.delete_without_notify(&process, host);
        }
        let mut core = self.core.lock();
        let leftovers = core.close_all();
        // Dropped outside the lock, as every last reference must be.
        drop(core);
        drop(leftovers);
    }

    /// Bytes accepted by sends and not yet written to the socket.
    pub fn output_pending(&self, process: &ProcRef) -> usize {
        process.state.lock().output.len()
    }

    /// Bytes accepted by sends that will never be written (the connection died first).
    pub fn output_lost(&self, process: &ProcRef) -> u64 {
        process.state.lock().lost_output()
    }
}

impl Process {
    /// Bytes accepted by sends that were never written; still readable after the context
    /// is freed (which drops whatever was queued).
    pub fn output_lost(&self) -> u64 {
        self.state.lock().lost_output()
    }

    /// `process-datagram-address`: nil for non-datagram or closed processes.
    pub fn datagram_address(&self) -> Value {
        let state = self.state.lock();
        if state.kind() != SocketKind::Datagram || !state.link.has_socket() {
            return Value::Nil;
        }
        datagram_address(&state)
    }

    /// During a datagram's filter call, the address that sent it, in Emacs's form; nil
    /// outside a filter call (or for a datagram with no address to answer). Unlike
    /// `process-datagram-address` it is the sender of the datagram being delivered,
    /// whatever the filter does with the reply address.
    pub fn datagram_sender(&self) -> Value {
        self.state.lock().delivering_sender().map_or(Value::Nil, Address::to_value)
    }

    /// The peer's address in Emacs's form (a vector, or a string for a local socket): for
    /// a datagram process the one replies go to now (`process-datagram-address`), for a
    /// stream connection the one it connected to or was accepted from (the contact's
    /// `:remote`); nil for a server, a connection still connecting, or a closed datagram
    /// process.
    pub fn peer_address(&self) -> Value {
        if self.state.lock().kind() == SocketKind::Datagram {
            return self.datagram_address();
        }
        let state = self.state.lock();
        if state.role() == super::process::Role::Server || state.lifecycle.is_connecting() {
            return Value::Nil;
        }
        match state.contact.get_or_nil(":remote") {
            address @ (Value::Vector(_) | Value::Str(_)) => address,
            _ => Value::Nil,
        }
    }

    /// `set-process-datagram-address`: false when the process is not an open datagram
    /// process or the address does not fit its socket's family.
    pub fn set_datagram_address(&self, address: &Value) -> bool {
        let mut state = self.state.lock();
        if state.kind() != SocketKind::Datagram || !state.link.has_socket() {
            return false;
        }
        let Ok(parsed) = Address::from_value(address) else { return false };
        if parsed.family() != state.family() {
            return false;
        }
        state.set_datagram_peer(Some(parsed));
        true
    }
    /// `process-contact`. With `no_block`, a process without a socket gives nil (one whose
    /// connect attempts are in flight has sockets, as Emacs's wait_for_socket_fds sees it).
    pub fn contact(&self, query: &ContactQuery, no_block: bool) -> Value {
        let mut state = self.state.lock();
        if no_block && !state.link.has_socket() && !state.has_connect_attempts() {
            return Value::Nil;
        }
        // A datagram process's :remote is whoever it talks to now, as Emacs reports it.
        let asks_remote =
            matches!(query, ContactQuery::All) || matches!(query, ContactQuery::Key(k) if k == ":remote");
        if state.kind() == SocketKind::Datagram && state.link.has_socket() && asks_remote {
            let peer = datagram_address(&state);
            state.contact.put(":remote", peer);
        }
        match query {
            ContactQuery::HostService => {
                Value::list(vec![state.contact.get_or_nil(":host"), state.contact.get_or_nil(":service")])
            }
            ContactQuery::All => state.contact.to_value(),
            ContactQuery::Key(key) => state.contact.get_or_nil(key),
        }
    }
}

/// Write as much of `data` as the socket takes now; the count written. An error only when
/// nothing was written (after a partial write, the next write reports it).
fn write_now(link: &mut super::link::Link, data: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < data.len() {
        match link.write(&data[written..]) {
            Ok(0) => break,
            Ok(n) => written += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if written == 0 => return Err(err),
            Err(_) => break,
        }
    }
    Ok(written)
}

fn datagram_address(state: &State) -> Value {
    match state.datagram_peer() {
        Some(peer) => peer.to_value(),
        None => Address::zeroed_like(state.family()).to_value(),
    }
}

fn not_running(process: &ProcRef) -> Error {
    Error::msg(format!("Process {} not running", process.name_text()))
}

impl Core {
    /// The checks every send makes before encoding anything.
    fn check_can_send(&self, process: &ProcRef, state: &State) -> Result<()> {
        if !state.lifecycle.accepts_output() {
            return Err(not_running(process));
        }
        if state.link.eof_requested() {
            return Err(Error::msg(format!("Output file descriptor of {} is closed", process.name_text())));
        }
        Ok(())
    }

    /// Queue bytes already encoded, within the context's per-process limit.
    pub(crate) fn queue_output(&mut self, process: &ProcRef, state: &mut State, data: &[u8]) -> Result<()> {
        let limit = self.settings().send_queue_max;
        let queued = if state.kind() == SocketKind::Datagram {
            state.output.push_datagram(data, limit)
        } else {
            state.output.push(data, limit)
        };
        queued.map_err(|err| match err {
            QueueError::Full { queued, limit } => Error::msg(format!(
                "Output queue of process {} is full: {queued} bytes queued, {} more would pass the limit of {limit}",
                process.name_text(),
                data.len()
            )),
            QueueError::NoMemory => Error::msg(format!(
                "Memory exhausted queueing {} bytes for process {}",
                data.len(),
                process.name_text()
            )),
        })
    }

    /// Send bytes already encoded.
    fn send(&mut self, process: &ProcRef, state: &mut State, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if state.kind() == SocketKind::Datagram {
            return self.send_datagram(process, state, data);
        }
        let writable_now =
            state.output.is_empty() && state.link.has_socket() && !state.link.tls_handshaking();
        if !writable_now {
            // Connecting, or the socket is already full: the queue drains in order.
            self.queue_output(process, state, data)?;
            self.watch_output(process, state);
            return Ok(());
        }
        if data.len() > self.settings().send_queue_max {
            // What the socket does not take at once must fit the queue: refuse it whole
            // before any byte goes out.
            return self.queue_output(process, state, data);
        }
        if !state.link.has_socket() {
            return Err(not_running(process));
        }
        // Nothing is queued, so the bytes go straight from the caller's buffer, and only
        // what the socket does not take is copied into the queue: no allocation per send
        // in the common case (as libuv's uv_try_write).
        match write_now(&mut state.link, data) {
            Ok(written) => {
                if written < data.len() {
                    self.queue_output(process, state, &data[written..])?;
                    self.watch_output(process, state);
                } else if state.link.tls_records_waiting() {
                    // rustls took it all; the socket did not take all its records.
                    self.watch_output(process, state);
                }
                Ok(())
            }
            Err(err) if err.raw_os_error() == Some(libc::EPIPE) => {
                // Emacs's send_process closes the process at once on EPIPE and says so;
                // input already read still reaches the filter before its sentinel.
                state.lifecycle.peer_closed();
                self.input_ended(process, state, true);
                Err(Error::msg(format!(
                    "process {} no longer connected to pipe; closed it",
                    process.name_text()
                )))
            }
            // Nothing of this call was taken, and the error says so: nothing is "lost".
            Err(err) => Err(Error::file("Writing to process", &err, vec![Value::string(process.name())])),
        }
    }

    fn send_datagram(&mut self, process: &ProcRef, state: &mut State, data: &[u8]) -> Result<()> {
        if !state.link.has_socket() {
            // A :nowait client still resolving its name has no socket yet. Its sends wait,
            // as a stream client's do; the queue keeps each one as a separate chunk, and
            // `flush_datagrams` sends every chunk as one datagram.
            return self.queue_output(process, state, data);
        }
        let Some(socket) = state.link.socket() else { return Err(not_running(process)) };
        let peer = match state.datagram_peer() {
            Some(peer) => peer.to_sockaddr(),
            None => Address::zeroed_like(state.family()).to_sockaddr(),
        };
        match socket.send_to_with_flags(data, &peer, libc::MSG_NOSIGNAL) {
            Ok(_) => Ok(()),
            Err(err) if err.raw_os_error() == Some(libc::EMSGSIZE) => {
                Err(Error::file("Sending datagram", &err, vec![Value::string(process.name())]))
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                Err(Error::file("Sending datagram", &err, vec![Value::string(process.name())]))
            }
            Err(err) => Err(Error::file("Writing to process", &err, vec![Value::string(process.name())])),
        }
    }

    /// Send the datagrams queued while a `:nowait` client resolved its name, once it has
    /// its socket: one sendto per queued send. Nobody is left to hear about a failure, so
    /// a datagram that cannot go out counts as lost output; the queue always ends empty
    /// (the reactor's stream flush must never see datagrams).
    pub(crate) fn flush_datagrams(&mut self, state: &mut State) {
        let Some(socket) = state.link.socket() else { return };
        let Some(peer) = state.datagram_peer().map(Address::to_sockaddr) else { return };
        let mut lost = 0u64;
        for datagram in state.output.drain_chunks() {
            if socket.send_to_with_flags(&datagram, &peer, libc::MSG_NOSIGNAL).is_err() {
                lost += datagram.len() as u64;
            }
        }
        state.add_lost_output(lost);
    }

    /// The network side of `delete-process`.
    pub(crate) fn delete(&mut self, process: &ProcRef, state: &mut State) {
        if state.take_lookup().is_some() {
            self.lookups().cancel(process.serial);
        }
        // Connect attempts in flight are closed now; what was queued for them is lost.
        let connecting = state.race_mut().is_some();
        self.end_connect(process, state);
        state.mark_deleted();
        state.link.forget_peer();
        self.inbox().drop_held(process, state);
        self.unlist(process, state);
        if state.link.tls_handshaking() {
            self.handshakes().finish(process);
        }
        if connecting || state.link.tls_handshaking() || state.role() == Role::Server {
            // A connect (or TLS handshake) still in flight never completes: what was queued
            // for it is never sent (it counts as lost), as the host deleted the process
            // before it opened.
            self.close_socket(state);
        } else {
            self.close_when_drained(process, state);
        }
    }

    /// Reading may have become possible again: give back what was held, and look at the
    /// socket on the next turn.
    fn resume_input(&mut self, process: &ProcRef, state: &mut State) {
        let released = self.inbox().release(process, state);
        if state.wants_input() && (state.link.is_readable() || released) {
            self.round().mark_ready(process, state);
        }
    }
}
