//! One TLS connection over a non-blocking socket: rustls's state machine, fed from the
//! socket and drained into it by the reactor. Nothing here waits: every call does what the
//! socket allows now and says what is left (the reactor watches the socket for the rest).

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, ServerConnection};
use socket2::Socket;

use super::config;
use super::params::{TlsParams, VerifyPolicy};
use super::verify::{failure_message, is_fatal, Findings, Recorder};
use crate::core::error::{Error, Result};

/// Plaintext rustls may hold for sending before it refuses more: a send queue of its own
/// beside the process's, so kept small.
const PLAINTEXT_LIMIT: usize = 64 * 1024;

/// What a read of plaintext found.
pub(crate) enum Plain {
    /// This many bytes were appended.
    Bytes(usize),
    /// Nothing decrypted is waiting: read the socket again.
    Empty,
    /// The peer closed the TLS session (close_notify), or closed the socket without it.
    Ended,
}

/// A TLS session over a process's socket.
pub(crate) struct TlsSession {
    conn: Connection,
    /// A client's certificate checks (None for a server).
    recorder: Option<Arc<Recorder>>,
    policy: VerifyPolicy,
    /// The name checked (for messages).
    hostname: String,
    /// The handshake is not done yet.
    handshaking: bool,
    /// The socket's end of file was read.
    socket_ended: bool,
    /// Decrypted bytes waiting to be read, as rustls last said: reads are sized to it, so
    /// that a 16 KiB record does not cost clearing a 64 KiB buffer.
    plaintext_waiting: usize,
}

impl TlsSession {
    /// A client session for `params`, checking the certificate against `hostname`.
    pub(crate) fn client(params: &TlsParams, hostname: &str) -> Result<TlsSession> {
        let setup = config::client(params)?;
        let name = ServerName::try_from(hostname.to_owned())
            .map_err(|_| Error::msg(format!("Invalid TLS host name {hostname:?}")))?;
        let recorder = Arc::new(Recorder::new(setup.verifier.clone(), params.verify, params.ignore_time));
        // The configuration is shared; the recorder is this connection's own.
        let mut own = (*setup.config).clone();
        own.dangerous().set_certificate_verifier(recorder.clone());
        let mut conn = ClientConnection::new(Arc::new(own), name)
            .map_err(|err| Error::msg(format!("TLS setup failed: {err}")))?;
        conn.set_buffer_limit(Some(PLAINTEXT_LIMIT));
        Ok(TlsSession {
            conn: Connection::Client(conn),
            recorder: Some(recorder),
            policy: params.verify,
            hostname: hostname.to_owned(),
            handshaking: true,
            socket_ended: false,
            plaintext_waiting: 0,
        })
    }

    /// A server session for an accepted connection.
    pub(crate) fn server(config: Arc<rustls::ServerConfig>) -> Result<TlsSession> {
        let mut conn =
            ServerConnection::new(config).map_err(|err| Error::msg(format!("TLS setup failed: {err}")))?;
        conn.set_buffer_limit(Some(PLAINTEXT_LIMIT));
        Ok(TlsSession {
            conn: Connection::Server(conn),
            recorder: None,
            policy: VerifyPolicy::STRICT,
            hostname: String::new(),
            handshaking: true,
            socket_ended: false,
            plaintext_waiting: 0,
        })
    }

    /// Whether the handshake is still running.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.handshaking
    }

    /// Read what the socket has into rustls and process it. Ok(false): the socket had
    /// nothing more (WouldBlock). An error is the connection's end, with its reason.
    pub(crate) fn receive(&mut self, socket: &Socket) -> std::result::Result<bool, Broken> {
        // rustls wants no more while it holds a full buffer of plaintext: that is read
        // first, and the socket again after.
        let more = if !self.conn.wants_read() || self.socket_ended {
            !self.socket_ended
        } else {
            match self.conn.read_tls(&mut SocketIo(socket)) {
                Ok(0) => {
                    self.socket_ended = true;
                    false
                }
                Ok(_) => true,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => false,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => true,
                Err(err) => return Err(Broken::Socket(err)),
            }
        };
        match self.conn.process_new_packets() {
            Ok(io_state) => self.plaintext_waiting = io_state.plaintext_bytes_to_read(),
            Err(err) => {
                // Best effort: the fatal alert rustls queued tells the peer why (RFC 8446
                // section 6.2), instead of an unexplained end of file.
                let _ = self.push(socket);
                return Err(Broken::Tls(self.describe(&err)));
            }
        }
        if self.socket_ended && self.is_handshaking() {
            return Err(Broken::Tls("TLS handshake failed: the peer closed the connection".into()));
        }
        Ok(more)
    }

    /// Whether the handshake finished in the last `receive` (true once). The certificate
    /// checks have run by then: rustls refuses a certificate the policy finds fatal.
    pub(crate) fn take_established(&mut self) -> bool {
        if self.handshaking && !self.conn.is_handshaking() {
            self.handshaking = false;
            return true;
        }
        false
    }

    /// Move decrypted bytes into `buffer` (up to `max` more).
    pub(crate) fn plaintext(&mut self, buffer: &mut Vec<u8>, max: usize) -> Plain {
        let start = buffer.len();
        // At least one byte, so that a session that ended says so (Ok(0)).
        let want = self.plaintext_waiting.clamp(1, max.max(1));
        buffer.resize(start + want, 0);
        let outcome = self.conn.reader().read(&mut buffer[start..]);
        match outcome {
            Ok(0) => {
                buffer.truncate(start);
                Plain::Ended
            }
            Ok(n) => {
                buffer.truncate(start + n);
                self.plaintext_waiting = self.plaintext_waiting.saturating_sub(n);
                Plain::Bytes(n)
            }
            Err(err) => {
                buffer.truncate(start);
                if err.kind() == io::ErrorKind::WouldBlock && !self.socket_ended {
                    Plain::Empty
                } else {
                    // The socket ended without a close_notify (UnexpectedEof): still the end.
                    Plain::Ended
                }
            }
        }
    }

    /// Write the TLS records rustls has ready. Ok(true): all written; Ok(false): the
    /// socket is full.
    pub(crate) fn push(&mut self, socket: &Socket) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut SocketIo(socket)) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(true)
    }

    /// Whether TLS records wait for the socket.
    pub(crate) fn has_records_to_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Encrypt what rustls takes of `bytes` and write what the socket takes; the count of
    /// plaintext bytes taken. WouldBlock when rustls holds all it may and the socket is
    /// full: bytes taken are rustls's to write, as bytes in a kernel buffer are the
    /// kernel's.
    pub(crate) fn send(&mut self, socket: &Socket, bytes: &[u8]) -> io::Result<usize> {
        if !self.push(socket)? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let taken = self.conn.writer().write(bytes)?;
        self.push(socket)?;
        if taken == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(taken)
    }

    /// Say the session is over (`close_notify`); the records go with the next `push`.
    pub(crate) fn close_notify(&mut self) {
        self.conn.send_close_notify();
    }

    /// The certificate checks' findings (empty for servers and before the certificate).
    pub(crate) fn findings(&self) -> Findings {
        self.recorder.as_ref().map(|recorder| recorder.findings()).unwrap_or_default()
    }

    /// The protocol version as GnuTLS names it ("TLS1.3") and the ALPN protocol agreed.
    pub(crate) fn negotiated(&self) -> (String, Option<Vec<u8>>) {
        let protocol = match self.conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLS1.3".to_owned(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLS1.2".to_owned(),
            Some(other) => format!("{other:?}"),
            None => String::new(),
        };
        (protocol, self.conn.alpn_protocol().map(<[u8]>::to_vec))
    }

    /// The negotiated connection, for peer status and the contact.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A failure's message, naming its reason.
    fn describe(&self, err: &rustls::Error) -> String {
        match err {
            // Refused by the checks :verify-error makes fatal: Emacs's words for them.
            // Otherwise rustls itself could not use the certificate (an X.509 v1
            // certificate, a key type ring lacks), which is said as it is.
            rustls::Error::InvalidCertificate(_)
                if self.recorder.is_some() && is_fatal(&self.findings(), self.policy) =>
            {
                failure_message(&self.findings(), self.policy, &self.hostname)
            }
            rustls::Error::InvalidCertificate(cert) if self.recorder.is_none() => {
                format!("TLS handshake failed: the client's certificate: {cert:?}")
            }
            rustls::Error::InvalidCertificate(cert) => {
                format!("TLS handshake failed: the server's certificate cannot be used: {cert:?}")
            }
            rustls::Error::AlertReceived(alert) => {
                format!("TLS handshake failed: the peer sent the alert {alert:?}")
            }
            rustls::Error::NoApplicationProtocol => {
                "TLS handshake failed: no ALPN protocol in common".to_owned()
            }
            other if self.is_handshaking() => format!("TLS handshake failed: {other}"),
            other => format!("TLS error: {other}"),
        }
    }
}

/// Why a session ended early.
pub(crate) enum Broken {
    /// The socket failed (a reset, typically).
    Socket(io::Error),
    /// TLS failed: a bad record, an alert, a refused certificate. The message names it.
    Tls(String),
}

/// The socket as rustls's reader and writer: `send` with MSG_NOSIGNAL, so that a peer gone
/// is EPIPE and never SIGPIPE.
struct SocketIo<'a>(&'a Socket);

impl Read for SocketIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut socket: &Socket = self.0;
        socket.read(buf)
    }
}

impl Write for SocketIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send_with_flags(buf, libc::MSG_NOSIGNAL)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
