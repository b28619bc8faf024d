//! One turn of the reactor: wait for readiness, then read, accept, finish connects and
//! flush queued output, gathering the events the host will hear about.
//!
//! Readiness is edge-triggered (mio), so a socket that may still have input stays on the
//! ready list until a read says WouldBlock. Each turn reads at most a few chunks per
//! process, so one busy peer cannot starve the others, as Emacs's round-robin ensures.

use std::io;
use std::time::{Duration, Instant};

use super::address::Address;
use super::buffers::recv_into;
use super::context::{Core, Event, Host, Shared, WAKER_TOKEN};
use super::error::Result;
use super::process::{messages, Failure, ProcRef, Role, State, Status};
use super::socket::{accept_nonblocking, SocketKind};

/// Reads (or accepts) per process per turn before moving on to the next one.
const TURNS_PER_PROCESS: usize = 4;
/// Stream reads per process per turn: more, because each turn also costs an epoll_wait and
/// a return to the host (W1's profile: one epoll_wait per 4 reads, against libuv's one per
/// up to 32). The turn's byte budget still bounds what one turn holds in memory.
const STREAM_READS_PER_PROCESS: usize = 16;
/// Bytes one turn may read from streams in all, before the rest wait for the next turn.
const TURN_READ_BUDGET: usize = 1 << 20;
/// How long a server waits after a failed accept before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

impl Shared {
    /// Wait up to `timeout` (None: until something happens) for activity, then run every
    /// callback that is due. Returns how many callbacks ran.
    pub fn poll(&self, timeout: Option<Duration>, host: &mut dyn Host) -> Result<usize> {
        self.check_usable()?;
        if self.in_callback() {
            return Err(super::error::Error::msg("netproc_poll called from inside a callback"));
        }
        let events = {
            let mut core = self.core.lock();
            core.turn(timeout)?;
            std::mem::take(&mut core.pending)
        };
        Ok(self.dispatch(events, host))
    }
}

impl Core {
    /// Wait for readiness and gather events into `self.pending`.
    fn turn(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.take_lookup_answers();
        let has_work = !self.pending.is_empty() || !self.ready.is_empty();
        let timeout = if has_work { Some(Duration::ZERO) } else { self.timer_bound(timeout) };
        if let Err(err) = self.poll.poll(&mut self.events, timeout) {
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(super::error::Error::file("Failed select", &err, vec![]));
            }
        }
        // Copied out of `events` (handling needs `&mut self`) into a buffer kept across polls,
        // so a turn allocates nothing here.
        let mut ready = std::mem::take(&mut self.ready_events);
        ready.clear();
        ready.extend(self.events.iter().map(|e| {
            let input = e.is_readable() || e.is_read_closed() || e.is_error();
            let output = e.is_writable() || e.is_write_closed() || e.is_error();
            (e.token(), input, output)
        }));
        for &(token, input, output) in &ready {
            if token == WAKER_TOKEN {
                continue;
            }
            let Some(process) = self.slots.get(token.0).and_then(|slot| slot.clone()) else {
                continue;
            };
            let mut state = process.state.lock();
            if output {
                self.on_writable(&process, &mut state);
            }
            if input && state.socket.is_some() {
                state.readable = true;
                self.mark_ready(&process, &mut state);
            }
        }
        self.ready_events = ready;
        self.take_lookup_answers();
        self.resume_paused_servers();
        self.serve_ready();
        Ok(())
    }

    /// Shorten the wait so a paused server resumes on time.
    pub(crate) fn timer_bound(&self, timeout: Option<Duration>) -> Option<Duration> {
        if self.paused_servers.is_empty() {
            return timeout;
        }
        let now = Instant::now();
        let soonest = self
            .paused_servers
            .iter()
            .filter_map(|p| p.state.lock().occasional().and_then(|more| more.accept_paused_until))
            .map(|until| until.saturating_duration_since(now))
            .min();
        match (timeout, soonest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn resume_paused_servers(&mut self) {
        if self.paused_servers.is_empty() {
            return;
        }
        let now = Instant::now();
        let paused = std::mem::take(&mut self.paused_servers);
        for server in paused {
            let mut state = server.state.lock();
            match state.occasional().and_then(|more| more.accept_paused_until) {
                Some(until) if until > now => {
                    drop(state);
                    self.paused_servers.push(server);
                }
                _ => {
                    state.occasional_mut().accept_paused_until = None;
                    state.readable = true;
                    self.mark_ready(&server, &mut state);
                    drop(state);
                    self.release_later(server);
                }
            }
        }
    }

    /// Give every ready process one turn of reads (or accepts).
    fn serve_ready(&mut self) {
        self.turn_budget = TURN_READ_BUDGET;
        let count = self.ready.len();
        for _ in 0..count {
            let Some(process) = self.ready.pop_front() else { break };
            let mut state = process.state.lock();
            state.in_ready_list = false;
            let more = self.deliver_held(&process, &mut state) && self.serve(&process, &mut state);
            if more {
                self.mark_ready(&process, &mut state);
            }
            drop(state);
            self.release_later(process);
        }
    }

    /// Move input held while stopped into events, once the process reads again.
    /// Returns whether the process may read more now.
    fn deliver_held(&mut self, process: &ProcRef, state: &mut State) -> bool {
        if !state.wants_input() && state.role != Role::Server {
            return false;
        }
        let held = state.occasional_mut_if_any().map(|more| std::mem::take(&mut more.held_input));
        for (data, multibyte) in held.into_iter().flatten() {
            self.pending.push(Event::Output { process: process.clone(), data, multibyte, sender: None });
        }
        true
    }

    /// One turn for one process. Returns whether it may have more input.
    fn serve(&mut self, process: &ProcRef, state: &mut State) -> bool {
        if !state.readable || !state.wants_input() {
            return false;
        }
        match (state.role, state.kind) {
            (Role::Server, SocketKind::Stream | SocketKind::Seqpacket) => self.accept_some(process, state),
            (_, SocketKind::Datagram) => self.read_datagrams(process, state),
            _ => self.read_stream(process, state),
        }
    }

    fn read_stream(&mut self, process: &ProcRef, state: &mut State) -> bool {
        let size = self.settings.read_max.max(1);
        for _ in 0..STREAM_READS_PER_PROCESS {
            if self.turn_budget == 0 {
                return true;
            }
            let Some(socket) = state.socket.as_ref() else { return false };
            let mut input = self.buffers.take(size);
            match recv_into(socket, &mut input, size) {
                Ok(n) if n > 0 => {
                    self.turn_budget = self.turn_budget.saturating_sub(n);
                    self.deliver_read(process, state, input, size);
                }
                outcome => {
                    self.buffers.give_back(input, size);
                    match outcome {
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                            state.readable = false;
                            return false;
                        }
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                        // End of stream, or a read error.
                        _ => {
                            self.close_broken(process, state);
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    /// Turn one read into a filter event: the read buffer itself when the bytes pass
    /// through unchanged, otherwise the decoder's output.
    fn deliver_read(&mut self, process: &ProcRef, state: &mut State, input: Vec<u8>, size: usize) {
        let (data, multibyte) = if state.coding.passes_input() {
            (self.buffers.hand_over(input, size), false)
        } else if state.coding.passes_unchanged(&input) {
            // Valid UTF-8 with LF line ends: W6 would otherwise copy every read.
            (self.buffers.hand_over(input, size), true)
        } else {
            let mut decoded = self.buffers.take(size);
            let multibyte = state.coding.decode_into(&input, &mut decoded);
            self.buffers.give_back(input, size);
            if decoded.is_empty() {
                self.buffers.give_back(decoded, size);
                return;
            }
            (self.buffers.hand_over(decoded, size), multibyte)
        };
        self.pending.push(Event::Output { process: process.clone(), data, multibyte, sender: None });
    }

    fn read_datagrams(&mut self, process: &ProcRef, state: &mut State) -> bool {
        // Room for the largest UDP payload, so datagrams always arrive whole.
        const DATAGRAM_MAX: usize = 65536;
        let slot = DATAGRAM_MAX.max(self.settings.read_max);
        for _ in 0..TURNS_PER_PROCESS {
            let Some(socket) = state.socket.as_ref() else { return false };
            let received = match self.datagrams.receive(socket, slot) {
                Ok(received) => received,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    state.readable = false;
                    return false;
                }
                // EINTR, or an ICMP error on an unconnected socket, which is not the peer
                // closing; keep going.
                Err(_) => continue,
            };
            for index in 0..received {
                let (bytes, sender) = self.datagrams.datagram(index);
                let (data, multibyte) = decode_datagram(state, bytes);
                // A datagram server answers whoever spoke last: the sender goes with the
                // data and becomes the peer when its filter runs. Unbound unix senders
                // have no address to answer, so the peer stays as it was, as in Emacs.
                let sender = match (state.role, sender) {
                    (Role::Server, Some(sender)) => Some(Address::from_sockaddr(&sender)),
                    _ => None,
                };
                self.pending.push(Event::Output { process: process.clone(), data, multibyte, sender });
            }
        }
        true
    }

    fn accept_some(&mut self, server: &ProcRef, state: &mut State) -> bool {
        for _ in 0..TURNS_PER_PROCESS * 16 {
            let Some(listener) = state.socket.as_ref() else { return false };
            match accept_nonblocking(listener) {
                Ok((socket, peer)) => self.adopt_connection(server, state, socket, peer),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    state.readable = false;
                    return false;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(err) => {
                    // Out of descriptors, typically. Log once, then pause instead of spinning.
                    let errno = err.raw_os_error().unwrap_or(0);
                    self.pending.push(Event::AcceptFailed { server: server.clone(), errno });
                    state.occasional_mut().accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                    self.paused_servers.push(server.clone());
                    return false;
                }
            }
        }
        true
    }

    /// Called when the socket can take output: finish a connect, or flush the queue.
    fn on_writable(&mut self, process: &ProcRef, state: &mut State) {
        if state.status == Status::Connecting {
            self.finish_connect(process, state);
            return;
        }
        self.flush_output(process, state);
    }

    /// Write queued output. Closes the process if the peer is gone.
    pub(crate) fn flush_output(&mut self, process: &ProcRef, state: &mut State) {
        let Some(socket) = state.socket.as_ref() else { return };
        let outcome = state.output.flush(|bytes| socket.send_with_flags(bytes, libc::MSG_NOSIGNAL));
        match outcome {
            Ok(()) if state.output.is_empty() => {
                if state.draining {
                    self.close_socket(state);
                } else if state.eof_requested && !state.eof_sent {
                    state.eof_sent = true;
                    let _ = socket.shutdown(std::net::Shutdown::Write);
                }
            }
            Ok(()) => self.watch_output(state),
            Err(_) if state.draining => self.close_socket(state),
            Err(_) => self.close_broken(process, state),
        }
    }

    /// The peer went away: status `(exit 256)`, socket closed, sentinel after any data; the
    /// process leaves the list when that sentinel is dispatched.
    pub(crate) fn close_broken(&mut self, process: &ProcRef, state: &mut State) {
        state.status = Status::Exit(256);
        // It leaves process-list when the sentinel is dispatched, not now (see State).
        state.unlist_when_announced = true;
        self.close_socket(state);
        // A character cut short by the close still reaches the filter, as raw bytes, first.
        if let Some(held) = state.coding.finish() {
            let (data, multibyte) = (held.data, held.multibyte);
            self.pending.push(Event::Output { process: process.clone(), data, multibyte, sender: None });
        }
        self.pending.push(Event::Status { process: process.clone(), message: messages::BROKEN.into() });
    }

    /// Record a `:nowait` failure: status `failed`, and (unlike Emacs 28.2) a sentinel.
    pub(crate) fn fail_connect(&mut self, process: &ProcRef, state: &mut State, failure: Failure) {
        let code = match &failure {
            Failure::Errno(errno) => errno.to_string(),
            Failure::Lookup(message) => message.clone(),
        };
        state.status = Status::Failed(Box::new(failure));
        self.close_socket(state);
        self.pending
            .push(Event::Status { process: process.clone(), message: messages::failed(&code).into() });
    }

    /// Announce a completed connect and start reading.
    pub(crate) fn connected(&mut self, process: &ProcRef, state: &mut State) {
        state.status = Status::Run;
        if let Some(more) = state.occasional_mut_if_any() {
            more.connect_remaining.clear();
        }
        self.pending.push(Event::Status { process: process.clone(), message: messages::OPEN.into() });
        state.readable = true;
        self.mark_ready(process, state);
        self.flush_output(process, state);
    }

    fn finish_connect(&mut self, process: &ProcRef, state: &mut State) {
        let Some(socket) = state.socket.as_ref() else { return };
        let outcome = match socket.take_error() {
            Ok(None) => match socket.peer_addr() {
                Ok(_) => Ok(()),
                // Not connected yet: a spurious wakeup; wait for the next one.
                Err(err) if err.raw_os_error() == Some(libc::ENOTCONN) => return,
                Err(err) => Err(err),
            },
            Ok(Some(err)) | Err(err) => Err(err),
        };
        match outcome {
            Ok(()) => self.connected(process, state),
            Err(err) => {
                self.close_socket(state);
                let errno = err.raw_os_error().unwrap_or(libc::ECONNREFUSED);
                self.try_next_address(process, state, errno);
            }
        }
    }
}

/// One datagram for its filter call. Each is decoded on its own: a partial character
/// cannot continue in the next one. An empty datagram is still one call.
fn decode_datagram(state: &mut State, bytes: &[u8]) -> (Vec<u8>, bool) {
    if state.coding.passes_input() {
        return (bytes.to_vec(), false);
    }
    let mut data = Vec::with_capacity(bytes.len() + 8);
    let mut multibyte = state.coding.decode_into(bytes, &mut data);
    if let Some(held) = state.coding.finish() {
        data.extend_from_slice(&held.data);
        multibyte = held.multibyte;
    }
    (data, multibyte)
}
