//! What happened to each process, in order, waiting to be delivered (delivery.rs delivers
//! it).
//!
//! The reactor and the primitives only *record* arrivals: bytes as read (a datagram with
//! its own sender), an end of file or a reset, a connect result, an accepted connection.
//! A process's status, its decoding and its datagram reply address change when the arrival
//! that changes them is *delivered*, right before the host hears of it.
//!
//! One process's stream is the subsequence of the context's queue that names it. While the
//! process holds its input (`stop-process`, a filter of `t`), its arrivals move to a held
//! queue of its own instead, and every later one follows them there, so nothing jumps the
//! queue; `continue-process` puts them back, ahead of anything the process still has
//! queued. [`Inbox`] owns both, and keeps `State::holds_arrivals` true exactly while a
//! process has held arrivals.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::address::Address;
use super::process::{ProcRef, State};
use super::process_coding::Decoded;
use super::short_text::HostText;
use super::status::Failure;

/// Something that happened to a process, waiting to be delivered.
pub(crate) enum Arrival {
    /// Bytes as read, decoded at delivery. A datagram is one arrival, with its sender when
    /// the sender has an address to answer.
    Data { bytes: Vec<u8>, sender: Option<Address> },
    /// Text already decoded: what a decoder still held when its coding system changed.
    Text(Decoded),
    /// With `:framing`: the process's framer has the next whole message (or the reason the
    /// stream cannot be framed) ready. Its messages go out one per arrival, so that each is
    /// decoded, and held by `stop-process`, when its turn comes, as a read would be.
    Framed,
    /// The peer closed its side (end of file), or the connection broke (`reset`).
    Closed { reset: bool },
    /// A `:nowait` connect finished (with its TLS handshake, if any). `already_open`: a
    /// blocking TLS connect, open when its create call returned, whose `"open\n"` sentinel
    /// still runs, as Emacs's finish_after_tls_connection runs it.
    Connected { already_open: bool },
    /// A `:nowait` lookup or connect failed.
    ConnectFailed(Failure),
    /// A TLS handshake (after a connect, or a STARTTLS upgrade) failed; why.
    TlsFailed(String),
    /// This accepted connection's opening: its buffer, the server's log call, then its
    /// `"open from …"` sentinel, before anything it sends.
    Accepted(Accepted),
    /// accept() failed on this server: one log call.
    AcceptFailed { errno: i32 },
    /// The output queue fell back below half the high-water mark: the drain function runs.
    Drained,
}

/// The details of an accepted connection's opening.
/// Kept in the arrival itself, not boxed: a box was an allocation and a free per
/// accepted connection.
pub(crate) struct Accepted {
    pub(crate) server: ProcRef,
    pub(crate) host: HostText,
    /// The client id's length: the id is kept once, in the client's name, which is the
    /// server's name, a space and the id (and `<N>` after them when that was taken).
    pub(crate) client_id_length: u8,
    pub(crate) wants_buffer: bool,
}

impl Accepted {
    /// The client id (`<127.0.0.1:40312>`), as it is in the name of `client`.
    pub(crate) fn client_id<'a>(&self, client: &'a ProcRef) -> &'a [u8] {
        let start = self.server.name().len() + 1;
        let end = start + usize::from(self.client_id_length);
        client.name().get(start..end).unwrap_or_default()
    }
}

impl Arrival {
    /// Input is what a stopped process (or one whose filter is `t`) holds back: its data
    /// and the close that follows it. Status news about the connection itself is not.
    pub(crate) fn is_input(&self) -> bool {
        self.is_data() || matches!(self, Arrival::Closed { .. })
    }

    /// What reaches a filter: bytes read, decoded text, a framed message.
    fn is_data(&self) -> bool {
        matches!(self, Arrival::Data { .. } | Arrival::Text(_) | Arrival::Framed)
    }
}

/// The context's arrivals: one ordered queue, and the held queues of processes that hold
/// their input, by serial.
#[derive(Default)]
pub(crate) struct Inbox {
    queue: VecDeque<(ProcRef, Arrival)>,
    held: HashMap<u64, VecDeque<Arrival>>,
}

impl Inbox {
    /// Whether nothing waits for delivery (held arrivals wait for their process, not for
    /// delivery).
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many arrivals wait for delivery.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Record an arrival after everything already recorded for the process.
    pub(crate) fn record(&mut self, process: &ProcRef, state: &mut State, arrival: Arrival) {
        if state.holds_arrivals() {
            self.hold(process, state, arrival);
        } else {
            self.queue.push_back((process.clone(), arrival));
        }
    }

    /// Record text that must reach the filter before anything still waiting for the
    /// process (a decoder's leftovers when its coding system changes).
    pub(crate) fn record_first(&mut self, process: &ProcRef, state: &mut State, text: Decoded) {
        self.record_ahead(process, state, Arrival::Text(text));
    }

    /// Record an arrival to be delivered before anything still waiting for the process.
    pub(crate) fn record_ahead(&mut self, process: &ProcRef, state: &mut State, arrival: Arrival) {
        if state.holds_arrivals() {
            self.held.entry(process.serial).or_default().push_front(arrival);
        } else {
            self.put_ahead(process, std::iter::once(arrival));
        }
    }

    /// Keep an arrival for when the process reads again, after those already kept.
    pub(crate) fn hold(&mut self, process: &ProcRef, state: &mut State, arrival: Arrival) {
        self.held.entry(process.serial).or_default().push_back(arrival);
        state.start_holding_arrivals();
    }

    /// Give held arrivals back to the queue once the process reads again; true when it
    /// had any (its socket may then be read again too).
    pub(crate) fn release(&mut self, process: &ProcRef, state: &mut State) -> bool {
        if state.holds_back_input() || !state.holds_arrivals() {
            return false;
        }
        state.stop_holding_arrivals();
        let held = self.held.remove(&process.serial).unwrap_or_default();
        self.put_ahead(process, held.into_iter());
        true
    }

    /// Forget what a deleted process held.
    pub(crate) fn drop_held(&mut self, process: &ProcRef, state: &mut State) {
        if state.stop_holding_arrivals() {
            self.held.remove(&process.serial);
        }
    }

    /// Take out, in order, the status news that can be delivered now: every arrival but
    /// input (data, decoded text) that no input recorded before it for the same process
    /// holds back. Emacs's status_notify delivers such news and never input.
    pub(crate) fn take_status_news(&mut self) -> Vec<(ProcRef, Arrival)> {
        let mut behind_input = HashSet::new();
        let mut news = Vec::new();
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for (process, arrival) in self.queue.drain(..) {
            if arrival.is_data() {
                behind_input.insert(process.serial);
                kept.push_back((process, arrival));
            } else if behind_input.contains(&process.serial) {
                kept.push_back((process, arrival));
            } else {
                news.push((process, arrival));
            }
        }
        self.queue = kept;
        news
    }

    /// Whether an arrival for `process` waits for delivery.
    #[cfg(feature = "emacs-module")]
    pub(crate) fn has_for(&self, process: &ProcRef) -> bool {
        self.queue.iter().any(|(queued, _)| Arc::ptr_eq(queued, process))
    }

    /// The next arrival to deliver.
    pub(crate) fn pop(&mut self) -> Option<(ProcRef, Arrival)> {
        self.queue.pop_front()
    }

    /// The first arrival for `process`, taken out; the others keep their places (each
    /// process's own stream stays in order, which is all the queue promises).
    pub(crate) fn pop_for(&mut self, process: &ProcRef) -> Option<(ProcRef, Arrival)> {
        let index = self.queue.iter().position(|(queued, _)| Arc::ptr_eq(queued, process))?;
        self.queue.remove(index)
    }

    /// Put an arrival back at the front, to be delivered next.
    pub(crate) fn push_front(&mut self, process: &ProcRef, arrival: Arrival) {
        self.queue.push_front((process.clone(), arrival));
    }

    /// Queue `arrivals` ahead of whatever the queue still has for `process`: those were
    /// recorded later (they reached the queue while the process was held, or after the
    /// bytes a decoder kept). Other processes keep their places.
    fn put_ahead(&mut self, process: &ProcRef, arrivals: impl Iterator<Item = Arrival>) {
        let first = self.queue.iter().position(|(queued, _)| Arc::ptr_eq(queued, process));
        let start = first.unwrap_or(self.queue.len());
        for (at, arrival) in (start..).zip(arrivals) {
            self.queue.insert(at, (process.clone(), arrival));
        }
    }
}
