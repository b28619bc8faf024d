//! Delivering arrivals (inbox.rs) to the host: each is applied to its process under the
//! locks (status, framing, decoding, reply address), then the host call is made without
//! them.

use super::context::{Core, Host, Shared};
#[cfg(feature = "emacs-module")]
use super::error::Result;
use super::event::{LogEvent, SentinelEvent};
use super::framing::FramingError;
use super::inbox::{Accepted, Arrival};
use super::process::{ProcRef, State};
use super::process_coding::Decoded;
use super::status::{Failure, ProcessStatus};
use super::value::Value;

/// One host call, worked out under the locks and made after they are released: the call,
/// and the process whose arrival it delivers, in the reference the inbox held (moved
/// along, not cloned: a clone and a drop were two atomic operations per event).
struct Delivery {
    process: ProcRef,
    call: Call,
}

/// What the host is called with, besides the process (`Delivery`).
enum Call {
    Filter {
        filter: Value,
        data: Vec<u8>,
    },
    Sentinel {
        sentinel: Value,
        event: SentinelEvent,
        unlisted: Option<ProcRef>,
    },
    /// The process is the accepted client.
    Accept {
        accepted: Accepted,
    },
    /// The process is the server.
    AcceptFailed {
        log: Value,
        errno: i32,
    },
}

impl Core {
    /// Take the next arrival and apply what it changes; None when there is nothing to
    /// deliver. An arrival that produces no host call yields `Some(None)`.
    /// The next delivery: of any process, or with `only`, of that process alone.
    fn next_delivery(&mut self, only: Option<&ProcRef>) -> Option<Option<Delivery>> {
        let (process, arrival) = match only {
            None => self.inbox().pop()?,
            Some(process) => self.inbox().pop_for(process)?,
        };
        let call = {
            let mut state = process.state.lock();
            self.apply(&process, &mut state, arrival)
        };
        match call {
            Some(call) => Some(Some(Delivery { process, call })),
            None => {
                self.release_later(process);
                Some(None)
            }
        }
    }

    /// Take back a delivery's spent read buffers; the references to let go of once the
    /// locks are released.
    fn finish_delivery(&mut self, spent: Vec<Vec<u8>>) -> Vec<ProcRef> {
        let size = self.settings().read_max;
        self.buffers().return_spent(spent, size);
        self.take_releases()
    }

    /// Apply one arrival to its process (under both locks) and say which host call it
    /// makes.
    fn apply(&mut self, process: &ProcRef, state: &mut State, arrival: Arrival) -> Option<Call> {
        if state.is_deleted() {
            // delete-process discards what was not delivered, as Emacs closes the socket
            // with its unread input.
            return None;
        }
        if arrival.is_input() && state.lifecycle.is_failed() {
            // What was read before a connection failed (a TLS client its host refused)
            // goes with it: a failed connection never had its "open".
            return None;
        }
        if arrival.is_input() && (state.holds_back_input() || state.holds_arrivals()) {
            self.inbox().hold(process, state, arrival);
            return None;
        }
        match arrival {
            Arrival::Data { bytes, sender } => {
                if let Some(sender) = sender {
                    // Emacs sets the reply address per read, right before the filter runs.
                    state.delivering_from(sender);
                }
                if state.framer().is_some() {
                    return self.deliver_message(process, state, Some(bytes));
                }
                let whole = state.kind() == super::socket::SocketKind::Datagram;
                // Binary input (the common case) skips the decoder's call altogether.
                let (data, multibyte) = if state.coding.passes_input() {
                    (bytes, false)
                } else {
                    self.decode(state, bytes, whole)
                };
                if data.is_empty() && state.kind() != super::socket::SocketKind::Datagram {
                    // The decoder holds all of it (a character cut by the read).
                    let size = self.settings().read_max;
                    self.buffers().give_back(data, size);
                    return None;
                }
                self.filter_call(state, data, multibyte)
            }
            Arrival::Text(Decoded { data, multibyte }) => self.filter_call(state, data, multibyte),
            Arrival::Framed => self.deliver_message(process, state, None),
            Arrival::Closed { reset } => {
                // What a framer holds that makes no whole message (a last line without its
                // LF) still reaches the filter, in one call, before the sentinel.
                let rest =
                    state.framer_mut().map(|framer| framer.take_rest()).filter(|rest| !rest.is_empty());
                if let Some(rest) = rest {
                    self.inbox().push_front(process, Arrival::Closed { reset });
                    let (data, multibyte) = self.decode(state, rest, true);
                    return self.filter_call(state, data, multibyte);
                }
                // A character cut short by the close still reaches the filter, as raw
                // bytes, before the sentinel: deliver that first, then this again.
                if let Some(Decoded { data, multibyte }) = state.coding.finish() {
                    self.inbox().push_front(process, Arrival::Closed { reset });
                    return self.filter_call(state, data, multibyte);
                }
                state.lifecycle.peer_closed();
                let unlisted = self.table().unlist(process, state);
                self.close_after_peer(process, state, reset);
                Some(Call::Sentinel {
                    sentinel: state.sentinel().clone(),
                    event: SentinelEvent::PeerClosed { reset },
                    unlisted,
                })
            }
            Arrival::Connected { already_open } => {
                // A TLS client stays `connect` while its host judges it (tls_check_passes).
                let open_now = if !already_open && state.awaits_tls_check() {
                    state.lifecycle.is_connecting()
                } else {
                    state.lifecycle.opened()
                };
                let announced_open = already_open && state.lifecycle.status() == ProcessStatus::Open;
                if !(open_now || announced_open) {
                    return None;
                }
                Some(Call::Sentinel {
                    sentinel: state.sentinel().clone(),
                    event: SentinelEvent::Open,
                    unlisted: None,
                })
            }
            Arrival::ConnectFailed(failure) => {
                let (code, errno) = (failure.code_text(), failure.errno());
                // Failed already when the create call itself found the failure.
                if !state.lifecycle.connect_failed(failure) && !state.lifecycle.is_failed() {
                    return None;
                }
                Some(Call::Sentinel {
                    sentinel: state.sentinel().clone(),
                    event: SentinelEvent::Failed { code, errno },
                    unlisted: None,
                })
            }
            Arrival::TlsFailed(message) => {
                if !state.lifecycle.tls_failed(Failure::Tls(message.clone())) {
                    return None;
                }
                Some(Call::Sentinel {
                    sentinel: state.sentinel().clone(),
                    event: SentinelEvent::Failed { code: message, errno: None },
                    unlisted: None,
                })
            }
            Arrival::Accepted(accepted) => Some(Call::Accept { accepted }),
            Arrival::Drained => {
                let drain = state.watermark()?.drain().clone();
                drain.is_non_nil().then(|| Call::Sentinel {
                    sentinel: drain,
                    event: SentinelEvent::Drain,
                    unlisted: None,
                })
            }
            Arrival::AcceptFailed { errno } => {
                let log = state.log();
                log.is_non_nil().then(|| Call::AcceptFailed { log, errno })
            }
        }
    }

    fn filter_call(&mut self, state: &mut State, data: Vec<u8>, multibyte: bool) -> Option<Call> {
        state.delivering_to_filter(multibyte);
        Some(Call::Filter { filter: state.filter().clone(), data })
    }

    /// Feed a framed process's framer (with a read's bytes, or none for an
    /// `Arrival::Framed`) and deliver its next whole message, queueing an `Arrival::Framed`
    /// to be delivered next when the one after is whole already, as Emacs gives a read's
    /// bytes to the filter before anything else. A stream that cannot be framed fails.
    fn deliver_message(
        &mut self,
        process: &ProcRef,
        state: &mut State,
        bytes: Option<Vec<u8>>,
    ) -> Option<Call> {
        let size = self.settings().read_max;
        // No framer: the framing was turned off since this was queued, and what the
        // framer held went on as plain bytes (framing_ops.rs).
        let framer = state.framer_mut()?;
        if let Some(bytes) = bytes {
            framer.push(&bytes);
            self.buffers().give_back(bytes, size);
        }
        let next = framer.next_message()?;
        let more = framer.ready();
        match next {
            Ok(message) => {
                if more {
                    // Next, before anything else: the process holds nothing now (`apply`
                    // checked), and its later arrivals were recorded after these bytes.
                    self.inbox().push_front(process, Arrival::Framed);
                }
                // Decoded as the process decodes, each message on its own (as a
                // datagram): a character cut by its end arrives as raw bytes in it.
                let (data, multibyte) = self.decode(state, message, true);
                self.filter_call(state, data, multibyte)
            }
            Err(error) => self.fail_framing(process, state, error),
        }
    }

    /// A stream that cannot be framed (a message over `:framing-max`, a header that
    /// cannot be read): the process fails, its socket closes once what its filter queued
    /// is written, and nothing more it sent is delivered (`Core::apply` drops a failed
    /// process's input). Its sentinel hears `"failed with code REASON\n"`.
    fn fail_framing(&mut self, process: &ProcRef, state: &mut State, error: FramingError) -> Option<Call> {
        let reason = error.reason();
        if !state.lifecycle.framing_failed(Failure::Framing(reason.clone())) {
            return None;
        }
        self.close_when_drained(process, state);
        Some(Call::Sentinel {
            sentinel: state.sentinel().clone(),
            event: SentinelEvent::Failed { code: reason, errno: None },
            unlisted: None,
        })
    }

    /// Decode bytes with the coding system in force now. Bytes that pass unchanged travel
    /// in their own buffer. `whole`: the bytes are a unit of their own (a datagram, a
    /// framed message), decoded with nothing held for what comes next, and delivered even
    /// when empty; otherwise an empty result (all held by the decoder) is not delivered.
    fn decode(&mut self, state: &mut State, bytes: Vec<u8>, whole: bool) -> (Vec<u8>, bool) {
        let datagram = state.kind() == super::socket::SocketKind::Datagram;
        if state.coding.passes_input() {
            return (bytes, false);
        }
        if !datagram && state.coding.passes_unchanged(&bytes) {
            // Valid UTF-8 with LF line ends: W6 would otherwise copy every read.
            return (bytes, true);
        }
        let size = self.settings().read_max;
        let mut decoded = self.buffers().take(size.max(bytes.len() + 8));
        let mut multibyte = state.coding.decode_into(&bytes, &mut decoded);
        if whole {
            // Each datagram or message is decoded on its own: a partial character cannot
            // continue in the next one.
            if let Some(held) = state.coding.finish() {
                decoded.extend_from_slice(&held.data);
                multibyte = held.multibyte;
            }
        }
        self.buffers().give_back(bytes, size);
        (decoded, multibyte)
    }
}

impl Shared {
    /// Deliver what has arrived, in order, running the host's callbacks with no lock of
    /// ours held. Returns how many callbacks ran. Arrivals recorded while this runs (a
    /// send that found the peer gone) are delivered too, up to a bound, so that one call
    /// cannot run forever; the rest wait for the next poll. So do the arrivals left when
    /// the host asks to pause ([`Host::pause_delivery`]): nothing is applied to a process
    /// before it is delivered, so a pause changes no status and reorders nothing.
    /// With `only`, what is due to that process alone (the rest waits in order):
    /// `accept-process-output` with JUST-THIS-ONE.
    pub(crate) fn dispatch(&self, only: Option<&ProcRef>, host: &mut dyn Host) -> usize {
        let mut calls = 0;
        // The host is asked with no lock held, before each host call.
        let mut paused = host.pause_delivery();
        // One lock for the bookkeeping and each next delivery, released for the host call
        // only: a poll that delivers one event takes the core lock twice (it took it four
        // times, a tenth of a ping-pong's user time).
        let mut core = self.core.lock();
        let mut budget = core.inbox().len().saturating_mul(2) + 64;
        let mut spent = core.buffers().spent_list();
        while budget > 0 && !paused {
            budget -= 1;
            let Some(next) = core.next_delivery(only) else { break };
            let Some(delivery) = next else { continue };
            drop(core);
            calls += self.deliver(delivery, host, &mut spent);
            paused = host.pause_delivery();
            core = self.core.lock();
        }
        let releases = core.finish_delivery(spent);
        drop(core);
        // Last references go outside the locks: dropping one may run host destructors.
        drop(releases);
        calls
    }

    /// Whether arrivals wait for delivery (to `only`, if given): what a paused delivery
    /// left. The Emacs module delivers them before it reads more, so that a host slower
    /// than the network never makes the queue grow past one turn's reads.
    #[cfg(feature = "emacs-module")]
    pub(crate) fn has_queued(&self, only: Option<&ProcRef>) -> bool {
        let mut core = self.core.lock();
        match only {
            None => !core.inbox().is_empty(),
            Some(process) => core.inbox().has_for(process),
        }
    }

    /// How many arrivals wait for delivery: at most one turn's reads, and a few, when the
    /// host delivers what is queued before it polls again (a test's figure).
    #[cfg(feature = "emacs-module")]
    pub(crate) fn queued_count(&self) -> usize {
        self.core.lock().inbox().len()
    }

    /// Deliver what is queued, without reading more (see [`Shared::has_queued`]).
    #[cfg(feature = "emacs-module")]
    pub(crate) fn deliver_queued(&self, only: Option<&ProcRef>, host: &mut dyn Host) -> Result<usize> {
        self.check_usable()?;
        Ok(self.dispatch(only, host))
    }

    /// Emacs's notify pass (status_notify), which `delete-process` runs: deliver the status
    /// news already recorded (a close, a connect result), in order, but no input, so that
    /// filters still run only from a poll. News recorded behind input for the same process
    /// waits for the next poll with it. Returns how many callbacks ran.
    pub fn notify_pending(&self, host: &mut dyn Host) -> usize {
        let news = self.core.lock().inbox().take_status_news();
        let mut calls = 0;
        let mut spent = self.core.lock().buffers().spent_list();
        for (process, arrival) in news {
            let call = {
                let mut core = self.core.lock();
                let mut state = process.state.lock();
                core.apply(&process, &mut state, arrival)
            };
            if let Some(call) = call {
                calls += self.deliver(Delivery { process, call }, host, &mut spent);
            }
        }
        self.finish_delivery(spent);
        calls
    }

    /// Hand spent read buffers back and let go of references, outside the locks.
    fn finish_delivery(&self, spent: Vec<Vec<u8>>) {
        let releases = self.core.lock().finish_delivery(spent);
        // Last references go outside the locks: dropping one may run host destructors.
        drop(releases);
    }

    /// Make one host call.
    fn deliver(&self, delivery: Delivery, host: &mut dyn Host, spent: &mut Vec<Vec<u8>>) -> usize {
        let Delivery { process, call } = delivery;
        match call {
            Call::Filter { filter, data } => {
                self.call_host(|| host.filter(&process, &filter, &data));
                process.state.lock().delivered_to_filter();
                if super::buffers::BufferPool::may_return(&data) {
                    spent.push(data);
                }
                1
            }
            Call::Sentinel { sentinel, event, unlisted } => {
                if event == SentinelEvent::Open && !self.tls_check_passes(&process, host) {
                    return 0;
                }
                self.call_host(|| host.sentinel(&process, &sentinel, &event));
                // The list's reference goes after the call (it may be the last one).
                drop(unlisted);
                1
            }
            Call::Accept { accepted } => self.deliver_accept(&process, accepted, host),
            Call::AcceptFailed { log, errno } => {
                self.call_host(|| host.log(&process, &log, None, &LogEvent::AcceptFailed(errno)));
                1
            }
        }
    }

    /// Before a TLS client's `"open\n"`: the host's own check of the finished handshake
    /// (`Host::tls_check`, Emacs's Network Security Manager, which Emacs's
    /// finish_after_tls_connection in src/process.c asks at this point). A refusal fails
    /// the connection, whose `"failed with code REASON\n"` comes next instead.
    fn tls_check_passes(&self, process: &ProcRef, host: &mut dyn Host) -> bool {
        if !process.state.lock().awaits_tls_check() {
            return true;
        }
        let verdict = self.call_host(|| host.tls_check(process));
        let mut core = self.core.lock();
        let mut state = process.state.lock();
        match verdict {
            // `connect` → `open` now; a process the check deleted stays closed, unannounced.
            Ok(()) => state.lifecycle.opened(),
            Err(reason) => {
                core.refuse_tls(process, &mut state, reason);
                false
            }
        }
    }

    /// An accepted connection's opening, as Emacs's server_accept_connection makes it:
    /// the client's buffer, the server's log call, then the client's `"open from …"`.
    fn deliver_accept(&self, client: &ProcRef, accepted: Accepted, host: &mut dyn Host) -> usize {
        let server = &accepted.server;
        let (server_buffer, log) = {
            let state = server.state.lock();
            (state.buffer().clone(), state.log())
        };
        if accepted.wants_buffer {
            // Emacs names the buffer after the server's live buffer, else the server's name;
            // a server whose buffer is dead gets no client buffers at all.
            let base = if server_buffer.is_nil() {
                Some(server.name().to_vec())
            } else {
                self.call_host(|| host.buffer_name(&server_buffer))
            };
            if let Some(mut name) = base {
                name.push(b' ');
                name.extend_from_slice(accepted.client_id(client));
                let buffer = self.call_host(|| host.get_buffer_create(&name));
                client.state.lock().set_buffer_at_opening(buffer);
            }
        }
        let mut calls = 0;
        if log.is_non_nil() {
            let event = LogEvent::AcceptFrom(accepted.host);
            self.call_host(|| host.log(server, &log, Some(client), &event));
            calls += 1;
        }
        let sentinel = {
            let state = client.state.lock();
            if state.is_deleted() {
                return calls;
            }
            state.sentinel().clone()
        };
        let event = SentinelEvent::OpenFrom(accepted.host);
        self.call_host(|| host.sentinel(client, &sentinel, &event));
        calls + 1
    }
}
