//! Host and service resolution through getaddrinfo, with Emacs's error texts, and a small
//! pool of resolver threads so that `:nowait` never blocks the host's thread.

use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use parking_lot::Mutex;

use super::address::sockaddr_from_raw;
use super::address::Address;
use super::error::{Error, Result};

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
}

/// Resolve at once, on the calling thread. Errors read `"HOST/SERVICE GAI-MESSAGE"`.
pub fn lookup(query: &Lookup) -> Result<Vec<Address>> {
    let failure = |message: String| {
        Error::msg(format!("{}/{} {}", String::from_utf8_lossy(&query.host), query.service, message))
    };
    let host = CString::new(query.host.clone()).map_err(|_| failure("Name or service not known".into()))?;
    let service = CString::new(query.service.clone())
        .map_err(|_| failure("Servname not supported for ai_socktype".into()))?;
    // SAFETY: addrinfo is plain old data; all-zero is the documented empty hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = query.family;
    hints.ai_socktype = query.socktype;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: host and service are NUL-terminated and live across the call; hints is
    // initialised; list receives an allocation we free below.
    let rc = unsafe { libc::getaddrinfo(host.as_ptr(), service.as_ptr(), &hints, &mut list) };
    if rc != 0 {
        return Err(failure(gai_message(rc)));
    }
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
    // SAFETY: list came from a successful getaddrinfo and is freed exactly once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(addresses)
}

fn gai_message(code: i32) -> String {
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

struct Job {
    ticket: u64,
    query: Lookup,
    cancelled: Arc<AtomicBool>,
}

/// Resolver threads. Answers are collected in a list and announced through `notify`.
pub struct Resolver {
    jobs: Option<Sender<Job>>,
    queue: Arc<Mutex<Receiver<Job>>>,
    answers: Arc<Mutex<Vec<Answer>>>,
    notify: Arc<dyn Fn() + Send + Sync>,
    threads: Vec<Worker>,
    idle: Arc<AtomicUsize>,
    /// Set when the resolver goes: threads take no new lookups.
    shutdown: Arc<AtomicBool>,
}

/// One resolver thread.
struct Worker {
    handle: std::thread::JoinHandle<()>,
    /// Set while the thread holds a job, from taking it until its answer is out.
    busy: Arc<AtomicBool>,
}

/// At most this many lookups run at once; more wait in the queue.
const MAX_THREADS: usize = 4;

impl Resolver {
    /// A resolver that calls `notify` (from a resolver thread) whenever an answer is ready.
    pub fn new(notify: Arc<dyn Fn() + Send + Sync>) -> Resolver {
        let (jobs, queue) = mpsc::channel();
        Resolver {
            jobs: Some(jobs),
            queue: Arc::new(Mutex::new(queue)),
            answers: Arc::new(Mutex::new(Vec::new())),
            notify,
            threads: Vec::new(),
            idle: Arc::new(AtomicUsize::new(0)),
            shutdown: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Start a lookup. Setting the returned flag abandons it: no answer will be reported.
    pub fn submit(&mut self, ticket: u64, query: Lookup) -> Result<Arc<AtomicBool>> {
        let cancelled = Arc::new(AtomicBool::new(false));
        if self.idle.load(Ordering::Acquire) == 0 && self.threads.len() < MAX_THREADS {
            self.spawn_thread()?;
        }
        let job = Job { ticket, query, cancelled: cancelled.clone() };
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job).is_ok()).unwrap_or(false);
        if !sent {
            return Err(Error::msg("resolver is shut down"));
        }
        Ok(cancelled)
    }

    /// Take every answer that has arrived.
    pub fn take_answers(&self) -> Vec<Answer> {
        std::mem::take(&mut *self.answers.lock())
    }

    /// Whether answers are waiting to be taken.
    pub fn has_answers(&self) -> bool {
        !self.answers.lock().is_empty()
    }

    fn spawn_thread(&mut self) -> Result<()> {
        let queue = self.queue.clone();
        let answers = self.answers.clone();
        let notify = self.notify.clone();
        let idle = self.idle.clone();
        let shutdown = self.shutdown.clone();
        let busy = Arc::new(AtomicBool::new(false));
        let busy_flag = busy.clone();
        let handle = std::thread::Builder::new()
            .name("netproc-resolver".into())
            .spawn(move || loop {
                idle.fetch_add(1, Ordering::AcqRel);
                let job = queue.lock().recv();
                idle.fetch_sub(1, Ordering::AcqRel);
                let Ok(job) = job else { return };
                // Busy before looking at `shutdown` (both SeqCst): Drop either sees this
                // thread busy or this thread sees the shutdown and starts no lookup.
                busy_flag.store(true, Ordering::SeqCst);
                if !shutdown.load(Ordering::SeqCst) && !job.cancelled.load(Ordering::Acquire) {
                    let result = lookup(&job.query);
                    if !job.cancelled.load(Ordering::Acquire) {
                        answers.lock().push(Answer { ticket: job.ticket, result });
                        notify();
                    }
                }
                busy_flag.store(false, Ordering::SeqCst);
            })
            .map_err(|err| Error::file("Cannot start resolver thread", &err, vec![]))?;
        self.threads.push(Worker { handle, busy });
        Ok(())
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        // Closing the channel ends idle threads at once: join them, so that no thread of a
        // freed context is left (valgrind reports glibc's per-thread resolver state of a
        // thread still running at exit). A thread inside getaddrinfo may take as long as
        // the lookup: it is left to finish, find the channel closed and exit on its own.
        self.shutdown.store(true, Ordering::SeqCst);
        self.jobs.take();
        for worker in self.threads.drain(..) {
            if !worker.busy.load(Ordering::SeqCst) {
                let _ = worker.handle.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(host: &str, service: &str) -> Lookup {
        Lookup {
            host: host.as_bytes().to_vec(),
            service: service.into(),
            family: libc::AF_UNSPEC,
            socktype: libc::SOCK_STREAM,
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
    fn background_lookup_answers() {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let mut resolver = Resolver::new(Arc::new(move || {
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
    fn dropping_the_resolver_joins_its_idle_threads() {
        let mut resolver = Resolver::new(Arc::new(|| {}));
        resolver.submit(1, query("127.0.0.1", "82")).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !(resolver.has_answers() && resolver.idle.load(Ordering::Acquire) == 1) {
            assert!(std::time::Instant::now() < deadline, "the lookup did not finish");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let answers = resolver.answers.clone();
        drop(resolver);
        // The thread's own reference went with it: it was joined, not left running.
        assert_eq!(Arc::strong_count(&answers), 1);
    }
}
