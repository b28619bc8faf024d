//! The status machine: the one place a process's status is assigned. Every other module
//! asks it (`is_running`, `symbol`, …) or requests a transition by name; none writes the
//! status itself, so each transition Emacs knows is written once, here.
//!
//! Transitions driven by the peer (end of file, a connect result) are requested by the
//! delivery of the event that carries them (see inbox.rs), never when the bytes are read:
//! a filter that runs on data read before an end of file still sees the process `open`.

/// `process-exit-status`: an integer, or the lookup-failure string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The numeric code.
    Code(i32),
    /// The message of a failed name lookup.
    Message(String),
}

/// `process-status`, as the host sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessStatus {
    /// `open`: connected.
    Open,
    /// `listen`: a server.
    Listen,
    /// `connect`: a `:nowait` client not connected yet.
    Connect,
    /// `stop`: stopped by `stop-process`.
    Stop,
    /// `failed`: a `:nowait` client that could not connect.
    Failed,
    /// `closed`: deleted, or closed by the peer.
    Closed,
}

impl ProcessStatus {
    /// The statuses `process-live-p` counts as live, in the order of the list it returns.
    const LIVE: [ProcessStatus; 4] =
        [ProcessStatus::Open, ProcessStatus::Listen, ProcessStatus::Connect, ProcessStatus::Stop];

    /// The status symbol's name.
    pub fn name(self) -> &'static str {
        self.name_with_nul().trim_end_matches('\0')
    }

    /// The name followed by a NUL byte, for C (static storage).
    pub fn name_with_nul(self) -> &'static str {
        match self {
            ProcessStatus::Open => "open\0",
            ProcessStatus::Listen => "listen\0",
            ProcessStatus::Connect => "connect\0",
            ProcessStatus::Stop => "stop\0",
            ProcessStatus::Failed => "failed\0",
            ProcessStatus::Closed => "closed\0",
        }
    }

    /// `process-live-p`: the tail of `(open listen connect stop)` that starts at the
    /// status (Emacs's Fprocess_live_p returns `memq`'s result), empty when not live.
    pub fn live_tail(self) -> &'static [ProcessStatus] {
        match Self::LIVE.iter().position(|status| *status == self) {
            Some(index) => &Self::LIVE[index..],
            None => &[],
        }
    }

    /// Whether the process is live.
    pub fn is_live(self) -> bool {
        !self.live_tail().is_empty()
    }
}

/// Why a process is `failed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Every address of a `:nowait` connect failed; the errno of the last attempt.
    Errno(i32),
    /// Asynchronous name lookup failed: `"Name lookup of HOST failed"`.
    Lookup(String),
    /// The TLS handshake failed, or timed out; the message names the reason.
    Tls(String),
    /// `:framing` met a message over `:framing-max`, or a header it cannot read; the
    /// message names the reason (framing.rs).
    Framing(String),
}

impl Failure {
    /// The errno of a failed system call; None for a lookup, TLS or framing failure.
    pub(crate) fn errno(&self) -> Option<i32> {
        match self {
            Failure::Errno(errno) => Some(*errno),
            Failure::Lookup(_) | Failure::Tls(_) | Failure::Framing(_) => None,
        }
    }

    /// What the sentinel's `"failed with code …"` and `process-exit-status` show.
    pub(crate) fn code_text(&self) -> String {
        match self {
            Failure::Errno(errno) => errno.to_string(),
            Failure::Lookup(message) | Failure::Tls(message) | Failure::Framing(message) => message.clone(),
        }
    }
}

/// The internal status, as Emacs keeps it (`run`, `listen`, `(connect)`, `(failed …)`,
/// `(exit N)`). The stopped flag is separate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// Connected client, accepted connection, or datagram process.
    Run,
    /// Stream or seqpacket server.
    Listen,
    /// `:nowait` client: looking up the name, or connecting once a socket exists.
    Connecting,
    /// `:nowait` client that could not connect (why: `Lifecycle::failure`).
    Failed,
    /// Closed: 0 after `delete-process`, 256 when the peer went away.
    Exit(u16),
}

/// A process's status and its stopped flag, changed only through the methods below.
/// Compact on purpose (16 bytes): every idle connection has one (issue 6, W4).
#[derive(Debug)]
pub(crate) struct Lifecycle {
    /// Why it failed, while the status is `Failed`.
    failure: Option<Box<Failure>>,
    status: Status,
    stopped: bool,
}

impl Lifecycle {
    /// A connected stream or datagram process (`run`).
    pub(crate) fn running() -> Lifecycle {
        Lifecycle { failure: None, status: Status::Run, stopped: false }
    }

    /// A listening server.
    pub(crate) fn set_listening(&mut self) {
        self.status = Status::Listen;
    }

    /// A `:nowait` client waiting for its lookup or its connect.
    pub(crate) fn set_connecting(&mut self) {
        self.status = Status::Connecting;
    }

    /// The connect finished: `connect` → `open` (only from `connect`, so a process
    /// deleted meanwhile stays closed).
    pub(crate) fn opened(&mut self) -> bool {
        let changes = self.status == Status::Connecting;
        if changes {
            self.status = Status::Run;
        }
        changes
    }

    /// Every address failed, or the lookup did: `connect` → `failed`.
    pub(crate) fn connect_failed(&mut self, failure: Failure) -> bool {
        let changes = self.status == Status::Connecting;
        if changes {
            self.status = Status::Failed;
            self.failure = Some(Box::new(failure));
        }
        changes
    }

    /// TLS failed, in the handshake after a connect (`connect` → `failed`) or in a STARTTLS
    /// upgrade (`run` → `failed`): a connection that asked for TLS never goes on in the clear.
    pub(crate) fn tls_failed(&mut self, failure: Failure) -> bool {
        let changes = matches!(self.status, Status::Connecting | Status::Run);
        if changes {
            self.status = Status::Failed;
            self.failure = Some(Box::new(failure));
        }
        changes
    }

    /// An open stream's input cannot be framed (`:framing`): `run` → `failed`.
    pub(crate) fn framing_failed(&mut self, failure: Failure) -> bool {
        let changes = self.status == Status::Run;
        if changes {
            self.status = Status::Failed;
            self.failure = Some(Box::new(failure));
        }
        changes
    }

    /// The host's TLS check deleted the connection it refused (Emacs's Network Security
    /// Manager does): `failed` all the same, as finish_after_tls_connection (src/process.c)
    /// sets it after the check returns.
    pub(crate) fn refused_after_delete(&mut self, failure: Failure) {
        self.status = Status::Failed;
        self.failure = Some(Box::new(failure));
    }

    /// The peer went away: `(exit 256)`. Only a live connection changes, so a closing
    /// event that a delete overtook changes nothing.
    pub(crate) fn peer_closed(&mut self) -> bool {
        let changes = matches!(self.status, Status::Run | Status::Connecting);
        if changes {
            self.status = Status::Exit(256);
        }
        changes
    }

    /// `delete-process`: `(exit 0)`, whatever it was, as Emacs's Fdelete_process sets it
    /// for every network process.
    pub(crate) fn deleted(&mut self) {
        self.status = Status::Exit(0);
        self.failure = None;
    }

    /// `stop-process` (and `:stop t`).
    pub(crate) fn set_stopped(&mut self, stopped: bool) {
        self.stopped = stopped;
    }

    /// Whether `stop-process` is in force.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Waiting for a `:nowait` lookup or connect.
    pub(crate) fn is_connecting(&self) -> bool {
        self.status == Status::Connecting
    }

    /// `run` or `listen`: the socket may be read or accepted from.
    pub(crate) fn is_active(&self) -> bool {
        matches!(self.status, Status::Run | Status::Listen)
    }

    /// `failed`.
    pub(crate) fn is_failed(&self) -> bool {
        self.status == Status::Failed
    }

    /// Whether a send may go ahead: `run` (stopped or not), or still connecting, when the
    /// bytes wait in the queue. Stream servers are `listen`, so they never qualify; datagram
    /// servers are `run` and answer whoever spoke last.
    pub(crate) fn accepts_output(&self) -> bool {
        matches!(self.status, Status::Run | Status::Connecting)
    }

    /// `process-status`, following Emacs's order: closed beats stop, stop beats the rest.
    pub(crate) fn status(&self) -> ProcessStatus {
        match self.status {
            Status::Exit(_) => ProcessStatus::Closed,
            _ if self.stopped => ProcessStatus::Stop,
            Status::Run => ProcessStatus::Open,
            Status::Listen => ProcessStatus::Listen,
            Status::Connecting => ProcessStatus::Connect,
            Status::Failed => ProcessStatus::Failed,
        }
    }

    /// `process-exit-status`.
    pub(crate) fn exit_status(&self) -> ExitStatus {
        match (self.status, self.failure.as_deref()) {
            (Status::Exit(code), _) => ExitStatus::Code(i32::from(code)),
            (Status::Failed, Some(Failure::Errno(errno))) => ExitStatus::Code(*errno),
            (
                Status::Failed,
                Some(Failure::Lookup(message) | Failure::Tls(message) | Failure::Framing(message)),
            ) => ExitStatus::Message(message.clone()),
            // Emacs 28.2 crashes or returns an address while connecting; netproc says 0.
            _ => ExitStatus::Code(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_tail_matches_emacs() {
        use ProcessStatus::*;
        assert_eq!(Open.live_tail(), [Open, Listen, Connect, Stop]);
        assert_eq!(Stop.live_tail(), [Stop]);
        assert!(Closed.live_tail().is_empty());
        assert!(!Failed.is_live());
        assert_eq!(Connect.name(), "connect");
        assert_eq!(Closed.name_with_nul(), "closed\0");
    }

    #[test]
    fn closed_beats_stopped() {
        let mut lifecycle = Lifecycle::running();
        lifecycle.set_stopped(true);
        assert_eq!(lifecycle.status().name(), "stop");
        lifecycle.deleted();
        assert_eq!(lifecycle.status().name(), "closed");
        assert_eq!(lifecycle.exit_status(), ExitStatus::Code(0));
    }

    #[test]
    fn a_close_overtaken_by_a_delete_changes_nothing() {
        let mut lifecycle = Lifecycle::running();
        lifecycle.deleted();
        assert!(!lifecycle.peer_closed());
        assert_eq!(lifecycle.exit_status(), ExitStatus::Code(0));
    }

    #[test]
    fn a_connect_result_applies_only_while_connecting() {
        let mut lifecycle = Lifecycle::running();
        lifecycle.set_connecting();
        lifecycle.deleted();
        assert!(!lifecycle.opened());
        assert!(!lifecycle.connect_failed(Failure::Errno(111)));
        assert_eq!(lifecycle.status().name(), "closed");

        let mut lifecycle = Lifecycle::running();
        lifecycle.set_connecting();
        assert!(lifecycle.connect_failed(Failure::Lookup("Name lookup of x failed".into())));
        assert_eq!(lifecycle.status().name(), "failed");
        assert_eq!(lifecycle.exit_status(), ExitStatus::Message("Name lookup of x failed".into()));
    }
}
