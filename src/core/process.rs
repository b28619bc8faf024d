//! A network process: its status machine, the strings Emacs reports for it, and the state
//! the reactor keeps for its socket.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use super::address::Address;
use super::contact::Contact;
use super::framing::Framer;
use super::link::Link;
use super::name::Name;
use super::process_coding::ProcessCoding;
use super::queue::SendQueue;
use super::socket::SocketKind;
use super::status::Lifecycle;
pub use super::status::{ExitStatus, ProcessStatus};
use super::tls::ServerTls;
use super::value::Value;
use parking_lot::Mutex;

/// A shared reference to a process object.
pub type ProcRef = Arc<Process>;

/// What a process is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Made by `make-network-process` without `:server`.
    Client,
    /// Made with `:server`.
    Server,
    /// Made by a server accepting a connection.
    Accepted,
}

/// A process object. The name never changes; everything else is behind the state lock.
pub struct Process {
    /// The key a boundary layer gave this process in its handle table (0 until it gives
    /// one), so that a callback's handle is found without a table search.
    boundary_handle: AtomicUsize,
    pub(crate) serial: u64,
    name: Name,
    /// The context (a `Shared`), type-erased so that this module need not know it;
    /// `Process::context` in context.rs gives it back typed.
    pub(crate) context: Weak<dyn std::any::Any + Send + Sync>,
    pub(crate) state: Mutex<State>,
    attachment: Mutex<Option<Box<dyn Any + Send>>>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#<process {}>", String::from_utf8_lossy(self.name()))
    }
}

/// What the boundary layer that gives processes handles does with a dropped process's
/// handle (ffi/handles.rs frees its slot): set once, by that layer.
static HANDLE_RELEASE: OnceLock<fn(usize)> = OnceLock::new();

/// Have `release` called with the handle of every process dropped from now on that has one.
pub fn release_handles_with(release: fn(usize)) {
    let _ = HANDLE_RELEASE.set(release);
}

impl Drop for Process {
    /// The handle goes with the process, and with it the handle table's weak reference,
    /// so the process's memory is freed now, warm, and reused by the next one: a table
    /// that let go of dead processes in sweeps freed them in cold batches, which cost
    /// each accepted connection a slow allocation and a slow free (W3's profile).
    fn drop(&mut self) {
        let handle = *self.boundary_handle.get_mut();
        if handle != 0 {
            if let Some(release) = HANDLE_RELEASE.get() {
                release(handle);
            }
        }
    }
}

impl Process {
    /// The boundary layer's handle key, or 0 if it has none yet.
    pub fn boundary_handle(&self) -> usize {
        self.boundary_handle.load(Ordering::Acquire)
    }

    /// Record the boundary layer's handle key unless one is recorded already; returns the
    /// key that holds from now on.
    pub fn set_boundary_handle(&self, handle: usize) -> usize {
        match self.boundary_handle.compare_exchange(0, handle, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => handle,
            Err(existing) => existing,
        }
    }

    pub(crate) fn new(
        serial: u64,
        name: Name,
        context: Weak<dyn std::any::Any + Send + Sync>,
        state: State,
    ) -> ProcRef {
        Arc::new(Process {
            boundary_handle: AtomicUsize::new(0),
            serial,
            name,
            context,
            state: Mutex::new(state),
            attachment: Mutex::new(None),
        })
    }

    /// The unique name given at creation.
    pub fn name(&self) -> &[u8] {
        self.name.bytes()
    }

    /// The name as the context's name table keeps it (shared, not copied).
    pub(crate) fn shared_name(&self) -> Name {
        self.name.clone()
    }

    /// The name, to find it in the context's name table.
    pub(crate) fn name_key(&self) -> &Name {
        &self.name
    }

    /// The name as text, for messages.
    pub fn name_text(&self) -> String {
        String::from_utf8_lossy(self.name()).into_owned()
    }

    /// Keep boundary-layer data (host userdata) with the process; the previous value is
    /// returned so the caller can drop it outside any lock of ours.
    pub fn set_attachment(&self, data: Option<Box<dyn Any + Send>>) -> Option<Box<dyn Any + Send>> {
        std::mem::replace(&mut *self.attachment.lock(), data)
    }

    /// Run `f` on the boundary-layer data.
    pub fn with_attachment<R>(&self, f: impl FnOnce(Option<&mut (dyn Any + Send)>) -> R) -> R {
        let mut guard = self.attachment.lock();
        f(guard.as_deref_mut())
    }

    /// `process-status`.
    pub fn status(&self) -> ProcessStatus {
        self.state.lock().lifecycle.status()
    }

    /// `process-filter`: the default filter shows as `internal-default-process-filter`.
    pub fn filter(&self) -> Value {
        let filter = self.state.lock().filter.clone();
        if filter.is_nil() {
            Value::symbol("internal-default-process-filter")
        } else {
            filter
        }
    }

    /// `process-sentinel`: the default shows as `internal-default-process-sentinel`.
    pub fn sentinel(&self) -> Value {
        let sentinel = self.state.lock().sentinel.clone();
        if sentinel.is_nil() {
            Value::symbol("internal-default-process-sentinel")
        } else {
            sentinel
        }
    }

    /// `process-buffer`.
    pub fn buffer(&self) -> Value {
        self.state.lock().buffer.clone()
    }

    /// `process-plist`.
    pub fn plist(&self) -> Value {
        self.state.lock().plist()
    }

    /// `process-query-on-exit-flag`.
    pub fn query_on_exit(&self) -> bool {
        self.state.lock().query_on_exit()
    }

    /// `set-process-query-on-exit-flag`.
    pub fn set_query_on_exit(&self, flag: bool) {
        self.state.lock().set_query_on_exit(flag);
    }

    /// The name followed by a NUL byte, for C.
    pub fn name_with_nul(&self) -> &[u8] {
        self.name.with_nul()
    }

    /// `process-exit-status`.
    pub fn exit_status(&self) -> ExitStatus {
        self.state.lock().lifecycle.exit_status()
    }
}

/// Everything about a process that changes.
pub struct State {
    /// The status and the stopped flag; only status.rs changes them.
    pub(crate) lifecycle: Lifecycle,
    /// Set at creation, then read-only.
    role: Role,
    kind: SocketKind,
    /// True while the process is in `process-list` (kept by table.rs: `list`, `unlist`).
    listed: bool,
    /// Set by `delete-process`: arrivals not yet delivered are dropped.
    deleted: bool,
    /// The inbox holds arrivals for this process until it reads again (kept by inbox.rs).
    holds_arrivals: bool,
    buffer: Value,
    /// nil means the host's default filter; t means "do not read".
    filter: Value,
    /// nil means the host's default sentinel.
    sentinel: Value,
    pub(crate) contact: Contact,
    /// The socket and its phase (see link.rs).
    pub(crate) link: Link,
    query_on_exit: bool,
    pub(crate) coding: ProcessCoding,
    /// While a filter runs: whether the data it was given is multibyte text.
    delivering_multibyte: Option<bool>,
    pub(crate) output: SendQueue,
    /// The socket family (AF_INET, AF_INET6, AF_UNIX), set when a socket is made.
    family: i32,
    /// A server bound to one address (not 0.0.0.0 or ::): its connections' local address
    /// is its own, so accepting needs no getsockname.
    serves_one_address: bool,
    /// What only some processes need, kept out of line (see [`Occasional`]).
    occasional: Option<Box<Occasional>>,
}

/// Process state that most processes never use. An idle accepted connection has none of it,
/// which keeps it small (issue 6, W4: at most 512 bytes per idle connection).
#[derive(Default)]
struct Occasional {
    /// The log function (servers).
    log: Value,
    /// `process-plist`.
    plist: Value,
    /// Bytes accepted by sends that could never be written (peer gone, abortive close).
    lost_output: u64,
    /// For datagram processes: where sends go.
    datagram_peer: Option<Address>,
    /// For a `:nowait` stream client until it is open or failed: its connect attempts
    /// and their deadline (attempts.rs).
    race: Option<Box<super::attempts::Race>>,
    /// For `:nowait`: the pending lookup's cancel flag.
    lookup: Option<super::resolve::Cancel>,
    /// The host part used in the lookup-failure message.
    lookup_host: String,
    /// For servers after an accept failure: accepting resumes at this time.
    accept_paused_until: Option<std::time::Instant>,
    /// For a process closed with output still queued: the socket closes by this time,
    /// written or not.
    drain_deadline: Option<std::time::Instant>,
    /// For a TLS server: the configuration its connections' handshakes use.
    tls_server: Option<ServerTls>,
    /// For datagram processes, during a filter call: the sender of that datagram, once
    /// the filter has set another reply address; until then the sender is
    /// `datagram_peer` itself (`sender_is_peer`), kept once instead of cloned per datagram.
    delivering_sender: Option<Address>,
    /// During a datagram's filter call: `datagram_peer` is that datagram's sender.
    sender_is_peer: bool,
    /// `:high-water` and `:drain`: the mark of the output queue and the drain function.
    watermark: Option<super::backpressure::Watermark>,
    /// With `:framing`: the bytes read and not yet delivered as whole messages (a
    /// server's framer, never fed, is what its connections start with).
    framer: Option<Box<Framer>>,
}

impl State {
    pub(crate) fn new(role: Role, kind: SocketKind, contact: Contact) -> State {
        State {
            lifecycle: Lifecycle::running(),
            role,
            kind,
            listed: false,
            deleted: false,
            holds_arrivals: false,
            buffer: Value::Nil,
            filter: Value::Nil,
            sentinel: Value::Nil,
            contact,
            link: Link::default(),
            query_on_exit: true,
            coding: ProcessCoding::binary(),
            delivering_multibyte: None,
            output: SendQueue::default(),
            family: libc::AF_UNSPEC,
            serves_one_address: false,
            occasional: None,
        }
    }

    /// What the process is for, as made.
    pub(crate) fn role(&self) -> Role {
        self.role
    }

    /// Stream or datagram, as made.
    pub(crate) fn kind(&self) -> SocketKind {
        self.kind
    }

    /// The socket family of the last socket made for the process (AF_UNSPEC before).
    pub(crate) fn family(&self) -> i32 {
        self.family
    }

    /// Record the family of a socket being made for the process.
    pub(crate) fn set_family(&mut self, family: i32) {
        self.family = family;
    }

    /// Whether a server is bound to one address (not 0.0.0.0 or ::).
    pub(crate) fn serves_one_address(&self) -> bool {
        self.serves_one_address
    }

    /// Record, once a server's socket is bound, whether it serves one address.
    pub(crate) fn set_serves_one_address(&mut self, one: bool) {
        self.serves_one_address = one;
    }

    /// Whether the process is in `process-list`.
    pub(crate) fn is_listed(&self) -> bool {
        self.listed
    }

    /// The process table put the process into `process-list`, or took it out.
    pub(crate) fn set_listed(&mut self, listed: bool) {
        self.listed = listed;
    }

    /// Whether `delete-process` was called.
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted
    }

    /// `delete-process`: arrivals not yet delivered are dropped from now on, and the
    /// status becomes `closed` (status.rs).
    pub(crate) fn mark_deleted(&mut self) {
        self.deleted = true;
        self.lifecycle.deleted();
    }

    /// Whether the inbox holds arrivals for this process until it reads again.
    pub(crate) fn holds_arrivals(&self) -> bool {
        self.holds_arrivals
    }

    /// The inbox started holding arrivals for this process.
    pub(crate) fn start_holding_arrivals(&mut self) {
        self.holds_arrivals = true;
    }

    /// The inbox gave back (or dropped) what it held; returns whether it held any.
    pub(crate) fn stop_holding_arrivals(&mut self) -> bool {
        std::mem::take(&mut self.holds_arrivals)
    }

    /// The occasional fields, if any was ever set.
    fn occasional(&self) -> Option<&Occasional> {
        self.occasional.as_deref()
    }

    /// The occasional fields for changing, if any was ever set.
    fn occasional_mut_if_any(&mut self) -> Option<&mut Occasional> {
        self.occasional.as_deref_mut()
    }

    /// The occasional fields, made on first use.
    fn occasional_mut(&mut self) -> &mut Occasional {
        self.occasional.get_or_insert_with(Box::default)
    }

    // The host-facing attributes. Emacs's setters (`set-process-filter`, `-sentinel`,
    // `-buffer`) also record the new value in the contact, so `process-contact` shows it;
    // what a process is given when it is made is not recorded again.

    /// The process buffer, nil when none.
    pub(crate) fn buffer(&self) -> &Value {
        &self.buffer
    }

    /// The filter: nil means the host's default filter; t means "do not read".
    pub(crate) fn filter(&self) -> &Value {
        &self.filter
    }

    /// The sentinel: nil means the host's default sentinel.
    pub(crate) fn sentinel(&self) -> &Value {
        &self.sentinel
    }

    /// `process-query-on-exit-flag`.
    pub(crate) fn query_on_exit(&self) -> bool {
        self.query_on_exit
    }

    /// `set-process-query-on-exit-flag` (and `:noquery` at creation).
    pub(crate) fn set_query_on_exit(&mut self, flag: bool) {
        self.query_on_exit = flag;
    }

    /// `set-process-filter`: the contact's `:filter` shows the default filter by name.
    pub(crate) fn set_filter(&mut self, filter: Value) {
        let recorded =
            if filter.is_nil() { Value::symbol("internal-default-process-filter") } else { filter.clone() };
        self.contact.put(":filter", recorded);
        self.filter = filter;
    }

    /// `set-process-sentinel`: the contact's `:sentinel` shows the default sentinel by name.
    pub(crate) fn set_sentinel(&mut self, sentinel: Value) {
        let recorded = if sentinel.is_nil() {
            Value::symbol("internal-default-process-sentinel")
        } else {
            sentinel.clone()
        };
        self.contact.put(":sentinel", recorded);
        self.sentinel = sentinel;
    }

    /// `set-process-buffer`: recorded as the contact's `:buffer`.
    pub(crate) fn set_buffer(&mut self, buffer: Value) {
        self.contact.put(":buffer", buffer.clone());
        self.buffer = buffer;
    }

    /// The filter and sentinel a process is made with (from its contact, or its server's);
    /// the contact is left as it is.
    pub(crate) fn set_handlers_at_creation(&mut self, filter: Value, sentinel: Value) {
        self.filter = filter;
        self.sentinel = sentinel;
    }

    /// The buffer a process is given as it opens (`:buffer`, or an accepted connection's
    /// buffer); the contact is left as it is.
    pub(crate) fn set_buffer_at_opening(&mut self, buffer: Value) {
        self.buffer = buffer;
    }

    /// The log function, nil when none.
    pub(crate) fn log(&self) -> Value {
        self.occasional().map_or(Value::Nil, |more| more.log.clone())
    }

    /// A server's `:log` function, given at creation.
    pub(crate) fn set_log(&mut self, log: Value) {
        self.occasional_mut().log = log;
    }

    /// The process's high-water mark, if it asked for one (`:high-water` or `:drain`).
    pub(crate) fn watermark(&self) -> Option<&super::backpressure::Watermark> {
        self.occasional()?.watermark.as_ref()
    }

    /// The high-water mark to change (made with the default mark on first use).
    pub(crate) fn watermark_mut(&mut self) -> &mut super::backpressure::Watermark {
        self.occasional_mut().watermark.get_or_insert_with(|| {
            super::backpressure::Watermark::new(super::backpressure::DEFAULT_HIGH_WATER, Value::Nil)
        })
    }

    /// A send left the queue as it is: above the mark or not (always below without one).
    pub(crate) fn water_level_after_send(&mut self) -> super::backpressure::WaterLevel {
        let queued = self.output.len();
        match self.occasional_mut_if_any().and_then(|more| more.watermark.as_mut()) {
            Some(water) => water.after_send(queued),
            None => super::backpressure::WaterLevel::Below,
        }
    }

    /// Writing shrank the queue: whether its drain function is due now.
    pub(crate) fn drain_due_after_write(&mut self) -> bool {
        let queued = self.output.len();
        self.occasional_mut_if_any()
            .and_then(|more| more.watermark.as_mut())
            .is_some_and(|water| water.after_write(queued) && water.drain().is_non_nil())
    }

    /// `process-plist`.
    pub(crate) fn plist(&self) -> Value {
        self.occasional().map_or(Value::Nil, |more| more.plist.clone())
    }

    /// `set-process-plist` (and `:plist` at creation).
    pub(crate) fn set_plist(&mut self, plist: Value) {
        self.occasional_mut().plist = plist;
    }

    /// Where datagram sends go, if anywhere.
    pub(crate) fn datagram_peer(&self) -> Option<&Address> {
        self.occasional().and_then(|more| more.datagram_peer.as_ref())
    }

    /// Set where datagram sends go (at creation, a datagram server's last sender,
    /// `set-process-datagram-address`).
    pub(crate) fn set_datagram_peer(&mut self, peer: Option<Address>) {
        let more = self.occasional_mut();
        if std::mem::take(&mut more.sender_is_peer) {
            // Inside a datagram's filter call: the sender stays what it was.
            more.delivering_sender = more.datagram_peer.take();
        }
        more.datagram_peer = peer;
    }

    /// Count bytes accepted by sends that can never be written.
    pub(crate) fn add_lost_output(&mut self, lost: u64) {
        if lost > 0 {
            self.occasional_mut().lost_output += lost;
        }
    }

    /// For a `:nowait` stream client: its connect starts (its addresses may come later).
    pub(crate) fn set_race(&mut self, race: super::attempts::Race) {
        self.occasional_mut().race = Some(Box::new(race));
    }

    /// The connect under way, if the process is connecting.
    pub(crate) fn race_mut(&mut self) -> Option<&mut super::attempts::Race> {
        self.occasional_mut_if_any()?.race.as_deref_mut()
    }

    /// Whether connect attempts are in flight (each with its socket).
    pub(crate) fn has_connect_attempts(&self) -> bool {
        self.occasional
            .as_ref()
            .and_then(|more| more.race.as_ref())
            .is_some_and(|race| race.in_flight().next().is_some())
    }

    /// The connect is over (won, failed or abandoned): take what is left of it.
    pub(crate) fn take_race(&mut self) -> Option<super::attempts::Race> {
        self.occasional_mut_if_any()?.race.take().map(|race| *race)
    }

    /// For `:nowait`: the pending lookup's cancel flag, or none once it answered.
    pub(crate) fn set_lookup(&mut self, lookup: Option<super::resolve::Cancel>) {
        self.occasional_mut().lookup = lookup;
    }

    /// Take the pending lookup's cancel flag, if a lookup is pending.
    pub(crate) fn take_lookup(&mut self) -> Option<super::resolve::Cancel> {
        self.occasional_mut_if_any().and_then(|more| more.lookup.take())
    }

    /// The host part used in the lookup-failure message.
    pub(crate) fn lookup_host(&self) -> &str {
        self.occasional().map_or("", |more| more.lookup_host.as_str())
    }

    /// Record the host part for the lookup-failure message (at creation).
    pub(crate) fn set_lookup_host(&mut self, host: String) {
        self.occasional_mut().lookup_host = host;
    }

    /// For a TLS server: what its accepted connections speak.
    pub(crate) fn tls_server(&self) -> Option<&ServerTls> {
        self.occasional().and_then(|more| more.tls_server.as_ref())
    }

    /// Make a server a TLS server (at creation).
    pub(crate) fn set_tls_server(&mut self, config: ServerTls) {
        self.occasional_mut().tls_server = Some(config);
    }

    /// With `:framing`: the framer, whose messages delivery.rs hands out one at a time.
    pub(crate) fn framer(&self) -> Option<&Framer> {
        self.occasional().and_then(|more| more.framer.as_deref())
    }

    /// The framer, for feeding it and taking its messages.
    pub(crate) fn framer_mut(&mut self) -> Option<&mut Framer> {
        self.occasional_mut_if_any().and_then(|more| more.framer.as_deref_mut())
    }

    /// `:framing` (at creation, from a server, or `set-network-process-option`): returns
    /// the framer it replaces, with the bytes it still held.
    pub(crate) fn set_framer(&mut self, framer: Option<Framer>) -> Option<Box<Framer>> {
        if framer.is_none() && self.framer().is_none() {
            return None;
        }
        std::mem::replace(&mut self.occasional_mut().framer, framer.map(Box::new))
    }

    /// For a server after an accept failure: when accepting resumes.
    pub(crate) fn accept_paused_until(&self) -> Option<std::time::Instant> {
        self.occasional().and_then(|more| more.accept_paused_until)
    }

    /// An accept failed: pause accepting until `until`.
    pub(crate) fn pause_accepting(&mut self, until: std::time::Instant) {
        self.occasional_mut().accept_paused_until = Some(until);
    }

    /// The pause after a failed accept is over.
    pub(crate) fn resume_accepting(&mut self) {
        self.occasional_mut().accept_paused_until = None;
    }

    /// For a socket draining before its close: when it closes, written or not.
    pub(crate) fn drain_deadline(&self) -> Option<std::time::Instant> {
        self.occasional().and_then(|more| more.drain_deadline)
    }

    /// Draining starts: the socket closes by `deadline`.
    pub(crate) fn set_drain_deadline(&mut self, deadline: std::time::Instant) {
        self.occasional_mut().drain_deadline = Some(deadline);
    }

    /// The socket closed: no deadline is left.
    pub(crate) fn clear_drain_deadline(&mut self) {
        if let Some(more) = self.occasional_mut_if_any() {
            more.drain_deadline = None;
        }
    }

    /// A filter call starts; `multibyte` says whether its data is multibyte text.
    pub(crate) fn delivering_to_filter(&mut self, multibyte: bool) {
        self.delivering_multibyte = Some(multibyte);
    }

    /// A datagram's filter call starts: `sender` sent it, and it becomes the address a
    /// reply goes to (Emacs sets that per read, right before the filter runs).
    pub(crate) fn delivering_from(&mut self, sender: Address) {
        let more = self.occasional_mut();
        more.datagram_peer = Some(sender);
        more.sender_is_peer = true;
    }

    /// The filter call returned.
    pub(crate) fn delivered_to_filter(&mut self) {
        self.delivering_multibyte = None;
        if let Some(more) = self.occasional_mut_if_any() {
            more.sender_is_peer = false;
            more.delivering_sender = None;
        }
    }

    /// During a datagram's filter call, its sender (netproc's; Emacs gives only the shared
    /// `process-datagram-address`, which the filter itself may change).
    pub(crate) fn delivering_sender(&self) -> Option<&Address> {
        let more = self.occasional()?;
        if more.sender_is_peer {
            more.datagram_peer.as_ref()
        } else {
            more.delivering_sender.as_ref()
        }
    }

    /// `process-filter-multibyte-p`. Inside a filter: whether that call's data is multibyte
    /// text. Otherwise: whether decoding produces multibyte text now (nil without a socket,
    /// as in Emacs).
    pub(crate) fn filter_multibyte_p(&self) -> bool {
        self.delivering_multibyte.unwrap_or(self.link.has_socket() && self.coding.multibyte())
    }

    /// Whether input is held back now: `stop-process`, or a filter of t.
    pub(crate) fn holds_back_input(&self) -> bool {
        self.lifecycle.is_stopped() || self.filter.is_symbol("t")
    }

    /// Whether a server's accepting is paused after a failed accept.
    pub(crate) fn accept_paused(&self) -> bool {
        self.occasional().is_some_and(|more| more.accept_paused_until.is_some())
    }

    /// Bytes accepted by sends that could never be written.
    pub(crate) fn lost_output(&self) -> u64 {
        self.occasional().map_or(0, |more| more.lost_output)
    }

    /// Whether the reactor should read (or accept) now: a socket that is connected and
    /// not read to its end, a process that is not stopped, deleted, draining or holding
    /// input, a filter other than t (servers accept whatever their filter), a server not
    /// paused after a failed accept.
    pub(crate) fn wants_input(&self) -> bool {
        // A TLS handshake is not input: it goes on while the process is stopped or its
        // filter is t, as GnuTLS's does inside Emacs's gnutls-boot.
        if self.link.tls_handshaking() {
            return self.link.may_read() && !self.deleted;
        }
        let reads = self.role == Role::Server || !self.filter.is_symbol("t");
        self.link.may_read()
            && reads
            && !self.deleted
            && !self.lifecycle.is_stopped()
            && !self.holds_arrivals
            && !self.accept_paused()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_process_stays_small() {
        // Issue 6's W4 budget is 512 bytes per idle connection, allocator and tables
        // included; the process object is most of it. Rarely used state lives out of line.
        assert!(std::mem::size_of::<Process>() <= 304, "Process is {} bytes", std::mem::size_of::<Process>());
        assert!(std::mem::size_of::<State>() <= 232, "State is {} bytes", std::mem::size_of::<State>());
    }
}
