//! What sentinels and log functions are told, as typed events. Each event's Emacs wording
//! is written once, in `message`, which both boundaries use; a C host can also tell the
//! events apart without parsing the text.

use std::borrow::Cow;

use super::short_text::HostText;

/// A status change a sentinel hears of, worded as Emacs's `status_message` and
/// `server_accept_connection` word it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SentinelEvent {
    /// A `:nowait` connect finished: `"open\n"`.
    Open,
    /// A server accepted this connection from HOST: `"open from HOST\n"`.
    OpenFrom(HostText),
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
        match self.fixed_message() {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(self.pieces().concat()),
        }
    }

    /// Append the message to `out`, with no allocation of its own: a host that copies it
    /// into a buffer of its own (the C boundary) does so for every accepted connection.
    pub fn write_message(&self, out: &mut Vec<u8>) {
        for piece in self.pieces() {
            out.extend_from_slice(piece.as_bytes());
        }
    }

    /// The message of an event that carries no text of its own.
    fn fixed_message(&self) -> Option<&'static str> {
        match self {
            SentinelEvent::Open => Some("open\n"),
            SentinelEvent::Deleted => Some("deleted\n"),
            SentinelEvent::Drain => Some("drain\n"),
            SentinelEvent::PeerClosed { .. } => Some("connection broken by remote peer\n"),
            SentinelEvent::OpenFrom(_) | SentinelEvent::Failed { .. } => None,
        }
    }

    /// The message, in the pieces it is made of.
    fn pieces(&self) -> [&str; 3] {
        match self {
            SentinelEvent::OpenFrom(host) => ["open from ", host, "\n"],
            SentinelEvent::Failed { code, .. } => ["failed with code ", code, "\n"],
            fixed => [fixed.fixed_message().unwrap_or_default(), "", ""],
        }
    }
}

/// What a server's log function hears of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEvent {
    /// A connection from HOST was accepted: `"accept from HOST\n"`.
    AcceptFrom(HostText),
    /// accept() failed with ERRNO: `"accept failed with code ERRNO\n"`, with no space
    /// before the number, as Emacs writes it.
    AcceptFailed(i32),
}

impl LogEvent {
    /// The message Emacs passes the log function.
    pub fn message(&self) -> String {
        let mut text = Vec::new();
        self.write_message(&mut text);
        // Made of strings and digits only.
        String::from_utf8_lossy(&text).into_owned()
    }

    /// Append the message to `out` (see [`SentinelEvent::write_message`]).
    pub fn write_message(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        match self {
            LogEvent::AcceptFrom(host) => {
                out.extend_from_slice(b"accept from ");
                out.extend_from_slice(host.as_bytes());
                out.push(b'\n');
            }
            // Writing to a Vec cannot fail.
            LogEvent::AcceptFailed(errno) => drop(writeln!(out, "accept failed with code{errno}")),
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

    #[test]
    fn written_messages_are_the_messages() {
        let sentinels = [
            SentinelEvent::Open,
            SentinelEvent::OpenFrom("10.0.0.1".into()),
            SentinelEvent::PeerClosed { reset: true },
            SentinelEvent::Deleted,
            SentinelEvent::Drain,
            SentinelEvent::Failed { code: "110".into(), errno: Some(110) },
        ];
        for event in sentinels {
            let mut written = b"kept ".to_vec();
            event.write_message(&mut written);
            assert_eq!(written, [b"kept ".as_slice(), event.message().as_bytes()].concat());
        }
        for event in [LogEvent::AcceptFrom("::1".into()), LogEvent::AcceptFailed(24)] {
            let mut written = Vec::new();
            event.write_message(&mut written);
            assert_eq!(written, event.message().as_bytes());
        }
    }
}
