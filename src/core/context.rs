//! The context: one reactor, its process table and process list, and the dispatch of
//! events to the host.
//!
//! Locking rule: the context lock is taken before any process's state lock, never after;
//! and no lock of ours is held while host code runs. Work is gathered under the locks into
//! a batch of [`Event`]s, the locks are released, and only then is the host called.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;

use super::address::Address;
use super::buffers::BufferPool;
use super::coding::CodingSystem;
use super::datagrams::DatagramBatch;
use super::error::{Error, Result};
use super::process::{Name, ProcRef, Role, State};
use super::resolve::Resolver;
use super::value::Value;

/// The mio token of the cross-thread waker.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

/// What the host does for netproc: run callbacks and make buffers. Implemented by each
/// boundary layer (C, Emacs). Called only from the context's thread, with no lock held.
pub trait Host {
    /// Deliver output to a filter; `filter` is the process's filter value (nil = default).
    fn filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8]);
    /// Report a status change to a sentinel (nil = default).
    fn sentinel(&mut self, process: &ProcRef, sentinel: &Value, message: &str);
    /// Report an accept (client given) or an accept failure (no client) to a log function.
    fn log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, message: &str);
    /// The name of a live buffer, or None when `buffer` is nil or dead.
    fn buffer_name(&mut self, buffer: &Value) -> Option<Vec<u8>>;
    /// `get-buffer-create`: the buffer called `name`, made if needed.
    fn get_buffer_create(&mut self, name: &[u8]) -> Value;
}

/// Something the host must hear about, gathered under the lock and dispatched after.
pub(crate) enum Event {
    /// Bytes for the filter; for a datagram server, also who sent them, which becomes the
    /// address its replies go to just before the filter runs (as Emacs sets it per read).
    Output { process: ProcRef, data: Vec<u8>, multibyte: bool, sender: Option<Address> },
    /// A sentinel message (most are constants, so not allocated per event).
    Status { process: ProcRef, message: std::borrow::Cow<'static, str> },
    /// A server accepted a connection: make its buffer, log, then "open from".
    Accept { server: ProcRef, client: ProcRef, host: String, client_id: String, wants_buffer: bool },
    /// accept() failed.
    AcceptFailed { server: ProcRef, errno: i32 },
    /// Nothing to say; holds a process whose memory must be released outside the locks
    /// (its drop may run host destructors).
    Release(ProcRef),
}

/// The most event slots an idle context keeps allocated between turns.
const MAX_KEPT_EVENTS: usize = 4096;

/// Tunables a host may change.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The most bytes one read takes (Emacs's `read-process-output-max`).
    pub read_max: usize,
    /// The (DECODING . ENCODING) a process gets without `:coding`: binary unless the host
    /// chooses otherwise.
    pub default_coding: (CodingSystem, CodingSystem),
}

impl Default for Settings {
    fn default() -> Settings {
        let binary = CodingSystem::from_name("binary").expect("binary is in the name table");
        Settings { read_max: 65536, default_coding: (binary.clone(), binary) }
    }
}

/// A netproc context, shared between the host's thread and the waker.
pub struct Shared {
    pub(crate) core: Mutex<Core>,
    /// Data of the boundary layer that owns this context (its callbacks, its last error).
    extension: std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>,
    waker: Arc<Waker>,
    /// Set when a panic was caught: the state may be inconsistent, so refuse further work.
    failed: AtomicBool,
    /// How many host callbacks are running (poll and free are refused inside one).
    callback_depth: AtomicUsize,
}

/// Everything behind the context lock.
pub(crate) struct Core {
    pub(crate) poll: Poll,
    pub(crate) events: Events,
    /// Registered sockets by mio token.
    pub(crate) slots: Vec<Option<ProcRef>>,
    free_slots: Vec<usize>,
    /// `process-list`, oldest first (so reversed it is Emacs's newest-first order).
    pub(crate) listed: BTreeMap<u64, ProcRef>,
    pub(crate) names: HashMap<Name, u64>,
    /// Processes that may have input (or accepts) waiting, served round-robin.
    pub(crate) ready: VecDeque<ProcRef>,
    /// Events gathered but not yet dispatched.
    pub(crate) pending: Vec<Event>,
    pub(crate) resolver: Resolver,
    pub(crate) lookups: HashMap<u64, ProcRef>,
    pub(crate) next_serial: u64,
    /// Session-wide count of accepted connections, for `<N>` client ids.
    pub(crate) accept_count: u64,
    pub(crate) settings: Settings,
    /// Scratch space for datagrams, which are copied out at their exact size.
    pub(crate) datagrams: DatagramBatch,
    /// Stream read buffers, reused across reads (see buffers.rs).
    pub(crate) buffers: BufferPool,
    /// Stream bytes the current turn may still read.
    pub(crate) turn_budget: usize,
    /// (token, input, output) of one poll's events; reused from poll to poll.
    pub(crate) ready_events: Vec<(Token, bool, bool)>,
    pub(crate) closed: bool,
    pub(crate) me: Weak<Shared>,
    /// Servers whose accepting is paused after a failure.
    pub(crate) paused_servers: Vec<ProcRef>,
}

impl Shared {
    /// A new context with its own reactor.
    pub fn new() -> io::Result<Arc<Shared>> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER_TOKEN)?);
        let notify_waker = waker.clone();
        let resolver = Resolver::new(Arc::new(move || {
            let _ = notify_waker.wake();
        }));
        Ok(Arc::new_cyclic(|me| Shared {
            core: Mutex::new(Core {
                poll,
                events: Events::with_capacity(1024),
                slots: Vec::new(),
                free_slots: Vec::new(),
                listed: BTreeMap::new(),
                names: HashMap::new(),
                ready: VecDeque::new(),
                pending: Vec::new(),
                resolver,
                lookups: HashMap::new(),
                next_serial: 1,
                accept_count: 0,
                settings: Settings::default(),
                datagrams: DatagramBatch::default(),
                buffers: BufferPool::default(),
                turn_budget: 0,
                ready_events: Vec::new(),
                closed: false,
                me: me.clone(),
                paused_servers: Vec::new(),
            }),
            extension: std::sync::OnceLock::new(),
            waker,
            failed: AtomicBool::new(false),
            callback_depth: AtomicUsize::new(0),
        }))
    }

    /// Wake a thread blocked in [`Shared::poll`]. Any thread; wakeups coalesce.
    pub fn wakeup(&self) -> io::Result<()> {
        self.waker.wake()
    }

    /// The reactor's descriptor, readable when `poll` has work.
    pub fn backend_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.core.lock().poll.as_raw_fd()
    }

    /// Attach the boundary layer's data; only the first call has an effect.
    pub fn set_extension(&self, data: Box<dyn std::any::Any + Send + Sync>) {
        let _ = self.extension.set(data);
    }

    /// The boundary layer's data, if it is of type `T`.
    pub fn extension<T: 'static>(&self) -> Option<&T> {
        self.extension.get().and_then(|data| data.downcast_ref::<T>())
    }

    /// Mark the context unusable after a caught panic.
    pub fn mark_failed(&self) {
        self.failed.store(true, Ordering::Release);
    }

    /// Whether a panic was caught in this context.
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Whether a host callback of this context is running now.
    pub fn in_callback(&self) -> bool {
        self.callback_depth.load(Ordering::Acquire) > 0
    }

    /// Refuse work when the context failed or was shut down.
    pub(crate) fn check_usable(&self) -> Result<()> {
        if self.has_failed() {
            return Err(Error::panic("netproc context is unusable after an internal error"));
        }
        Ok(())
    }

    /// Change tunables.
    pub fn update_settings(&self, update: impl FnOnce(&mut Settings)) {
        update(&mut self.core.lock().settings);
    }

    /// Current tunables.
    pub fn settings(&self) -> Settings {
        self.core.lock().settings.clone()
    }

    /// How long the host may sleep before calling `poll`: Some(0) when work is waiting,
    /// None when only socket activity (seen on the backend fd) can create work.
    pub fn next_timeout(&self) -> Option<Duration> {
        let core = self.core.lock();
        core.next_timeout()
    }

    /// `process-list`: every process not yet removed, newest first.
    pub fn process_list(&self) -> Vec<ProcRef> {
        self.core.lock().listed.values().rev().cloned().collect()
    }

    /// `get-process` by name.
    pub fn get_process(&self, name: &[u8]) -> Option<ProcRef> {
        let core = self.core.lock();
        core.names.get(name).and_then(|serial| core.listed.get(serial)).cloned()
    }

    /// Dispatch gathered events to the host. Returns how many callbacks ran.
    pub(crate) fn dispatch(&self, mut events: Vec<Event>, host: &mut dyn Host) -> usize {
        let mut calls = 0;
        let mut spent = Vec::new();
        for event in events.drain(..) {
            calls += self.dispatch_one(event, host, &mut spent);
        }
        // Hand the emptied batch and the read buffers back for the next turn, so a steady
        // stream of events allocates neither (W5's profile: a fresh event Vec per poll).
        let mut core = self.core.lock();
        let size = core.settings.read_max;
        for buffer in spent {
            core.buffers.give_back(buffer, size);
        }
        if core.pending.is_empty() && events.capacity() <= MAX_KEPT_EVENTS {
            core.pending = events;
        }
        calls
    }

    /// Emacs's notify pass outside a pump (`delete-process` runs one): deliver the events
    /// that operations made since the last poll (a send that found the peer gone, a
    /// `:nowait` failure), without reading any socket. Returns how many callbacks ran.
    pub fn notify_pending(&self, host: &mut dyn Host) -> usize {
        let events = std::mem::take(&mut self.core.lock().pending);
        self.dispatch(events, host)
    }

    /// Dispatch one event; a delivered read buffer goes to `spent` for reuse.
    fn dispatch_one(&self, event: Event, host: &mut dyn Host, spent: &mut Vec<Vec<u8>>) -> usize {
        match event {
            Event::Output { process, data, multibyte, sender } => {
                let filter = {
                    let mut state = process.state.lock();
                    if state.deleted {
                        return 0;
                    }
                    if let Some(sender) = sender {
                        state.occasional_mut().datagram_peer = Some(sender);
                    }
                    if state.stopped || state.filter.is_symbol("t") {
                        // Read before the stop took effect: keep it for `continue-process`.
                        state.occasional_mut().held_input.push((data, multibyte));
                        return 0;
                    }
                    state.delivering_multibyte = Some(multibyte);
                    state.filter.clone()
                };
                self.call_host(|| host.filter(&process, &filter, &data));
                process.state.lock().delivering_multibyte = None;
                if BufferPool::may_return(&data) {
                    spent.push(data);
                }
                1
            }
            Event::Status { process, message } => {
                // A closed process leaves process-list right before its sentinel runs, as
                // in Emacs's notify pass; the list's reference goes after the call.
                let unlisted = {
                    let mut core = self.core.lock();
                    let mut state = process.state.lock();
                    if std::mem::take(&mut state.unlist_when_announced) {
                        core.take_listed(&process, &mut state)
                    } else {
                        None
                    }
                };
                let sentinel = {
                    let state = process.state.lock();
                    if state.deleted {
                        return 0;
                    }
                    state.sentinel.clone()
                };
                self.call_host(|| host.sentinel(&process, &sentinel, &message));
                drop(unlisted);
                1
            }
            Event::Accept { server, client, host: peer, client_id, wants_buffer } => {
                self.dispatch_accept(&server, &client, &peer, &client_id, wants_buffer, host)
            }
            Event::AcceptFailed { server, errno } => {
                let log = server.state.lock().log();
                if log.is_nil() {
                    return 0;
                }
                let message = super::process::messages::accept_failed(errno);
                self.call_host(|| host.log(&server, &log, None, &message));
                1
            }
            Event::Release(process) => {
                drop(process);
                0
            }
        }
    }

    fn dispatch_accept(
        &self,
        server: &ProcRef,
        client: &ProcRef,
        peer: &str,
        client_id: &str,
        wants_buffer: bool,
        host: &mut dyn Host,
    ) -> usize {
        use super::process::messages;
        let (server_buffer, log) = {
            let state = server.state.lock();
            (state.buffer.clone(), state.log())
        };
        if wants_buffer {
            // Emacs names the buffer after the server's live buffer, else the server's name;
            // a server whose buffer is dead gets no client buffers at all.
            let base = if server_buffer.is_nil() {
                Some(server.name().to_vec())
            } else {
                self.call_host(|| host.buffer_name(&server_buffer))
            };
            if let Some(mut name) = base {
                name.push(b' ');
                name.extend_from_slice(client_id.as_bytes());
                let buffer = self.call_host(|| host.get_buffer_create(&name));
                client.state.lock().buffer = buffer;
            }
        }
        let mut calls = 0;
        if log.is_non_nil() {
            let message = messages::accept_from(peer);
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
        let message = messages::open_from(peer);
        self.call_host(|| host.sentinel(client, &sentinel, &message));
        calls + 1
    }

    /// Run host code, tracking that a callback is active.
    pub(crate) fn call_host<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Depth<'a>(&'a AtomicUsize);
        impl Drop for Depth<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.callback_depth.fetch_add(1, Ordering::AcqRel);
        let _depth = Depth(&self.callback_depth);
        f()
    }
}

impl Core {
    /// A fresh process serial number.
    pub(crate) fn next_serial(&mut self) -> u64 {
        let serial = self.next_serial;
        self.next_serial += 1;
        serial
    }

    /// NAME, or NAME<1>, NAME<2>, … : the first that no listed process has.
    pub(crate) fn unique_name(&self, base: Vec<u8>) -> Vec<u8> {
        if !self.names.contains_key(base.as_slice()) {
            return base;
        }
        (1u64..)
            .map(|n| {
                let mut name = base.clone();
                name.extend_from_slice(format!("<{n}>").as_bytes());
                name
            })
            .find(|name| !self.names.contains_key(name.as_slice()))
            .unwrap_or_default()
    }

    /// Put a process into `process-list`.
    pub(crate) fn list(&mut self, process: &ProcRef, state: &mut State) {
        state.listed = true;
        self.names.insert(process.shared_name(), process.serial);
        self.listed.insert(process.serial, process.clone());
    }

    /// Take a process out of `process-list`; its name is free again.
    pub(crate) fn unlist(&mut self, process: &ProcRef, state: &mut State) {
        if let Some(entry) = self.take_listed(process, state) {
            self.pending.push(Event::Release(entry));
        }
    }

    /// Unlist, handing back the list's reference for the caller to drop outside the locks.
    fn take_listed(&mut self, process: &ProcRef, state: &mut State) -> Option<ProcRef> {
        if !state.listed {
            return None;
        }
        state.listed = false;
        self.names.remove(process.name());
        self.listed.remove(&process.serial)
    }

    /// Register the process's socket with the reactor: for reading, and for writing unless
    /// it is an accepted connection. Those start with nothing to write, and most never
    /// queue anything; watching them for writability from the start costs the kernel a
    /// wakeup per acknowledgement and netproc an event to ignore (W3's accept path). They
    /// are watched from their first queued byte on (`watch_output`).
    pub(crate) fn register(&mut self, process: &ProcRef, state: &mut State) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let Some(socket) = state.socket.as_ref() else { return Ok(()) };
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let fd = socket.as_raw_fd();
        state.watching_output = state.role != Role::Accepted || !state.output.is_empty();
        let interest =
            if state.watching_output { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        if let Err(err) = self.poll.registry().register(&mut mio::unix::SourceFd(&fd), Token(slot), interest)
        {
            self.free_slots.push(slot);
            return Err(err);
        }
        self.slots[slot] = Some(process.clone());
        // The token is a usize; the slot index is stored in 32 bits to keep State small.
        state.slot = u32::try_from(slot).ok();
        Ok(())
    }

    /// Start watching for writability once output is queued (see `register`).
    pub(crate) fn watch_output(&mut self, state: &mut State) {
        use std::os::fd::AsRawFd;
        if state.watching_output || state.output.is_empty() {
            return;
        }
        let (Some(socket), Some(slot)) = (state.socket.as_ref(), state.slot) else { return };
        let fd = socket.as_raw_fd();
        let interest = Interest::READABLE | Interest::WRITABLE;
        // On failure the queue still drains from later sends and the next readable event;
        // there is no caller to tell.
        if self
            .poll
            .registry()
            .reregister(&mut mio::unix::SourceFd(&fd), Token(slot as usize), interest)
            .is_ok()
        {
            state.watching_output = true;
        }
    }

    /// Close the socket: deregister it and free its slot.
    pub(crate) fn close_socket(&mut self, state: &mut State) {
        use std::os::fd::AsRawFd;
        if let Some(socket) = state.socket.take() {
            let fd = socket.as_raw_fd();
            let _ = self.poll.registry().deregister(&mut mio::unix::SourceFd(&fd));
            if state.abortive_close {
                let _ = socket.set_linger(Some(Duration::ZERO));
            }
            drop(socket);
        }
        if let Some(slot) = state.slot.take().map(|slot| slot as usize) {
            if let Some(entry) = self.slots[slot].take() {
                self.pending.push(Event::Release(entry));
            }
            self.free_slots.push(slot);
        }
        state.draining = false;
        state.readable = false;
        let lost = state.output.discard();
        if lost > 0 {
            state.occasional_mut().lost_output += lost as u64;
        }
    }

    /// Drop a process reference after dispatch rather than now: if it is the last one, the
    /// drop may run host destructors, which must not run under our lock.
    pub(crate) fn release_later(&mut self, process: ProcRef) {
        if Arc::strong_count(&process) == 1 {
            self.pending.push(Event::Release(process));
        }
    }

    /// Queue a process for the next round of reads.
    pub(crate) fn mark_ready(&mut self, process: &ProcRef, state: &mut State) {
        if !state.in_ready_list {
            state.in_ready_list = true;
            self.ready.push_back(process.clone());
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        if !self.pending.is_empty() || !self.ready.is_empty() || self.resolver.has_answers() {
            return Some(Duration::ZERO);
        }
        self.timer_bound(None)
    }
}
