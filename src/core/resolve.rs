//! Host and service resolution through getaddrinfo, with Emacs's error texts, and a pool
//! of resolver threads (`pool.rs`) so that `:nowait` never blocks the host's thread.

use std::ffi::{CStr, CString};
use std::time::Duration;

use super::address::{numeric_service, sockaddr_from_raw, Address, ServiceText};
use super::error::{Error, Result};
use super::pool::Pool;

/// One getaddrinfo question.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The host name or literal, never empty of meaning: nil was already defaulted.
    pub host: Vec<u8>,
    /// The service text: a decimal port or a service name.
    pub service: String,
    /// AF_UNSPEC, AF_INET, AF_INET6 or a raw family number.
    pub family: i32,
    /// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
    pub socktype: i32,
    /// AI_NUMERICHOST: a literal address only, no DNS traffic (`network-lookup-address-info`'s
    /// HINTS `numeric`, Emacs 29 and later).
    pub numeric_host: bool,
}

/// Resolve at once, on the calling thread. Errors read `"HOST/SERVICE GAI-MESSAGE"`.
pub fn lookup(query: &Lookup) -> Result<Vec<Address>> {
    let failure = |message: String| {
        Error::msg(format!("{}/{} {}", String::from_utf8_lossy(&query.host), query.service, message))
    };
    let host = CString::new(query.host.clone()).map_err(|_| failure("Name or service not known".into()))?;
    // A number reaches getaddrinfo as plain digits, never with the sign or white space
    // that would let it wrap past 65535 (see `numeric_service`); messages keep the text.
    let service = match numeric_service(query.service.as_bytes()) {
        ServiceText::Port(port) => port.to_string(),
        ServiceText::OutOfRange => return Err(failure("Port number out of range".into())),
        ServiceText::Negative => return Err(failure(gai_message(libc::EAI_SERVICE))),
        ServiceText::Name => query.service.clone(),
    };
    let service =
        CString::new(service).map_err(|_| failure("Servname not supported for ai_socktype".into()))?;
    // SAFETY: addrinfo is plain old data; all-zero is the documented empty hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = query.family;
    hints.ai_socktype = query.socktype;
    if query.numeric_host {
        hints.ai_flags = libc::AI_NUMERICHOST;
    }
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: host and service are NUL-terminated and live across the call; hints is
    // initialised; list receives an allocation we free below.
    let rc = unsafe { libc::getaddrinfo(host.as_ptr(), service.as_ptr(), &hints, &mut list) };
    if rc != 0 {
        return Err(failure(gai_message(rc)));
    }
    // SAFETY: list came from a successful getaddrinfo; read and freed once.
    Ok(unsafe { take_addresses(list) })
}

/// The addresses of a getaddrinfo result, which is freed.
///
/// # Safety
/// `list` must come from a successful getaddrinfo and not be used afterwards.
unsafe fn take_addresses(list: *mut libc::addrinfo) -> Vec<Address> {
    let mut addresses = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: cursor walks the list getaddrinfo returned, which stays valid until
        // freeaddrinfo; ai_addr points at ai_addrlen bytes.
        let entry = unsafe { &*cursor };
        if !entry.ai_addr.is_null() {
            let raw = unsafe { sockaddr_from_raw(entry.ai_addr, entry.ai_addrlen) };
            addresses.push(Address::from_sockaddr(&raw));
        }
        cursor = entry.ai_next;
    }
    // SAFETY: the caller's list, freed exactly once.
    unsafe { libc::freeaddrinfo(list) };
    addresses
}

/// The addresses of a literal host ("127.0.0.1", "::1", or any form inet_aton takes) and
/// a numeric service, parsed without a lookup (AI_NUMERICHOST, AI_NUMERICSERV); None when
/// either needs the resolver. A `:nowait` client to a literal address so never waits
/// behind lookups of other names.
pub fn literal(query: &Lookup) -> Option<Vec<Address>> {
    let ServiceText::Port(port) = numeric_service(query.service.as_bytes()) else { return None };
    let host = CString::new(query.host.clone()).ok()?;
    let service = CString::new(port.to_string()).ok()?;
    // SAFETY: addrinfo is plain old data; all-zero is the documented empty hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = query.family;
    hints.ai_socktype = query.socktype;
    hints.ai_flags = libc::AI_NUMERICHOST | libc::AI_NUMERICSERV;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: as in `lookup`; with these flags getaddrinfo only parses.
    let rc = unsafe { libc::getaddrinfo(host.as_ptr(), service.as_ptr(), &hints, &mut list) };
    if rc != 0 {
        return None;
    }
    // SAFETY: list came from a successful getaddrinfo; read and freed once.
    Some(unsafe { take_addresses(list) })
}

/// The answer of a lookup that outlived [`LOOKUP_DEADLINE`]. Its process fails with
/// "Name lookup of HOST failed" like any failed lookup.
fn timed_out() -> Result<Vec<Address>> {
    Err(Error::msg("Name lookup timed out"))
}

/// getaddrinfo's message for `code`, as Emacs shows it.
pub(crate) fn gai_message(code: i32) -> String {
    if code == libc::EAI_SYSTEM {
        return super::error::strerror(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(libc::gai_strerror(code)) }.to_string_lossy().into_owned()
}

/// A finished background lookup.
pub struct Answer {
    /// The request this answers.
    pub ticket: u64,
    /// The addresses, or Emacs's resolution error.
    pub result: Result<Vec<Address>>,
}

pub use super::pool::Cancel;

/// The most resolver threads at once, counting threads still inside a lookup that
/// outlived its deadline. A thread is started for each lookup that finds none idle, so a
/// slow name server holds up other names only once this many lookups hang together, and
/// then only until their deadline.
const MAX_THREADS: usize = 64;

/// How long a `:nowait` lookup may take from its submission; then its process fails with
/// "Name lookup of HOST failed", as for a name that does not resolve. glibc gives up on a
/// name server after 5 s, twice, for each of at most 3 servers (resolv.conf(5)), so this
/// only ends lookups that glibc itself would never end in time. Emacs's getaddrinfo_a has
/// no limit.
pub(crate) const LOOKUP_DEADLINE: Duration = Duration::from_secs(60);

/// Resolver threads running getaddrinfo. Answers are collected in a list and announced
/// through `notify`.
pub struct Resolver {
    pub(crate) pool: Pool<Lookup, Result<Vec<Address>>>,
}

impl Resolver {
    /// A resolver that calls `notify` (from a resolver thread) whenever an answer is ready.
    pub fn new(notify: std::sync::Arc<dyn Fn() + Send + Sync>) -> Resolver {
        let pool = Pool::new(MAX_THREADS, lookup, notify).with_deadline(LOOKUP_DEADLINE, timed_out);
        Resolver { pool }
    }

    /// Start a lookup; the flag it returns is set once the lookup is cancelled.
    pub fn submit(&mut self, ticket: u64, query: Lookup) -> Result<Cancel> {
        self.pool.submit(ticket, query)
    }

    /// Abandon the lookup `ticket` (its process was deleted): no answer will be reported,
    /// and a lookup still queued is dropped at once with its query.
    pub fn cancel(&mut self, ticket: u64) {
        self.pool.cancel(ticket);
    }

    /// Take every answer that has arrived.
    pub fn take_answers(&self) -> Vec<Answer> {
        self.pool.take_answers().into_iter().map(|(ticket, result)| Answer { ticket, result }).collect()
    }

    /// Whether answers are waiting to be taken.
    pub fn has_answers(&self) -> bool {
        self.pool.has_answers()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn query(host: &str, service: &str) -> Lookup {
        Lookup {
            host: host.as_bytes().to_vec(),
            service: service.into(),
            family: libc::AF_UNSPEC,
            socktype: libc::SOCK_STREAM,
            numeric_host: false,
        }
    }

    #[test]
    fn numeric_hosts_resolve_and_errors_read_like_emacs() {
        let found = lookup(&query("127.0.0.1", "80")).unwrap();
        assert_eq!(found, vec![Address::Inet4 { octets: [127, 0, 0, 1], port: 80 }]);
        let err = lookup(&query("127.0.0.1", "nosuchservice")).unwrap_err();
        assert_eq!(err.message(), "127.0.0.1/nosuchservice Servname not supported for ai_socktype");
    }

    #[test]
    fn numeric_services_never_wrap() {
        // glibc would read each of these as port 80.
        for service in ["+65616", "\t+70000", "+4294967376", " 65616"] {
            let err = lookup(&query("127.0.0.1", service)).unwrap_err();
            assert_eq!(err.message(), format!("127.0.0.1/{service} Port number out of range"));
        }
        let err = lookup(&query("127.0.0.1", "-4294967216")).unwrap_err();
        assert_eq!(err.message(), "127.0.0.1/-4294967216 Servname not supported for ai_socktype");
        // In range, sign and white space are what getaddrinfo would take them for.
        let found = lookup(&query("127.0.0.1", " +0081")).unwrap();
        assert_eq!(found, vec![Address::Inet4 { octets: [127, 0, 0, 1], port: 81 }]);
    }

    #[test]
    fn background_lookup_answers() {
        let (tx, rx) = mpsc::channel();
        let tx = parking_lot::Mutex::new(tx);
        let mut resolver = Resolver::new(std::sync::Arc::new(move || {
            let _ = tx.lock().send(());
        }));
        resolver.submit(7, query("127.0.0.1", "81")).unwrap();
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        let answers = resolver.take_answers();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].ticket, 7);
        assert!(answers[0].result.is_ok());
    }

    #[test]
    fn literal_hosts_parse_without_a_lookup() {
        let found = literal(&query("127.0.0.1", "80")).unwrap();
        assert_eq!(found, vec![Address::Inet4 { octets: [127, 0, 0, 1], port: 80 }]);
        let found = literal(&query("::1", " +81")).unwrap();
        assert_eq!(found, vec![Address::Inet6 { groups: [0, 0, 0, 0, 0, 0, 0, 1], port: 81 }]);
        // Forms inet_aton takes, as getaddrinfo does for Emacs's Fmake_network_process.
        assert_eq!(literal(&query("127.1", "80")), literal(&query("127.0.0.1", "80")));
        // Names, getaddrinfo's failures, bracketed IPv6 and service names need the resolver.
        for (host, service) in
            [("localhost", "80"), ("[::1]", "80"), ("127.0.0.1", "http"), ("127.0.0.1\0x", "80")]
        {
            assert_eq!(literal(&query(host, service)), None, "{host:?} {service:?}");
        }
        let mut v6_only = query("127.0.0.1", "80");
        v6_only.family = libc::AF_INET6;
        assert_eq!(literal(&v6_only), None);
    }

    #[test]
    fn many_lookups_from_many_threads_all_answer_or_cancel() {
        // Real threads (TSan runs this in `make test-tsan`): more lookups than threads,
        // every other one cancelled at once, then the resolver dropped mid-flight.
        let woken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = woken.clone();
        let mut resolver = Resolver::new(std::sync::Arc::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }));
        for ticket in 0..32u64 {
            resolver.submit(ticket, query("127.0.0.1", "83")).unwrap();
            if ticket % 2 == 1 {
                resolver.cancel(ticket);
            }
        }
        // A cancelled lookup never answers; every lookup left alone must.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut answered = Vec::new();
        while (0..32).step_by(2).any(|ticket| !answered.contains(&ticket)) {
            assert!(std::time::Instant::now() < deadline, "lookups did not finish: {answered:?}");
            answered.extend(resolver.take_answers().into_iter().map(|answer| answer.ticket));
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        answered.sort_unstable();
        let before = answered.len();
        answered.dedup();
        assert_eq!(answered.len(), before, "an answer came twice");
        assert!(answered.iter().all(|&ticket| ticket < 32 && ticket % 2 == 0));
        assert!(woken.load(std::sync::atomic::Ordering::Relaxed) >= 1);
        resolver.submit(99, query("127.0.0.1", "84")).unwrap();
        drop(resolver);
    }
}
