//! The context: one reactor, its process table and process list, and the dispatch of
//! events to the host.
//!
//! Locking rule: the context lock is taken before any process's state lock, never after;
//! and no lock of ours is held while host code runs. Work is gathered under the locks into
//! the context's arrival queue (inbox.rs), the locks are released, and only then is the
//! host called.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use mio::{Interest, Token, Waker};
use parking_lot::Mutex;

use super::buffers::BufferPool;
use super::coding::CodingSystem;
use super::datagrams::DatagramBatch;
use super::error::{Error, Result};
use super::event::{LogEvent, SentinelEvent};
use super::inbox::Inbox;
use super::poller::{Poller, Readiness};
use super::process::{ProcRef, Role, State};
use super::resolve::Resolver;
use super::table::ProcessTable;
use super::value::Value;

/// The mio token of the cross-thread waker.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

/// What the host does for netproc: run callbacks and make buffers. Implemented by each
/// boundary layer (C, Emacs). Called only from the context's thread, with no lock held.
pub trait Host {
    /// Deliver output to a filter; `filter` is the process's filter value (nil = default).
    fn filter(&mut self, process: &ProcRef, filter: &Value, data: &[u8]);
    /// Report a status change to a sentinel (nil = default).
    fn sentinel(&mut self, process: &ProcRef, sentinel: &Value, event: &SentinelEvent);
    /// Report an accept (client given) or an accept failure (no client) to a log function.
    fn log(&mut self, server: &ProcRef, log: &Value, client: Option<&ProcRef>, event: &LogEvent);
    /// The name of a live buffer, or None when `buffer` is nil or dead.
    fn buffer_name(&mut self, buffer: &Value) -> Option<Vec<u8>>;
    /// `get-buffer-create`: the buffer called `name`, made if needed.
    fn get_buffer_create(&mut self, name: &[u8]) -> Value;
}

/// Tunables a host may change.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The most bytes one read takes (Emacs's `read-process-output-max`).
    pub read_max: usize,
    /// The (DECODING . ENCODING) a process gets without `:coding`: binary unless the host
    /// chooses otherwise.
    pub default_coding: (CodingSystem, CodingSystem),
    /// The most bytes one process may have queued for sending; a send past it fails.
    pub send_queue_max: usize,
    /// How long a process deleted (or closed by its peer) with output still queued keeps
    /// its socket to write it; then the socket closes and the rest counts as lost.
    pub drain_timeout: Duration,
    /// Whether the host's functions are typed (C: a FILTER, a SENTINEL, a LOG), so that a
    /// value of another kind where a function goes is refused at once; a Lisp host's are
    /// not, and anything is taken, as Emacs does.
    pub typed_functions: bool,
}

/// The default of [`Settings::send_queue_max`]: 64 MiB, far more than any sane burst, far
/// less than what would take a host down.
pub const DEFAULT_SEND_QUEUE_MAX: usize = 64 << 20;

/// The default of [`Settings::drain_timeout`].
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for Settings {
    fn default() -> Settings {
        let binary = CodingSystem::from_name("binary").expect("binary is in the name table");
        Settings {
            read_max: 65536,
            default_coding: (binary.clone(), binary),
            send_queue_max: DEFAULT_SEND_QUEUE_MAX,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            typed_functions: false,
        }
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
    /// The mio poll and the process behind each of its tokens (poller.rs).
    poller: Poller,
    /// `process-list`, its names and the process counters (table.rs).
    table: ProcessTable,
    /// Processes that may have input (or accepts) waiting, served round-robin.
    pub(crate) ready: VecDeque<ProcRef>,
    /// What happened to processes, in order, not yet delivered (see inbox.rs).
    pub(crate) inbox: Inbox,
    /// References to drop after delivery, outside the locks (a drop may run host
    /// destructors).
    pub(crate) releases: Vec<ProcRef>,
    /// Processes closed with output still queued, until it is written or their deadline.
    pub(crate) draining: Vec<ProcRef>,
    pub(crate) resolver: Resolver,
    pub(crate) lookups: HashMap<u64, ProcRef>,
    pub(crate) settings: Settings,
    /// Scratch space for datagrams, which are copied out at their exact size.
    pub(crate) datagrams: DatagramBatch,
    /// Stream read buffers, reused across reads (see buffers.rs).
    pub(crate) buffers: BufferPool,
    /// Stream bytes the current turn may still read.
    pub(crate) turn_budget: usize,
    /// Queued bytes the current turn may still write.
    pub(crate) write_budget: usize,
    pub(crate) me: Weak<Shared>,
    /// Servers whose accepting is paused after a failure.
    pub(crate) paused_servers: Vec<ProcRef>,
}

impl Shared {
    /// A new context with its own reactor.
    pub fn new() -> io::Result<Arc<Shared>> {
        let poller = Poller::new()?;
        let waker = Arc::new(poller.waker(WAKER_TOKEN)?);
        let notify_waker = waker.clone();
        let resolver = Resolver::new(Arc::new(move || {
            let _ = notify_waker.wake();
        }));
        Ok(Arc::new_cyclic(|me| Shared {
            core: Mutex::new(Core {
                poller,
                table: ProcessTable::default(),
                ready: VecDeque::new(),
                inbox: Inbox::default(),
                releases: Vec::new(),
                draining: Vec::new(),
                resolver,
                lookups: HashMap::new(),
                settings: Settings::default(),
                datagrams: DatagramBatch::default(),
                buffers: BufferPool::default(),
                turn_budget: 0,
                write_budget: 0,
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
        self.core.lock().poller.backend_fd()
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
        self.core.lock().table.newest_first()
    }

    /// `get-process` by name.
    pub fn get_process(&self, name: &[u8]) -> Option<ProcRef> {
        self.core.lock().table.get(name)
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

impl super::process::Process {
    /// The context the process belongs to, unless it was freed.
    pub fn context(&self) -> Option<Arc<Shared>> {
        // Only contexts make processes (`Core::me`), so the downcast cannot fail.
        self.context.upgrade().and_then(|context| context.downcast::<Shared>().ok())
    }
}

impl Core {
    /// A fresh process serial number.
    pub(crate) fn next_serial(&mut self) -> u64 {
        self.table.next_serial()
    }

    /// Count one more accepted connection; its number, for a client id without an address.
    pub(crate) fn count_accept(&mut self) -> u64 {
        self.table.count_accept()
    }

    /// NAME, or NAME<1>, NAME<2>, … : the first that no listed process has.
    pub(crate) fn unique_name(&self, base: Vec<u8>) -> Vec<u8> {
        self.table.unique_name(base)
    }

    /// Put a process into `process-list`.
    pub(crate) fn list(&mut self, process: &ProcRef, state: &mut State) {
        self.table.list(process, state);
    }

    /// Take a process out of `process-list`; its name is free again.
    pub(crate) fn unlist(&mut self, process: &ProcRef, state: &mut State) {
        if let Some(entry) = self.take_listed(process, state) {
            self.releases.push(entry);
        }
    }

    /// Unlist, handing back the list's reference for the caller to drop outside the locks.
    pub(crate) fn take_listed(&mut self, process: &ProcRef, state: &mut State) -> Option<ProcRef> {
        self.table.unlist(process, state)
    }

    /// Register the process's socket with the reactor: for reading, and for writing unless
    /// it is an accepted connection. Those start with nothing to write, and most never
    /// queue anything; watching them for writability from the start costs the kernel a
    /// wakeup per acknowledgement and netproc an event to ignore (W3's accept path). They
    /// are watched from their first queued byte on (`watch_output`).
    pub(crate) fn register(&mut self, process: &ProcRef, state: &mut State) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let Some(socket) = state.link.socket() else { return Ok(()) };
        let fd = socket.as_raw_fd();
        state.link.set_watching_output(state.role() != Role::Accepted || !state.output.is_empty());
        let interest = if state.link.watching_output() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let slot = self.poller.register(process, fd, interest)?;
        state.link.registered(slot);
        Ok(())
    }

    /// Wait up to `timeout` for readiness; the reactor gives the list back with
    /// `recycle_readiness`, so that waiting allocates nothing.
    pub(crate) fn wait_for_readiness(&mut self, timeout: Option<Duration>) -> io::Result<Vec<Readiness>> {
        self.poller.wait(timeout)
    }

    /// Keep the list `wait_for_readiness` handed out, for the next wait.
    pub(crate) fn recycle_readiness(&mut self, ready: Vec<Readiness>) {
        self.poller.recycle(ready);
    }

    /// The process whose socket is registered under `token`, if any.
    #[inline]
    pub(crate) fn registered_process(&self, token: Token) -> Option<ProcRef> {
        self.poller.process_at(token)
    }

    /// Start watching for writability once output is queued (see `register`).
    pub(crate) fn watch_output(&mut self, state: &mut State) {
        use std::os::fd::AsRawFd;
        if state.link.watching_output() || state.output.is_empty() {
            return;
        }
        let (Some(socket), Some(slot)) = (state.link.socket(), state.link.slot()) else { return };
        let fd = socket.as_raw_fd();
        let interest = Interest::READABLE | Interest::WRITABLE;
        // On failure the queue still drains from later sends and the next readable event;
        // there is no caller to tell.
        if self.poller.reregister(fd, slot, interest).is_ok() {
            state.link.set_watching_output(true);
        }
    }

    /// Close the socket: deregister it and free its slot.
    pub(crate) fn close_socket(&mut self, state: &mut State) {
        use std::os::fd::AsRawFd;
        let (socket, slot) = state.link.close();
        if let Some(socket) = socket {
            self.poller.deregister(socket.as_raw_fd());
            if state.link.abortive_close() {
                let _ = socket.set_linger(Some(Duration::ZERO));
            }
            drop(socket);
        }
        if let Some(entry) = slot.and_then(|slot| self.poller.vacate(slot)) {
            self.releases.push(entry);
        }
        state.clear_drain_deadline();
        let lost = state.output.discard();
        state.add_lost_output(lost as u64);
    }

    /// Close every registered socket (the context is being freed) and hand over what still
    /// holds process references, for the caller to drop after releasing the lock: a last
    /// reference may run a host destructor, which may call back into the context.
    #[must_use = "drop the leftovers after releasing the context lock"]
    pub(crate) fn close_all(&mut self) -> impl Sized {
        for process in self.poller.registered() {
            let mut state = process.state.lock();
            self.close_socket(&mut state);
        }
        (
            std::mem::take(&mut self.inbox),
            std::mem::take(&mut self.releases),
            std::mem::take(&mut self.draining),
            std::mem::take(&mut self.lookups),
            std::mem::take(&mut self.ready),
            std::mem::take(&mut self.paused_servers),
        )
    }

    /// Keep the socket of a process that is closed for the host until its queued output
    /// is written, at most `drain_timeout`; close it now when nothing is queued (or
    /// `:linger 0` asked for an abortive close). Emacs's sends complete before they
    /// return, so its close never drops output; ours would without this.
    pub(crate) fn close_when_drained(&mut self, process: &ProcRef, state: &mut State) {
        let drain = !state.output.is_empty() && !state.link.abortive_close() && state.link.has_socket();
        if !drain {
            self.close_socket(state);
            return;
        }
        if state.link.start_draining() {
            state.set_drain_deadline(Instant::now() + self.settings.drain_timeout);
            self.draining.push(process.clone());
        }
    }

    /// The close of a connection whose peer went away, as it is delivered: the replies
    /// its filter queued still go out to a peer that only shut down its writing side; a
    /// reset peer takes nothing more.
    pub(crate) fn close_after_peer(&mut self, process: &ProcRef, state: &mut State, reset: bool) {
        if reset {
            self.close_socket(state);
        } else {
            self.close_when_drained(process, state);
        }
    }

    /// Close draining sockets whose deadline passed; forget those already closed.
    pub(crate) fn expire_drains(&mut self) {
        if self.draining.is_empty() {
            return;
        }
        let now = Instant::now();
        let draining = std::mem::take(&mut self.draining);
        for process in draining {
            let mut state = process.state.lock();
            let deadline = state.drain_deadline();
            match deadline {
                Some(deadline) if state.link.is_draining() && deadline > now => {
                    drop(state);
                    self.draining.push(process);
                }
                _ => {
                    if state.link.is_draining() {
                        self.close_socket(&mut state);
                    }
                    drop(state);
                    self.release_later(process);
                }
            }
        }
    }

    /// The soonest drain deadline, if any socket is draining.
    pub(crate) fn next_drain_deadline(&self) -> Option<Instant> {
        self.draining.iter().filter_map(|process| process.state.lock().drain_deadline()).min()
    }

    /// Drop a process reference after dispatch rather than now: if it is the last one, the
    /// drop may run host destructors, which must not run under our lock.
    pub(crate) fn release_later(&mut self, process: ProcRef) {
        if Arc::strong_count(&process) == 1 {
            self.releases.push(process);
        }
    }

    /// Queue a process for the next round of reads.
    pub(crate) fn mark_ready(&mut self, process: &ProcRef, state: &mut State) {
        if state.link.enter_ready_list() {
            self.ready.push_back(process.clone());
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        if !self.inbox.is_empty() || !self.ready.is_empty() || self.resolver.has_answers() {
            return Some(Duration::ZERO);
        }
        self.timer_bound(None)
    }
}
