//! One turn of the reactor: wait for readiness, then read, accept, finish connects and
//! flush queued output, gathering the events the host will hear about.
//!
//! Readiness is edge-triggered (mio), so a socket that may still have input stays on the
//! ready list until a read says WouldBlock. Each turn reads at most a few chunks per
//! process, so one busy peer cannot starve the others, as Emacs's round-robin ensures.

use std::io;
use std::time::{Duration, Instant};

use super::buffers::recv_into;
use super::context::{Core, Host, Shared, WAKER_TOKEN};
use super::error::Result;
use super::inbox::Arrival;
use super::process::{ProcRef, Role, State};
use super::queue::Flushed;
use super::socket::{accept_nonblocking, SocketKind};
use super::status::Failure;

/// Reads (or accepts) per process per turn before moving on to the next one.
const TURNS_PER_PROCESS: usize = 4;
/// Stream reads per process per turn: more, because each turn also costs an epoll_wait and
/// a return to the host (W1's profile: one epoll_wait per 4 reads, against libuv's one per
/// up to 32). The turn's byte budget still bounds what one turn holds in memory.
const STREAM_READS_PER_PROCESS: usize = 16;
/// Bytes one turn may read from streams in all, before the rest wait for the next turn.
const TURN_READ_BUDGET: usize = 1 << 20;
/// Bytes one turn may write in all (queued output), before the rest waits for the next turn.
const TURN_WRITE_BUDGET: usize = 4 << 20;
/// How long a server waits after a failed accept before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

impl Shared {
    /// Wait up to `timeout` (None: until something happens) for activity, then run every
    /// callback that is due. Returns how many callbacks ran.
    pub fn poll(&self, timeout: Option<Duration>, host: &mut dyn Host) -> Result<usize> {
        self.poll_only(None, timeout, host)
    }

    /// [`Shared::poll`], delivering to `process` alone: the others' callbacks wait, in
    /// order, for a later poll (`accept-process-output` with JUST-THIS-ONE).
    pub fn poll_for(
        &self,
        process: &ProcRef,
        timeout: Option<Duration>,
        host: &mut dyn Host,
    ) -> Result<usize> {
        self.poll_only(Some(process), timeout, host)
    }

    fn poll_only(
        &self,
        only: Option<&ProcRef>,
        timeout: Option<Duration>,
        host: &mut dyn Host,
    ) -> Result<usize> {
        self.check_usable()?;
        if self.in_callback() {
            return Err(super::error::Error::msg(
                "Cannot wait for processes from inside one of their callbacks",
            ));
        }
        self.core.lock().turn(timeout)?;
        Ok(self.dispatch(only, host))
    }
}

impl Core {
    /// Wait for readiness and record what happened in `self.inbox`.
    fn turn(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.round().allow_writes(TURN_WRITE_BUDGET);
        self.take_lookup_answers();
        let has_work = !self.inbox().is_empty() || self.round().has_ready();
        let timeout = if has_work { Some(Duration::ZERO) } else { self.wait_bound(timeout) };
        let ready = self
            .wait_for_readiness(timeout)
            .map_err(|err| super::error::Error::file("Failed select", &err, vec![]))?;
        for event in &ready {
            if event.token == WAKER_TOKEN {
                continue;
            }
            let Some(process) = self.registered_process(event.token) else { continue };
            let mut state = process.state.lock();
            if event.output {
                self.on_writable(&process, &mut state);
            }
            if event.input && state.link.has_socket() {
                state.link.mark_readable();
                if event.read_to_block {
                    state.link.read_to_block();
                }
                self.round().mark_ready(&process, &mut state);
            }
        }
        self.recycle_readiness(ready);
        self.take_lookup_answers();
        if !self.deadlines().is_empty() || !self.handshakes().is_empty() {
            self.resume_paused_servers();
            self.expire_drains();
            self.expire_handshakes();
            self.expire_connects();
        }
        self.serve_ready();
        Ok(())
    }

    /// Serve again the servers whose pause after a failed accept is over.
    fn resume_paused_servers(&mut self) {
        for server in self.deadlines().take_pauses_over() {
            let mut state = server.state.lock();
            state.resume_accepting();
            state.link.mark_readable();
            self.round().mark_ready(&server, &mut state);
            drop(state);
            self.release_later(server);
        }
    }

    /// Give every ready process one turn of reads (or accepts).
    fn serve_ready(&mut self) {
        self.round().allow_reads(TURN_READ_BUDGET);
        self.buffers().start_turn();
        let count = self.round().ready_count();
        for _ in 0..count {
            let Some(process) = self.round().next_ready() else { break };
            let mut state = process.state.lock();
            state.link.leave_ready_list();
            if state.link.take_write_pending() {
                self.flush_output(&process, &mut state);
            }
            let more = self.serve(&process, &mut state) || state.link.write_pending();
            if more {
                self.round().mark_ready(&process, &mut state);
            } else {
                self.register_when_needed(&process, &mut state);
            }
            drop(state);
            self.release_later(process);
        }
    }

    /// One turn for one process. Returns whether it may have more input.
    fn serve(&mut self, process: &ProcRef, state: &mut State) -> bool {
        if !state.link.is_readable() || !state.wants_input() {
            return false;
        }
        if state.link.tls().is_some() {
            return self.read_tls_stream(process, state);
        }
        match (state.role(), state.kind()) {
            (Role::Server, SocketKind::Stream | SocketKind::Seqpacket) => self.accept_some(process, state),
            (_, SocketKind::Datagram) => self.read_datagrams(process, state),
            _ => self.read_stream(process, state),
        }
    }

    fn read_stream(&mut self, process: &ProcRef, state: &mut State) -> bool {
        let size = self.settings().read_max.max(1);
        for _ in 0..STREAM_READS_PER_PROCESS {
            if self.round().reads_left() == 0 {
                return true;
            }
            let Some(socket) = state.link.socket() else { return false };
            let mut input = self.buffers().take(size);
            match recv_into(socket, &mut input, size) {
                Ok(n) if n > 0 => {
                    self.round().spend_reads(n);
                    // Decoded when delivered, with the coding system in force then.
                    let bytes = self.buffers().hand_over(input, size);
                    self.inbox().record(process, state, Arrival::Data { bytes, sender: None });
                    if state.kind() == SocketKind::Stream && state.link.short_read_is_dry(n, size) {
                        state.link.read_dry();
                        return false;
                    }
                }
                outcome => {
                    self.buffers().give_back(input, size);
                    match outcome {
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                            state.link.read_dry();
                            return false;
                        }
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                        // End of stream, or a read error (a reset).
                        Ok(_) => {
                            self.input_ended(process, state, false);
                            return false;
                        }
                        Err(_) => {
                            self.input_ended(process, state, true);
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    fn read_datagrams(&mut self, process: &ProcRef, state: &mut State) -> bool {
        // Room for the largest UDP payload, so datagrams always arrive whole.
        const DATAGRAM_MAX: usize = 65536;
        let slot = DATAGRAM_MAX.max(self.settings().read_max);
        for _ in 0..TURNS_PER_PROCESS {
            let Some(socket) = state.link.socket() else { return false };
            let received = match self.datagrams().receive(socket, slot) {
                Ok(received) => received,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    state.link.read_dry();
                    return false;
                }
                // EINTR, or an ICMP error on an unconnected socket, which is not the peer
                // closing; keep going.
                Err(_) => continue,
            };
            for index in 0..received {
                let bytes = self.take_datagram(index);
                // A datagram server answers whoever spoke last: the sender goes with the
                // data and becomes the peer when its filter runs. Unbound unix senders
                // have no address to answer, so the peer stays as it was, as in Emacs.
                let sender = match state.role() {
                    Role::Server => self.datagrams().sender(index),
                    _ => None,
                };
                self.inbox().record(process, state, Arrival::Data { bytes, sender });
            }
            // A batch that came back short emptied the queue (recvmmsg stops at the first
            // datagram not there); each later datagram is a new wakeup.
            if state.link.short_read_is_dry(received, super::datagrams::BATCH) {
                state.link.read_dry();
                return false;
            }
        }
        true
    }

    fn accept_some(&mut self, server: &ProcRef, state: &mut State) -> bool {
        for _ in 0..TURNS_PER_PROCESS * 16 {
            let Some(listener) = state.link.socket() else { return false };
            match accept_nonblocking(listener) {
                Ok((socket, peer)) => self.adopt_connection(server, state, socket, peer),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    state.link.read_dry();
                    return false;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(err) => {
                    // Out of descriptors, typically. Log once, then pause instead of spinning:
                    // while paused the server is not served, however many clients arrive.
                    let errno = err.raw_os_error().unwrap_or(0);
                    self.inbox().record(server, state, Arrival::AcceptFailed { errno });
                    state.pause_accepting(Instant::now() + ACCEPT_BACKOFF);
                    self.deadlines().add_paused_server(server);
                    return false;
                }
            }
        }
        true
    }

    /// Called when a socket can take output: one of a connect's attempts finished (or
    /// failed), or the queue may be flushed.
    fn on_writable(&mut self, process: &ProcRef, state: &mut State) {
        if state.race_mut().is_some() {
            self.advance_connect(process, state);
            return;
        }
        self.flush_output(process, state);
        if !state.link.is_draining() {
            self.unwatch_output(state);
        }
    }

    /// Write queued output. A peer that is gone ends the connection.
    pub(crate) fn flush_output(&mut self, process: &ProcRef, state: &mut State) {
        if !state.link.has_socket() {
            return;
        }
        let before = state.output.len();
        let budget = self.round().writes_left();
        // Through TLS once its handshake is done; until then the output waits (bytes queued
        // before a STARTTLS still go out in the clear first).
        let link = &mut state.link;
        let outcome = state.output.flush(budget, |bytes| link.write(bytes));
        self.round().spend_writes(before - state.output.len());
        if state.drain_due_after_write() {
            self.inbox().record(process, state, Arrival::Drained);
        }
        if state.link.tls().is_some() && outcome.is_ok() {
            // Records rustls holds (encrypted output, handshake messages) go before any
            // end of file or close.
            if !self.push_tls_records(process, state) {
                return;
            }
            if state.link.tls_handshaking() {
                return;
            }
        }
        match outcome {
            Ok(Flushed::Budget) => {
                // The socket still takes bytes, but this turn has written its share: go on
                // next turn, so that one poll never writes for seconds.
                state.link.defer_write();
                self.round().mark_ready(process, state);
            }
            Ok(Flushed::All) => {
                if state.link.is_draining() {
                    self.close_socket(state);
                } else if state.link.take_eof_to_send() {
                    // A TLS peer hears the end as close_notify, then the socket's.
                    if let Some(tls) = state.link.tls_mut() {
                        tls.close_notify();
                        let _ = state.link.push_tls();
                    }
                    if let Some(socket) = state.link.socket() {
                        let _ = socket.shutdown(std::net::Shutdown::Write);
                    }
                }
            }
            Ok(Flushed::Blocked) => self.watch_output(process, state),
            Err(_) if state.link.is_draining() => self.close_socket(state),
            Err(_) => self.output_failed(process, state),
        }
    }

    /// The peer's end of file, or a read error, was read: stop reading and record the
    /// close after the data before it. The status changes when that close is delivered.
    pub(crate) fn input_ended(&mut self, process: &ProcRef, state: &mut State, reset: bool) {
        if !state.link.input_ended() {
            return;
        }
        self.inbox().record(process, state, Arrival::Closed { reset });
    }

    /// A write found the peer gone: what is queued can never be written (it counts as
    /// lost), and the connection ends after the input already read.
    pub(crate) fn output_failed(&mut self, process: &ProcRef, state: &mut State) {
        let lost = state.output.discard();
        state.add_lost_output(lost as u64);
        self.input_ended(process, state, true);
    }

    /// Record a `:nowait` failure: the socket closes now, the status becomes `failed`
    /// (and, unlike Emacs 28.2, a sentinel runs) when it is delivered.
    pub(crate) fn fail_connect(&mut self, process: &ProcRef, state: &mut State, failure: Failure) {
        self.close_socket(state);
        self.inbox().record(process, state, Arrival::ConnectFailed(failure));
    }

    /// A connect finished: record it, start reading and write what waited. The status
    /// becomes `open` when the arrival is delivered, before any of the input.
    pub(crate) fn connected(&mut self, process: &ProcRef, state: &mut State) {
        if state.link.tls_handshaking() {
            // Open only once the handshake and the certificate checks are done.
            self.begin_handshake(process, state, None);
            return;
        }
        self.inbox().record(process, state, Arrival::Connected { already_open: false });
        state.link.mark_readable();
        self.round().mark_ready(process, state);
        self.flush_output(process, state);
    }
}
