//! What sentinels and log functions are told, as typed events. Each event's Emacs wording
//! is written once, in `message`, which both boundaries use; a C host can also tell the
//! events apart without parsing the text.

use std::borrow::Cow;

/// A status change a sentinel hears of, worded as Emacs's `status_message` and
/// `server_accept_connection` word it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SentinelEvent {
    /// A `:nowait` connect finished: `"open\n"`.
    Open,
    /// A server accepted this connection from HOST: `"open from HOST\n"`.
    OpenFrom(String),
    /// The peer closed the connection (`reset` false), or reset it or a write found it
    /// gone (`reset` true): `"connection broken by remote peer\n"` either way, as Emacs
    /// words both.
    PeerClosed {
        /// A reset (or a write that found the peer gone) rather than an orderly close.
        reset: bool,
    },
    /// `delete-process`: `"deleted\n"`.
    Deleted,
    /// netproc's: the output queue fell below half the `:high-water` mark after passing
    /// it, `"drain\n"`, told to the `:drain` function, not the sentinel.
    Drain,
    /// A `:nowait` lookup, connect or TLS handshake failed: `"failed with code CODE\n"`,
    /// CODE being the errno in decimal when the failure was a system call's (`errno`), or
    /// the words of a lookup or TLS failure.
    Failed {
        /// CODE as the message gives it.
        code: String,
        /// The errno, when a system call failed.
        errno: Option<i32>,
    },
}

impl SentinelEvent {
    /// The message Emacs passes the sentinel.
    pub fn message(&self) -> Cow<'static, str> {
        match self {
            SentinelEvent::Open => Cow::Borrowed("open\n"),
            SentinelEvent::Deleted => Cow::Borrowed("deleted\n"),
            SentinelEvent::Drain => Cow::Borrowed("drain\n"),
            SentinelEvent::PeerClosed { .. } => Cow::Borrowed("connection broken by remote peer\n"),
            // Concatenated, not format!ted: this runs for every accepted connection.
            SentinelEvent::OpenFrom(host) => Cow::Owned(["open from ", host, "\n"].concat()),
            SentinelEvent::Failed { code, .. } => Cow::Owned(["failed with code ", code, "\n"].concat()),
        }
    }
}

/// What a server's log function hears of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEvent {
    /// A connection from HOST was accepted: `"accept from HOST\n"`.
    AcceptFrom(String),
    /// accept() failed with ERRNO: `"accept failed with code ERRNO\n"`, with no space
    /// before the number, as Emacs writes it.
    AcceptFailed(i32),
}

impl LogEvent {
    /// The message Emacs passes the log function.
    pub fn message(&self) -> String {
        match self {
            LogEvent::AcceptFrom(host) => ["accept from ", host, "\n"].concat(),
            LogEvent::AcceptFailed(errno) => format!("accept failed with code{errno}\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_emacs_words() {
        assert_eq!(SentinelEvent::Open.message(), "open\n");
        assert_eq!(SentinelEvent::OpenFrom("127.0.0.1".into()).message(), "open from 127.0.0.1\n");
        for reset in [false, true] {
            assert_eq!(SentinelEvent::PeerClosed { reset }.message(), "connection broken by remote peer\n");
        }
        assert_eq!(SentinelEvent::Deleted.message(), "deleted\n");
        let refused = SentinelEvent::Failed { code: "111".into(), errno: Some(111) };
        assert_eq!(refused.message(), "failed with code 111\n");
        assert_eq!(LogEvent::AcceptFrom("::1".into()).message(), "accept from ::1\n");
        assert_eq!(LogEvent::AcceptFailed(24).message(), "accept failed with code24\n");
    }
}
