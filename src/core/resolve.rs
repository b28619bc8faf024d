//! Host and service resolution through getaddrinfo, with Emacs's error texts, and a small
//! pool of resolver threads so that `:nowait` never blocks the host's thread.

use std::collections::VecDeque;
use std::ffi::{CStr, CString};
use std::sync::atomic::Ordering;

use super::address::{numeric_service, sockaddr_from_raw, Address, ServiceText};
use super::error::{Error, Result};
use super::sync::{thread, Arc, AtomicBool, Condvar, Mutex};

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

/// A lookup's cancel flag: setting it abandons the lookup, and no answer will be reported.
pub type Cancel = Arc<AtomicBool>;

/// At most this many lookups run at once; more wait in the queue.
const MAX_THREADS: usize = 4;

/// Resolver threads running getaddrinfo. Answers are collected in a list and announced
/// through `notify`.
pub struct Resolver {
    pool: Pool<Lookup, Result<Vec<Address>>>,
}

impl Resolver {
    /// A resolver that calls `notify` (from a resolver thread) whenever an answer is ready.
    pub fn new(notify: std::sync::Arc<dyn Fn() + Send + Sync>) -> Resolver {
        Resolver { pool: Pool::new(MAX_THREADS, lookup, notify) }
    }

    /// Start a lookup. Setting the returned flag abandons it: no answer will be reported.
    pub fn submit(&mut self, ticket: u64, query: Lookup) -> Result<Cancel> {
        self.pool.submit(ticket, query)
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

/// The resolver's protocol, generic over the work so that loom can check it with a trivial
/// job (`loom_tests` below): a queue of jobs, worker threads started on demand up to a
/// limit, cancel flags, an answer list, a wake-up call after each answer, and a drop that
/// joins every thread not inside a job. One lock guards all the shared state.
pub(crate) struct Pool<J, A> {
    shared: Arc<PoolShared<J, A>>,
    work: fn(&J) -> A,
    notify: std::sync::Arc<dyn Fn() + Send + Sync>,
    /// Worker `i` is `workers[i]`, its busy flag `state.busy[i]`.
    workers: Vec<thread::JoinHandle<()>>,
    max_threads: usize,
}

struct PoolShared<J, A> {
    state: Mutex<PoolState<J, A>>,
    /// Signalled when a job is queued and at shutdown.
    job_ready: Condvar,
}

struct PoolState<J, A> {
    jobs: VecDeque<Job<J>>,
    answers: Vec<(u64, A)>,
    /// Threads waiting for a job.
    idle: usize,
    /// Per worker: whether it holds a job (is outside the lock, running `work`).
    busy: Vec<bool>,
    /// Set when the pool goes: threads take no new jobs and report no answers.
    shutdown: bool,
}

struct Job<J> {
    ticket: u64,
    query: J,
    cancelled: Cancel,
}

impl<J: Send + 'static, A: Send + 'static> Pool<J, A> {
    /// A pool of at most `max_threads` threads running `work`, calling `notify` (from a
    /// worker) after each answer it adds.
    pub(crate) fn new(
        max_threads: usize,
        work: fn(&J) -> A,
        notify: std::sync::Arc<dyn Fn() + Send + Sync>,
    ) -> Pool<J, A> {
        let state = PoolState {
            jobs: VecDeque::new(),
            answers: Vec::new(),
            idle: 0,
            busy: Vec::new(),
            shutdown: false,
        };
        Pool {
            shared: Arc::new(PoolShared { state: Mutex::new(state), job_ready: Condvar::new() }),
            work,
            notify,
            workers: Vec::new(),
            max_threads,
        }
    }

    /// Queue a job, starting a thread if every thread is taken.
    pub(crate) fn submit(&mut self, ticket: u64, query: J) -> Result<Cancel> {
        let need_thread = {
            let state = self.shared.state.lock();
            state.idle <= state.jobs.len() && self.workers.len() < self.max_threads
        };
        if need_thread {
            self.spawn_thread()?;
        }
        let cancelled = Arc::new(AtomicBool::new(false));
        let mut state = self.shared.state.lock();
        if state.shutdown {
            return Err(Error::msg("resolver is shut down"));
        }
        state.jobs.push_back(Job { ticket, query, cancelled: cancelled.clone() });
        self.shared.job_ready.notify_one();
        Ok(cancelled)
    }

    /// Take every answer that has arrived.
    pub(crate) fn take_answers(&self) -> Vec<(u64, A)> {
        std::mem::take(&mut self.shared.state.lock().answers)
    }

    /// Whether answers are waiting to be taken.
    pub(crate) fn has_answers(&self) -> bool {
        !self.shared.state.lock().answers.is_empty()
    }

    fn spawn_thread(&mut self) -> Result<()> {
        let id = self.workers.len();
        self.shared.state.lock().busy.push(false);
        let shared = self.shared.clone();
        let work = self.work;
        let notify = self.notify.clone();
        let spawned = thread::Builder::new()
            .name("netproc-resolver".into())
            .spawn(move || worker(&shared, id, work, &*notify));
        match spawned {
            Ok(handle) => {
                self.workers.push(handle);
                Ok(())
            }
            Err(err) => {
                self.shared.state.lock().busy.pop();
                Err(Error::file("Cannot start resolver thread", &err, vec![]))
            }
        }
    }
}

/// One worker thread: take jobs until the pool shuts down.
fn worker<J, A>(shared: &PoolShared<J, A>, id: usize, work: fn(&J) -> A, notify: &dyn Fn()) {
    let mut state = shared.state.lock();
    loop {
        if state.shutdown {
            return;
        }
        let Some(job) = state.jobs.pop_front() else {
            state.idle += 1;
            shared.job_ready.wait(&mut state);
            state.idle -= 1;
            continue;
        };
        if job.cancelled.load(Ordering::Acquire) {
            continue;
        }
        // Taking the job and becoming busy happen under one lock: Drop either sees this
        // thread busy (and leaves it) or idle (and joins it).
        state.busy[id] = true;
        drop(state);
        let answer = work(&job.query);
        state = shared.state.lock();
        state.busy[id] = false;
        if !state.shutdown && !job.cancelled.load(Ordering::Acquire) {
            state.answers.push((job.ticket, answer));
            drop(state);
            // After the push: a reactor woken by this finds the answer.
            notify();
            state = shared.state.lock();
        }
    }
}

impl<J, A> Drop for Pool<J, A> {
    fn drop(&mut self) {
        // Join every thread not inside a job, so that no thread of a freed context is left
        // (valgrind reports glibc's per-thread resolver state of a thread still running at
        // exit). A thread inside getaddrinfo may take as long as the lookup: it is left to
        // finish, find the shutdown and exit on its own.
        let idle: Vec<_> = {
            let mut state = self.shared.state.lock();
            state.shutdown = true;
            state.jobs.clear();
            self.shared.job_ready.notify_all();
            let busy = state.busy.clone();
            self.workers.drain(..).zip(busy).filter(|(_, busy)| !busy).map(|(handle, _)| handle).collect()
        };
        for handle in idle {
            let _ = handle.join();
        }
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
    fn dropping_the_resolver_joins_its_idle_threads() {
        let mut resolver = Resolver::new(std::sync::Arc::new(|| {}));
        resolver.submit(1, query("127.0.0.1", "82")).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !(resolver.has_answers() && resolver.pool.shared.state.lock().idle == 1) {
            assert!(std::time::Instant::now() < deadline, "the lookup did not finish");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let shared = resolver.pool.shared.clone();
        drop(resolver);
        // The thread's own reference went with it: it was joined, not left running.
        assert_eq!(Arc::strong_count(&shared), 1);
    }

    #[test]
    fn many_lookups_from_many_threads_all_answer_or_cancel() {
        // Real threads (TSan runs this in `make test-tsan`): more lookups than threads,
        // every other one cancelled at once, then the resolver dropped mid-flight.
        let woken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = woken.clone();
        let mut resolver = Resolver::new(std::sync::Arc::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        }));
        let mut flags = Vec::new();
        for ticket in 0..32u64 {
            let cancel = resolver.submit(ticket, query("127.0.0.1", "83")).unwrap();
            if ticket % 2 == 1 {
                cancel.store(true, Ordering::Release);
            }
            flags.push(cancel);
        }
        // A lookup cancelled after it finished may still answer (the reactor drops it by
        // ticket); every lookup left alone must answer.
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
        assert!(answered.iter().all(|&ticket| ticket < 32));
        assert!(woken.load(Ordering::Relaxed) >= 1);
        resolver.submit(99, query("127.0.0.1", "84")).unwrap();
        drop(resolver);
    }
}

/// Every interleaving of the pool's protocol, with a trivial job in place of getaddrinfo
/// and a modelled reactor that sleeps until `notify` wakes it. Run by `make test`:
/// `RUSTFLAGS="--cfg loom" cargo test --release --lib loom_tests`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    /// A reactor's wake-up: a counter the resolver bumps and the host thread waits on.
    struct Wakeups {
        count: Mutex<usize>,
        changed: Condvar,
    }

    impl Wakeups {
        fn new() -> Wakeups {
            Wakeups { count: Mutex::new(0), changed: Condvar::new() }
        }

        fn wake(&self) {
            *self.count.lock() += 1;
            self.changed.notify_all();
        }

        /// Sleep until more than `seen` wake-ups happened.
        fn wait_past(&self, seen: usize) -> usize {
            let mut count = self.count.lock();
            while *count <= seen {
                self.changed.wait(&mut count);
            }
            *count
        }
    }

    fn double(n: &u32) -> u32 {
        n * 2
    }

    fn pool(max_threads: usize, wakeups: &std::sync::Arc<Wakeups>) -> Pool<u32, u32> {
        let wakeups = wakeups.clone();
        Pool::new(max_threads, double, std::sync::Arc::new(move || wakeups.wake()))
    }

    /// The reactor's loop: sleep until woken, take answers, until `want` arrived. A lost
    /// wake-up (an answer added after the host looked, with no wake after it) would leave
    /// this thread asleep forever, which loom reports as a deadlock.
    fn collect(pool: &Pool<u32, u32>, wakeups: &Wakeups, want: usize) -> Vec<(u64, u32)> {
        collect_until(pool, wakeups, |got| got.len() >= want)
    }

    fn collect_until(
        pool: &Pool<u32, u32>,
        wakeups: &Wakeups,
        done: impl Fn(&[(u64, u32)]) -> bool,
    ) -> Vec<(u64, u32)> {
        let mut got = pool.take_answers();
        let mut seen = 0;
        while !done(&got) {
            seen = wakeups.wait_past(seen);
            got.extend(pool.take_answers());
        }
        got.sort_unstable();
        got
    }

    #[test]
    fn answer_is_there_when_the_reactor_wakes() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            pool.submit(1, 21).unwrap();
            assert_eq!(collect(&pool, &wakeups, 1), vec![(1, 42)]);
            // Idle now: the drop joins it.
            drop(pool);
        });
    }

    #[test]
    fn two_jobs_on_two_threads_both_answer() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(2, &wakeups);
            pool.submit(1, 1).unwrap();
            pool.submit(2, 2).unwrap();
            assert_eq!(collect(&pool, &wakeups, 2), vec![(1, 2), (2, 4)]);
        });
    }

    #[test]
    fn queued_job_waits_for_the_only_thread() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            pool.submit(1, 1).unwrap();
            pool.submit(2, 2).unwrap();
            assert_eq!(pool.workers.len(), 1);
            assert_eq!(collect(&pool, &wakeups, 2), vec![(1, 2), (2, 4)]);
        });
    }

    #[test]
    fn cancel_from_the_host_thread_races_the_worker() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            let cancel = pool.submit(1, 5).unwrap();
            cancel.store(true, Ordering::Release);
            // Cancelled before the worker looked again: either no answer, or (the worker was
            // past its last check) the answer the host ignores by ticket. Either way the
            // second job is answered and nothing hangs.
            pool.submit(2, 6).unwrap();
            let answers = collect_until(&pool, &wakeups, |got| got.contains(&(2, 12)));
            assert!(answers.iter().all(|&(ticket, _)| ticket == 1 || ticket == 2));
        });
    }

    #[test]
    fn drop_while_a_job_runs_leaves_no_thread_behind() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            pool.submit(1, 1).unwrap();
            let shared = pool.shared.clone();
            // Dropped while the worker may be waiting, taking the job, or inside `work`:
            // an idle worker is joined, a busy one finishes and exits by itself (loom runs
            // every thread to its end and reports one that never ends).
            drop(pool);
            assert!(shared.state.lock().shutdown);
        });
    }
}
