//! What happened to each process, in order, and its delivery to the host.
//!
//! The reactor and the primitives only *record* arrivals: bytes as read (a datagram with
//! its own sender), an end of file or a reset, a connect result, an accepted connection.
//! A process's status, its decoding and its datagram reply address change when the arrival
//! that changes them is *delivered*, here, right before the host hears of it. So a filter
//! that runs on bytes read together with an end of file still sees its process `open` and
//! can answer; a filter that changes the coding system changes how the very next bytes
//! are decoded; each datagram's filter call sees that datagram's sender.
//!
//! One process's stream is the subsequence of the context's arrival queue that names it.
//! While the process holds its input (`stop-process`, a filter of `t`), its arrivals move
//! to the process's own held queue instead, and every later one follows them there, so
//! nothing jumps the queue; `continue-process` puts them back, in order.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use super::address::Address;
use super::context::{Core, Host, Shared};
use super::process::{messages, ProcRef, State};
use super::process_coding::Decoded;
use super::status::Failure;
use super::value::Value;

/// Something that happened to a process, waiting to be delivered.
pub(crate) enum Arrival {
    /// Bytes as read, decoded at delivery. A datagram is one arrival, with its sender when
    /// the sender has an address to answer.
    Data { bytes: Vec<u8>, sender: Option<Box<Address>> },
    /// Text already decoded: what a decoder still held when its coding system changed.
    Text(Decoded),
    /// The peer closed its side (end of file), or the connection broke (`reset`).
    Closed { reset: bool },
    /// A `:nowait` connect finished.
    Connected,
    /// A `:nowait` lookup or connect failed.
    ConnectFailed(Failure),
    /// This accepted connection's opening: its buffer, the server's log call, then its
    /// `"open from …"` sentinel, before anything it sends.
    Accepted(Box<Accepted>),
    /// accept() failed on this server: one log call.
    AcceptFailed { errno: i32 },
}

/// The details of an accepted connection's opening.
pub(crate) struct Accepted {
    pub(crate) server: ProcRef,
    pub(crate) host: String,
    pub(crate) client_id: String,
    pub(crate) wants_buffer: bool,
}

impl Arrival {
    /// Input is what a stopped process (or one whose filter is `t`) holds back: its data
    /// and the close that follows it. Status news about the connection itself is not.
    fn is_input(&self) -> bool {
        matches!(self, Arrival::Data { .. } | Arrival::Text(_) | Arrival::Closed { .. })
    }
}

/// One host call, worked out under the locks and made after they are released.
enum Delivery {
    Filter { process: ProcRef, filter: Value, data: Vec<u8> },
    Sentinel { process: ProcRef, sentinel: Value, message: Cow<'static, str>, unlisted: Option<ProcRef> },
    Accept { client: ProcRef, accepted: Box<Accepted> },
    AcceptFailed { server: ProcRef, log: Value, errno: i32 },
}

impl State {
    /// Whether the process holds its input now.
    fn holding(&self) -> bool {
        self.lifecycle.is_stopped() || self.filter.is_symbol("t")
    }
}

impl Core {
    /// Record an arrival after everything already recorded for the process.
    pub(crate) fn arrive(&mut self, process: &ProcRef, state: &mut State, arrival: Arrival) {
        if state.holds_input() {
            state.occasional_mut().held.push_back(arrival);
        } else {
            self.arrivals.push_back((process.clone(), arrival));
        }
    }

    /// Record text that must reach the filter before anything still waiting for the
    /// process (a decoder's leftovers when its coding system changes).
    pub(crate) fn arrive_first(&mut self, process: &ProcRef, state: &mut State, text: Decoded) {
        if state.holds_input() {
            state.occasional_mut().held.push_front(Arrival::Text(text));
        } else {
            self.put_ahead(process, std::iter::once(Arrival::Text(text)));
        }
    }

    /// Give held arrivals back to the queue once the process reads again; true when it
    /// had any (its socket may then be read again too).
    pub(crate) fn release_held(&mut self, process: &ProcRef, state: &mut State) -> bool {
        if state.holding() {
            return false;
        }
        let Some(more) = state.occasional_mut_if_any() else { return false };
        if more.held.is_empty() {
            return false;
        }
        let held = std::mem::take(&mut more.held);
        self.put_ahead(process, held.into_iter());
        true
    }

    /// Queue `arrivals` ahead of whatever the queue still has for `process`: those were
    /// recorded later (they reached the queue while the process was held, or after the
    /// bytes a decoder kept). Other processes keep their places.
    fn put_ahead(&mut self, process: &ProcRef, arrivals: impl Iterator<Item = Arrival>) {
        let first = self.arrivals.iter().position(|(queued, _)| Arc::ptr_eq(queued, process));
        let start = first.unwrap_or(self.arrivals.len());
        for (at, arrival) in (start..).zip(arrivals) {
            self.arrivals.insert(at, (process.clone(), arrival));
        }
    }

    /// Take the next arrival and apply what it changes; None when there is nothing to
    /// deliver. An arrival that produces no host call yields `Some(None)`.
    fn next_delivery(&mut self) -> Option<Option<Delivery>> {
        let (process, arrival) = self.arrivals.pop_front()?;
        let delivery = {
            let mut state = process.state.lock();
            self.apply(&process, &mut state, arrival)
        };
        if delivery.is_none() {
            self.release_later(process);
        }
        Some(delivery)
    }

    /// Apply one arrival to its process (under both locks) and say which host call it
    /// makes.
    fn apply(&mut self, process: &ProcRef, state: &mut State, arrival: Arrival) -> Option<Delivery> {
        if state.deleted {
            // delete-process discards what was not delivered, as Emacs closes the socket
            // with its unread input.
            return None;
        }
        if arrival.is_input() && (state.holding() || state.holds_input()) {
            state.occasional_mut().held.push_back(arrival);
            return None;
        }
        match arrival {
            Arrival::Data { bytes, sender } => {
                if let Some(sender) = sender {
                    // Emacs sets the reply address per read, right before the filter runs.
                    state.occasional_mut().datagram_peer = Some(*sender);
                }
                let (data, multibyte) = self.decode(state, bytes);
                if data.is_empty() && state.kind != super::socket::SocketKind::Datagram {
                    // The decoder holds all of it (a character cut by the read).
                    self.buffers.give_back(data, self.settings.read_max);
                    return None;
                }
                self.filter_call(process, state, data, multibyte)
            }
            Arrival::Text(Decoded { data, multibyte }) => self.filter_call(process, state, data, multibyte),
            Arrival::Closed { reset } => {
                // A character cut short by the close still reaches the filter, as raw
                // bytes, before the sentinel: deliver that first, then this again.
                if let Some(Decoded { data, multibyte }) = state.coding.finish() {
                    self.arrivals.push_front((process.clone(), Arrival::Closed { reset }));
                    return self.filter_call(process, state, data, multibyte);
                }
                state.lifecycle.peer_closed();
                let unlisted = self.take_listed(process, state);
                self.close_after_peer(process, state, reset);
                Some(Delivery::Sentinel {
                    process: process.clone(),
                    sentinel: state.sentinel.clone(),
                    message: messages::BROKEN.into(),
                    unlisted,
                })
            }
            Arrival::Connected => {
                if !state.lifecycle.opened() {
                    return None;
                }
                Some(Delivery::Sentinel {
                    process: process.clone(),
                    sentinel: state.sentinel.clone(),
                    message: messages::OPEN.into(),
                    unlisted: None,
                })
            }
            Arrival::ConnectFailed(failure) => {
                let code = match &failure {
                    Failure::Errno(errno) => errno.to_string(),
                    Failure::Lookup(message) => message.clone(),
                };
                // Failed already when the create call itself found the failure.
                if !state.lifecycle.connect_failed(failure) && !state.lifecycle.is_failed() {
                    return None;
                }
                Some(Delivery::Sentinel {
                    process: process.clone(),
                    sentinel: state.sentinel.clone(),
                    message: messages::failed(&code).into(),
                    unlisted: None,
                })
            }
            Arrival::Accepted(accepted) => Some(Delivery::Accept { client: process.clone(), accepted }),
            Arrival::AcceptFailed { errno } => {
                let log = state.log();
                log.is_non_nil().then(|| Delivery::AcceptFailed { server: process.clone(), log, errno })
            }
        }
    }

    fn filter_call(
        &mut self,
        process: &ProcRef,
        state: &mut State,
        data: Vec<u8>,
        multibyte: bool,
    ) -> Option<Delivery> {
        state.delivering_multibyte = Some(multibyte);
        Some(Delivery::Filter { process: process.clone(), filter: state.filter.clone(), data })
    }

    /// Decode bytes with the coding system in force now. Bytes that pass unchanged travel
    /// in their own buffer; an empty result (all held by the decoder) is still delivered
    /// only when the bytes were a datagram, which is one filter call even when empty.
    fn decode(&mut self, state: &mut State, bytes: Vec<u8>) -> (Vec<u8>, bool) {
        let datagram = state.kind == super::socket::SocketKind::Datagram;
        if state.coding.passes_input() {
            return (bytes, false);
        }
        if !datagram && state.coding.passes_unchanged(&bytes) {
            // Valid UTF-8 with LF line ends: W6 would otherwise copy every read.
            return (bytes, true);
        }
        let size = self.settings.read_max;
        let mut decoded = self.buffers.take(size.max(bytes.len() + 8));
        let mut multibyte = state.coding.decode_into(&bytes, &mut decoded);
        if datagram {
            // Each datagram is decoded on its own: a partial character cannot continue
            // in the next one.
            if let Some(held) = state.coding.finish() {
                decoded.extend_from_slice(&held.data);
                multibyte = held.multibyte;
            }
        }
        self.buffers.give_back(bytes, size);
        (decoded, multibyte)
    }
}

impl Shared {
    /// Deliver what has arrived, in order, running the host's callbacks with no lock of
    /// ours held. Returns how many callbacks ran. Arrivals recorded while this runs (a
    /// send that found the peer gone) are delivered too, up to a bound, so that one call
    /// cannot run forever; the rest wait for the next poll.
    pub(crate) fn dispatch(&self, host: &mut dyn Host) -> usize {
        let mut calls = 0;
        let mut spent = Vec::new();
        let mut budget = self.core.lock().arrivals.len().saturating_mul(2) + 64;
        while budget > 0 {
            budget -= 1;
            let next = self.core.lock().next_delivery();
            let Some(delivery) = next else { break };
            if let Some(delivery) = delivery {
                calls += self.deliver(delivery, host, &mut spent);
            }
        }
        let releases = {
            let mut core = self.core.lock();
            let size = core.settings.read_max;
            for buffer in spent {
                core.buffers.give_back(buffer, size);
            }
            std::mem::take(&mut core.releases)
        };
        // Last references go outside the locks: dropping one may run host destructors.
        drop(releases);
        calls
    }

    /// Make one host call.
    fn deliver(&self, delivery: Delivery, host: &mut dyn Host, spent: &mut Vec<Vec<u8>>) -> usize {
        match delivery {
            Delivery::Filter { process, filter, data } => {
                self.call_host(|| host.filter(&process, &filter, &data));
                process.state.lock().delivering_multibyte = None;
                if super::buffers::BufferPool::may_return(&data) {
                    spent.push(data);
                }
                1
            }
            Delivery::Sentinel { process, sentinel, message, unlisted } => {
                self.call_host(|| host.sentinel(&process, &sentinel, &message));
                // The list's reference goes after the call (it may be the last one).
                drop(unlisted);
                1
            }
            Delivery::Accept { client, accepted } => self.deliver_accept(&client, &accepted, host),
            Delivery::AcceptFailed { server, log, errno } => {
                let message = messages::accept_failed(errno);
                self.call_host(|| host.log(&server, &log, None, &message));
                1
            }
        }
    }

    /// An accepted connection's opening, as Emacs's server_accept_connection makes it:
    /// the client's buffer, the server's log call, then the client's `"open from …"`.
    fn deliver_accept(&self, client: &ProcRef, accepted: &Accepted, host: &mut dyn Host) -> usize {
        let server = &accepted.server;
        let (server_buffer, log) = {
            let state = server.state.lock();
            (state.buffer.clone(), state.log())
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
                name.extend_from_slice(accepted.client_id.as_bytes());
                let buffer = self.call_host(|| host.get_buffer_create(&name));
                client.state.lock().buffer = buffer;
            }
        }
        let mut calls = 0;
        if log.is_non_nil() {
            let message = messages::accept_from(&accepted.host);
            self.call_host(|| host.log(server, &log, Some(client), &message));
            calls += 1;
        }
        let sentinel = {
            let state = client.state.lock();
            if state.deleted {
                return calls;
            }
            state.sentinel.clone()
        };
        let message = messages::open_from(&accepted.host);
        self.call_host(|| host.sentinel(client, &sentinel, &message));
        calls + 1
    }
}

/// The held queue's type, kept with a process's occasional state.
pub(crate) type Held = VecDeque<Arrival>;
