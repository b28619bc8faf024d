//! The context (`Shared`) and what is behind its lock (`Core`): Core's parts, each kept by
//! a module of its own, and what spans them here: registering a socket with the poller,
//! closing it, draining it before the close, and letting go of process references
//! outside the lock.
//!
//! Locking rule: the context lock is taken before any process's state lock, never after;
//! and no lock of ours is held while host code runs. Work is gathered under the locks into
//! the context's arrival queue (inbox.rs), the locks are released, and only then is the
//! host called.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use mio::{Interest, Token, Waker};
use parking_lot::Mutex;

use socket2::Socket;

use super::attempts::{Attempt, Race};
use super::buffers::BufferPool;
use super::coding::CodingSystem;
use super::datagrams::DatagramBatch;
use super::deadlines::Deadlines;
use super::error::{Error, Result};
use super::event::{LogEvent, SentinelEvent};
use super::handshakes::Handshakes;
use super::inbox::Inbox;
use super::lookups::Lookups;
use super::poller::{Poller, Readiness};
use super::process::{ProcRef, Process, Role, State};
use super::resolve::Resolver;
use super::round::Round;
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
    /// A TLS client's handshake and certificate checks are done and its `"open\n"`
    /// sentinel is next: the host's own judgement of the connection (Emacs asks its
    /// Network Security Manager here). `Err(reason)` fails the connection instead: status
    /// `failed`, the sentinel `"failed with code REASON\n"`. The check may delete the
    /// process. By default every connection passes.
    fn tls_check(&mut self, _process: &ProcRef) -> std::result::Result<(), String> {
        Ok(())
    }
    /// Asked before each host call of a poll: true stops the delivery there, leaving the
    /// rest of what arrived queued, in order, for a later poll. The Emacs module pauses to
    /// give Emacs's loop its turn (timers, input) while a stream pours in. By default a
    /// poll delivers all that is due.
    fn pause_delivery(&mut self) -> bool {
        false
    }
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
    /// How long a TLS handshake may take (a `:nowait` or STARTTLS one fails after it, a
    /// blocking one signals).
    pub tls_handshake_timeout: Duration,
    /// An unknown keyword given to `make-network-process` is an error (`:filtre` instead of
    /// `:filter`), not a key kept in the contact plist as Emacs keeps it. Off by default.
    pub strict_keywords: bool,
    /// Happy Eyeballs (RFC 8305): how long a stream client's connect attempt may go
    /// unanswered before the next address starts alongside it, unless `:attempt-delay`
    /// says otherwise. At least 10 ms, as RFC 8305 §5 requires.
    pub connect_attempt_delay: Duration,
}

/// The default of [`Settings::connect_attempt_delay`]: RFC 8305 §5's recommended 250 ms.
pub const DEFAULT_CONNECT_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// The default of [`Settings::send_queue_max`]: 64 MiB, far more than any sane burst, far
/// less than what would take a host down.
pub const DEFAULT_SEND_QUEUE_MAX: usize = 64 << 20;

/// The default of [`Settings::tls_handshake_timeout`].
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

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
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
            strict_keywords: false,
            connect_attempt_delay: DEFAULT_CONNECT_ATTEMPT_DELAY,
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

/// Everything behind the context lock: a few parts, each a type that keeps its own
/// invariants in its own module, plus what only this module keeps. The fields are private
/// to context.rs; see "The rule for `Core`'s methods" in docs/ARCHITECTURE.md for who
/// reaches which part and how.
pub(crate) struct Core {
    /// The mio poll and the process behind each of its tokens (poller.rs). Its slots must
    /// agree with each process's `Link`, so only this module's `register`, `watch_output`
    /// and `close_socket` change them.
    poller: Poller,
    /// `process-list`, its names and the process counters (table.rs).
    table: ProcessTable,
    /// The processes to serve, round-robin, and the turn's budgets (round.rs).
    round: Round,
    /// What happened to processes, in order, not yet delivered (inbox.rs).
    inbox: Inbox,
    /// `:nowait` lookups in flight and their processes (lookups.rs).
    lookups: Lookups,
    /// Draining sockets and paused servers, waiting for a time (deadlines.rs).
    deadlines: Deadlines,
    /// TLS handshakes in flight (handshakes.rs).
    handshakes: Handshakes,
    /// Stream read buffers, reused across reads (buffers.rs).
    buffers: BufferPool,
    /// Scratch space for datagrams, which are copied out at their exact size (datagrams.rs).
    datagrams: DatagramBatch,
    /// The tunables (`Shared::update_settings`).
    settings: Settings,
    /// References to drop after delivery, outside the locks (a drop may run host
    /// destructors).
    releases: Vec<ProcRef>,
    /// The context itself, for the processes it makes (`new_process`).
    me: Weak<Shared>,
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
                round: Round::default(),
                inbox: Inbox::default(),
                lookups: Lookups::new(resolver),
                deadlines: Deadlines::default(),
                handshakes: Handshakes::default(),
                buffers: BufferPool::default(),
                datagrams: DatagramBatch::default(),
                settings: Settings::default(),
                releases: Vec::new(),
                me: me.clone(),
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
        // Only contexts make processes (`Core::new_process`), so the downcast cannot fail.
        self.context.upgrade().and_then(|context| context.downcast::<Shared>().ok())
    }
}

// The parts, for the modules that drive them; each keeps its own invariants.
impl Core {
    /// `process-list`, its names and the counters.
    #[inline]
    pub(crate) fn table(&mut self) -> &mut ProcessTable {
        &mut self.table
    }

    /// The processes to serve and the turn's budgets.
    #[inline]
    pub(crate) fn round(&mut self) -> &mut Round {
        &mut self.round
    }

    /// The arrival queue.
    #[inline]
    pub(crate) fn inbox(&mut self) -> &mut Inbox {
        &mut self.inbox
    }

    /// The `:nowait` lookups in flight.
    #[inline]
    pub(crate) fn lookups(&mut self) -> &mut Lookups {
        &mut self.lookups
    }

    /// Draining sockets and paused servers.
    #[inline]
    pub(crate) fn deadlines(&mut self) -> &mut Deadlines {
        &mut self.deadlines
    }

    /// TLS handshakes in flight.
    #[inline]
    pub(crate) fn handshakes(&mut self) -> &mut Handshakes {
        &mut self.handshakes
    }

    /// How long the reactor may wait: `timeout`, shortened for the soonest deadline of a
    /// draining socket, a paused server or a TLS handshake.
    pub(crate) fn wait_bound(&self, timeout: Option<Duration>) -> Option<Duration> {
        self.handshakes.bound(self.deadlines.bound(timeout))
    }

    /// The spare read buffers.
    #[inline]
    pub(crate) fn buffers(&mut self) -> &mut BufferPool {
        &mut self.buffers
    }

    /// The `index`th datagram of the last batch, copied out for its event (into a pooled
    /// buffer: no allocation per datagram).
    pub(crate) fn take_datagram(&mut self, index: usize) -> Vec<u8> {
        let bytes = self.datagrams.datagram(index);
        self.buffers.copy_out(bytes)
    }

    /// The datagram scratch space.
    #[inline]
    pub(crate) fn datagrams(&mut self) -> &mut DatagramBatch {
        &mut self.datagrams
    }

    /// The tunables (changed only through `Shared::update_settings`).
    #[inline]
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }
}

impl Core {
    /// A process of this context.
    pub(crate) fn new_process(&self, serial: u64, name: super::name::Name, state: State) -> ProcRef {
        Process::new(serial, name, self.me.clone(), state)
    }

    /// Take a process out of `process-list`; its name is free again.
    pub(crate) fn unlist(&mut self, process: &ProcRef, state: &mut State) {
        if let Some(entry) = self.table.unlist(process, state) {
            self.releases.push(entry);
        }
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

    /// Register an accepted connection's socket once it needs watching. adopt_connection
    /// reads a new connection before registering it: a connection that arrived whole (its
    /// request and its end, as W3's) is then read, answered and closed without ever
    /// entering the poll, which spares two epoll_ctl calls; any other is registered here,
    /// after a read that would block or a short one (registering reports input that is
    /// already there, so nothing is missed in between). A socket read to its end with
    /// nothing to write needs no watching: it closes when its end is delivered. When the
    /// poll cannot take it, the connection ends as broken, its queued output counted lost.
    pub(crate) fn register_when_needed(&mut self, process: &ProcRef, state: &mut State) {
        if !state.link.has_socket() || state.link.slot().is_some() {
            return;
        }
        if !state.link.may_read() && state.output.is_empty() {
            return;
        }
        if self.register(process, state).is_err() {
            self.output_failed(process, state);
        }
    }

    /// Register the socket of a connect attempt of `process` (attempts.rs), readable and
    /// writable as a client's socket is; the slot it took.
    pub(crate) fn register_attempt(&mut self, process: &ProcRef, socket: &Socket) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        self.poller.register(process, socket.as_raw_fd(), Interest::READABLE | Interest::WRITABLE)
    }

    /// Close a connect attempt that failed or lost: deregister it and free its slot.
    pub(crate) fn close_attempt(&mut self, attempt: Attempt) {
        use std::os::fd::AsRawFd;
        self.poller.deregister(attempt.socket.as_raw_fd());
        drop(attempt.socket);
        let slot = attempt.slot.and_then(|slot| u32::try_from(slot).ok());
        if let Some(entry) = slot.and_then(|slot| self.poller.vacate(slot)) {
            self.releases.push(entry);
        }
    }

    /// The attempt that connected becomes the process's socket, registered as it is.
    pub(crate) fn adopt_attempt(&mut self, state: &mut State, attempt: Attempt) {
        state.link.attach(attempt.socket);
        if let Some(slot) = attempt.slot {
            state.link.registered(slot);
            state.link.set_watching_output(true);
        }
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
    pub(crate) fn watch_output(&mut self, process: &ProcRef, state: &mut State) {
        use std::os::fd::AsRawFd;
        if state.link.watching_output() || state.output.is_empty() {
            return;
        }
        if state.link.slot().is_none() {
            // Not registered yet (register_when_needed): registering watches the output.
            self.register_when_needed(process, state);
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

    /// Stop watching for writability once nothing is queued: else every acknowledgement
    /// from the peer wakes the poll for nothing (a client is watched from its connect on;
    /// W2's ping-pong paid an event per round trip). `watch_output` starts again with the
    /// next byte that has to wait. TLS links stay watched: rustls may hold records to push.
    pub(crate) fn unwatch_output(&mut self, state: &mut State) {
        use std::os::fd::AsRawFd;
        if !state.link.watching_output() || !state.output.is_empty() || state.link.tls().is_some() {
            return;
        }
        let (Some(socket), Some(slot)) = (state.link.socket(), state.link.slot()) else { return };
        let fd = socket.as_raw_fd();
        // On failure the socket stays watched, which costs events, never output.
        if self.poller.reregister(fd, slot, Interest::READABLE).is_ok() {
            state.link.set_watching_output(false);
        }
    }

    /// Close the socket: deregister it and free its slot.
    pub(crate) fn close_socket(&mut self, state: &mut State) {
        use std::os::fd::AsRawFd;
        let (socket, slot) = state.link.close();
        if let Some(socket) = socket {
            if slot.is_some() {
                self.poller.deregister(socket.as_raw_fd());
            }
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
        // Listed processes too: an accepted connection read to its end before it was
        // registered still has its socket (register_when_needed).
        let mut open = self.poller.registered();
        open.extend(self.table.newest_first());
        for process in open {
            let mut state = process.state.lock();
            self.close_socket(&mut state);
            for attempt in state.take_race().map(Race::abandon).unwrap_or_default() {
                self.close_attempt(attempt);
            }
        }
        (
            std::mem::take(&mut self.inbox),
            std::mem::take(&mut self.releases),
            self.deadlines.take_all(),
            self.handshakes.take_all(),
            self.lookups.take_waiting(),
            self.round.take_ready(),
        )
    }

    /// Keep the socket of a process that is closed for the host until its queued output
    /// is written, at most `drain_timeout`; close it now when nothing is queued (or
    /// `:linger 0` asked for an abortive close). Emacs's sends complete before they
    /// return, so its close never drops output; ours would without this.
    pub(crate) fn close_when_drained(&mut self, process: &ProcRef, state: &mut State) {
        let queued = !state.output.is_empty() || state.link.tls_records_waiting();
        let drain = queued && !state.link.abortive_close() && state.link.has_socket();
        if !drain {
            self.close_socket(state);
            return;
        }
        if state.link.start_draining() {
            state.set_drain_deadline(Instant::now() + self.settings.drain_timeout);
            self.deadlines.add_draining(process);
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
        for process in self.deadlines.take_drains_over() {
            let mut state = process.state.lock();
            if state.link.is_draining() {
                self.close_socket(&mut state);
            }
            drop(state);
            self.release_later(process);
        }
    }

    /// Drop a process reference after dispatch rather than now: if it is the last one, the
    /// drop may run host destructors, which must not run under our lock.
    pub(crate) fn release_later(&mut self, process: ProcRef) {
        if Arc::strong_count(&process) == 1 {
            self.releases.push(process);
        }
    }

    /// Hand over the references to drop now that the locks are released.
    pub(crate) fn take_releases(&mut self) -> Vec<ProcRef> {
        std::mem::take(&mut self.releases)
    }

    fn next_timeout(&self) -> Option<Duration> {
        if !self.inbox.is_empty() || self.round.has_ready() || self.lookups.has_answers() {
            return Some(Duration::ZERO);
        }
        self.wait_bound(None)
    }
}
