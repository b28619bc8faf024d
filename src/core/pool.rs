//! The resolver's thread pool, generic over the work so that loom can check its protocol
//! with a trivial job (`loom_tests` below) and unit tests with a fake lookup.
//!
//! A queue of jobs; worker threads started on demand, one per job that finds no idle
//! thread, up to a cap; cancellation that also takes a job out of the queue; an answer
//! list and a wake-up call after each answer; optional deadlines, kept by a clock thread
//! that answers an overdue job with a time-out in its place; and a drop that joins every
//! thread not inside a job. One lock guards all the shared state.
//!
//! A job that outlives its deadline keeps its thread (getaddrinfo cannot be interrupted):
//! that thread stays counted against the cap until the call returns, its late answer is
//! dropped, and it then takes the next job. So a dead name server costs threads, never
//! unbounded ones, and never holds other lookups beyond the deadline.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::error::{Error, Result};
use super::sync::{thread, Arc, AtomicBool, Condvar, Mutex};

/// A job's cancel flag: once set, no answer will be reported for it.
pub type Cancel = Arc<AtomicBool>;

pub(crate) struct Pool<J, A> {
    shared: Arc<PoolShared<J, A>>,
    work: fn(&J) -> A,
    notify: std::sync::Arc<dyn Fn() + Send + Sync>,
    /// Worker `i` is `workers[i]`, its job (when busy) `state.busy[i]`.
    workers: Vec<thread::JoinHandle<()>>,
    pub(crate) max_threads: usize,
    /// How long a job may take from its submission, and the answer it gets when overdue.
    deadline: Option<(Duration, fn() -> A)>,
    clock: Option<thread::JoinHandle<()>>,
    /// Called before each thread is started; its error stands for the spawn's. Tests make
    /// it fail, as `std::thread::Builder::spawn` does when the system is out of threads.
    pub(crate) before_spawn: fn() -> io::Result<()>,
}

struct PoolShared<J, A> {
    state: Mutex<PoolState<J, A>>,
    /// Signalled when a job is queued and at shutdown.
    job_ready: Condvar,
    /// Signalled when a job is queued and at shutdown, for the clock.
    clock_wake: Condvar,
}

struct PoolState<J, A> {
    jobs: VecDeque<Job<J>>,
    answers: Vec<(u64, A)>,
    /// Threads waiting for a job.
    idle: usize,
    /// Per worker: the job it runs (outside the lock, in `work`), if any.
    busy: Vec<Option<Running>>,
    /// Set when the pool goes: threads take no new jobs and report no answers.
    shutdown: bool,
}

struct Job<J> {
    ticket: u64,
    query: J,
    cancelled: Cancel,
    deadline: Option<Instant>,
}

/// A job a worker has taken.
struct Running {
    ticket: u64,
    cancelled: Cancel,
    deadline: Option<Instant>,
    /// The clock answered it (a time-out): the worker's own answer will be dropped.
    answered: bool,
}

fn spawn_allowed() -> io::Result<()> {
    Ok(())
}

impl<J: Send + 'static, A: Send + 'static> Pool<J, A> {
    /// A pool of at most `max_threads` threads running `work`, calling `notify` (from a
    /// worker) after each answer it adds. No deadlines (see [`Pool::with_deadline`]).
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
            shared: Arc::new(PoolShared {
                state: Mutex::new(state),
                job_ready: Condvar::new(),
                clock_wake: Condvar::new(),
            }),
            work,
            notify,
            workers: Vec::new(),
            max_threads,
            deadline: None,
            clock: None,
            before_spawn: spawn_allowed,
        }
    }

    /// Give every job `deadline` from its submission; an overdue job is answered with
    /// `timed_out()` (by a clock thread, started with the first job).
    pub(crate) fn with_deadline(mut self, deadline: Duration, timed_out: fn() -> A) -> Pool<J, A> {
        self.deadline = Some((deadline, timed_out));
        self
    }

    /// Queue a job, starting a thread if no idle one is free for it. A thread that cannot
    /// be started is an error only when no thread at all is there to take the job later.
    pub(crate) fn submit(&mut self, ticket: u64, query: J) -> Result<Cancel> {
        if self.deadline.is_some() && self.clock.is_none() {
            self.start_clock()?;
        }
        let need_thread = {
            let state = self.shared.state.lock();
            state.idle <= state.jobs.len() && self.workers.len() < self.max_threads
        };
        if need_thread {
            if let Err(err) = self.spawn_worker() {
                if self.workers.is_empty() {
                    return Err(err);
                }
            }
        }
        let cancelled = Arc::new(AtomicBool::new(false));
        let deadline = self.deadline.map(|(after, _)| Instant::now() + after);
        let mut state = self.shared.state.lock();
        if state.shutdown {
            return Err(Error::msg("resolver is shut down"));
        }
        state.jobs.push_back(Job { ticket, query, cancelled: cancelled.clone(), deadline });
        self.shared.job_ready.notify_one();
        if deadline.is_some() {
            self.shared.clock_wake.notify_one();
        }
        Ok(cancelled)
    }

    /// Abandon the job `ticket`: no answer will be reported, and a queued job leaves the
    /// queue at once (with what it holds), rather than when a thread gets to it.
    pub(crate) fn cancel(&mut self, ticket: u64) {
        let (removed, answers) = {
            let mut state = self.shared.state.lock();
            let jobs = std::mem::take(&mut state.jobs);
            let (removed, kept): (VecDeque<_>, VecDeque<_>) =
                jobs.into_iter().partition(|job| job.ticket == ticket);
            state.jobs = kept;
            for running in state.busy.iter().flatten().filter(|running| running.ticket == ticket) {
                running.cancelled.store(true, Ordering::Release);
            }
            let answers = std::mem::take(&mut state.answers);
            let (gone, kept): (Vec<_>, Vec<_>) = answers.into_iter().partition(|(t, _)| *t == ticket);
            state.answers = kept;
            (removed, gone)
        };
        for job in &removed {
            job.cancelled.store(true, Ordering::Release);
        }
        // Dropped outside the lock.
        drop((removed, answers));
    }

    /// Take every answer that has arrived.
    pub(crate) fn take_answers(&self) -> Vec<(u64, A)> {
        std::mem::take(&mut self.shared.state.lock().answers)
    }

    /// Whether answers are waiting to be taken.
    pub(crate) fn has_answers(&self) -> bool {
        !self.shared.state.lock().answers.is_empty()
    }

    /// How many jobs wait for a thread.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.shared.state.lock().jobs.len()
    }

    /// How many threads exist (idle, working, or stuck past a deadline).
    #[cfg(test)]
    pub(crate) fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Change the work and the deadline (keeping its time-out answer), for tests that
    /// put a fake lookup into a real context.
    #[cfg(test)]
    pub(crate) fn set_work(&mut self, work: fn(&J) -> A, deadline: Option<Duration>) {
        self.work = work;
        if let (Some(after), Some((old, _))) = (deadline, self.deadline.as_mut()) {
            *old = after;
        }
    }

    fn spawn_worker(&mut self) -> Result<()> {
        let id = self.workers.len();
        self.shared.state.lock().busy.push(None);
        let shared = self.shared.clone();
        let work = self.work;
        let notify = self.notify.clone();
        match self.spawn("netproc-resolver", move || worker(&shared, id, work, &*notify)) {
            Ok(handle) => {
                self.workers.push(handle);
                Ok(())
            }
            Err(err) => {
                self.shared.state.lock().busy.pop();
                Err(err)
            }
        }
    }

    fn start_clock(&mut self) -> Result<()> {
        let Some((_, timed_out)) = self.deadline else { return Ok(()) };
        let shared = self.shared.clone();
        let notify = self.notify.clone();
        self.clock = Some(self.spawn("netproc-resolver-clock", move || clock(&shared, timed_out, &*notify))?);
        Ok(())
    }

    fn spawn(&self, name: &str, body: impl FnOnce() + Send + 'static) -> Result<thread::JoinHandle<()>> {
        let spawned =
            (self.before_spawn)().and_then(|()| thread::Builder::new().name(name.into()).spawn(body));
        spawned.map_err(|err| Error::file("Cannot start resolver thread", &err, vec![]))
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
        state.busy[id] = Some(Running {
            ticket: job.ticket,
            cancelled: job.cancelled.clone(),
            deadline: job.deadline,
            answered: false,
        });
        drop(state);
        let answer = work(&job.query);
        drop(job.query);
        state = shared.state.lock();
        let answered = state.busy[id].take().is_none_or(|running| running.answered);
        if !state.shutdown && !answered && !job.cancelled.load(Ordering::Acquire) {
            state.answers.push((job.ticket, answer));
            drop(state);
            // After the push: a reactor woken by this finds the answer.
            notify();
            state = shared.state.lock();
        }
    }
}

/// The clock thread: answer every job still queued or running at its deadline with a
/// time-out, and wake the reactor for it.
fn clock<J, A>(shared: &PoolShared<J, A>, timed_out: fn() -> A, notify: &dyn Fn()) {
    let mut state = shared.state.lock();
    loop {
        if state.shutdown {
            return;
        }
        let now = Instant::now();
        let due = |deadline: Option<Instant>| deadline.is_some_and(|at| at <= now);
        let jobs = std::mem::take(&mut state.jobs);
        let (overdue, waiting): (VecDeque<_>, VecDeque<_>) =
            jobs.into_iter().partition(|job| due(job.deadline));
        state.jobs = waiting;
        let mut answered = false;
        for job in &overdue {
            if !job.cancelled.load(Ordering::Acquire) {
                state.answers.push((job.ticket, timed_out()));
                answered = true;
            }
        }
        let PoolState { busy, answers, .. } = &mut *state;
        for running in busy.iter_mut().flatten().filter(|running| !running.answered && due(running.deadline))
        {
            running.answered = true;
            if !running.cancelled.load(Ordering::Acquire) {
                answers.push((running.ticket, timed_out()));
                answered = true;
            }
        }
        if answered || !overdue.is_empty() {
            drop(state);
            drop(overdue);
            if answered {
                notify();
            }
            state = shared.state.lock();
            continue;
        }
        let queued = state.jobs.iter().filter_map(|job| job.deadline);
        let running = state.busy.iter().flatten().filter(|r| !r.answered).filter_map(|r| r.deadline);
        match queued.chain(running).min() {
            Some(at) => {
                shared.clock_wake.wait_for(&mut state, at.saturating_duration_since(now));
            }
            None => shared.clock_wake.wait(&mut state),
        }
    }
}

impl<J, A> Drop for Pool<J, A> {
    fn drop(&mut self) {
        // Join every thread not inside a job, so that no thread of a freed context is left
        // (valgrind reports glibc's per-thread resolver state of a thread still running at
        // exit). A thread inside getaddrinfo may take as long as the lookup: it is left to
        // finish, find the shutdown and exit on its own. The clock only ever waits on its
        // condition variable, so it is always joined.
        let (idle, jobs) = {
            let mut state = self.shared.state.lock();
            state.shutdown = true;
            let jobs = std::mem::take(&mut state.jobs);
            self.shared.job_ready.notify_all();
            self.shared.clock_wake.notify_all();
            let busy: Vec<bool> = state.busy.iter().map(Option::is_some).collect();
            let idle: Vec<_> = self
                .workers
                .drain(..)
                .zip(busy)
                .filter(|(_, busy)| !busy)
                .map(|(handle, _)| handle)
                .collect();
            (idle, jobs)
        };
        drop(jobs);
        for handle in idle.into_iter().chain(self.clock.take()) {
            let _ = handle.join();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Jobs: 0 answers at once; anything else blocks until released (tests run at once,
    /// so each uses numbers of its own).
    static RELEASED: parking_lot::Mutex<Vec<usize>> = parking_lot::Mutex::new(Vec::new());

    fn release(n: usize) {
        RELEASED.lock().push(n);
    }

    fn gated(n: &usize) -> usize {
        let until = Instant::now() + Duration::from_secs(20);
        while *n != 0 && !RELEASED.lock().contains(n) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        *n
    }

    fn pool(max_threads: usize) -> Pool<usize, usize> {
        Pool::new(max_threads, gated, std::sync::Arc::new(|| {}))
    }

    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < until, "{what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn dropping_the_pool_joins_its_idle_threads_and_clock() {
        let mut pool = pool(4).with_deadline(Duration::from_secs(60), || 99);
        pool.submit(1, 0).unwrap();
        wait_for("the job did not finish", || pool.has_answers() && pool.shared.state.lock().idle == 1);
        let shared = pool.shared.clone();
        drop(pool);
        // The threads' own references went with them: joined, not left running.
        assert_eq!(Arc::strong_count(&shared), 1);
    }

    #[test]
    fn a_job_that_finds_every_thread_busy_gets_a_new_one() {
        // Four jobs that hang (a dead name server) take four threads; the fifth still
        // gets one of its own and answers at once.
        let mut pool = pool(64);
        for ticket in 1..=4 {
            pool.submit(ticket, 1_000_000 + ticket as usize).unwrap();
        }
        pool.submit(5, 0).unwrap();
        wait_for("the fifth job waited behind the hanging ones", || pool.has_answers());
        assert_eq!(pool.take_answers(), vec![(5, 0)]);
        assert_eq!(pool.threads(), 5);
        (1_000_001..=1_000_004).for_each(release);
    }

    #[test]
    fn overdue_jobs_are_answered_by_the_clock_and_their_threads_stay_counted() {
        let mut pool = pool(1).with_deadline(Duration::from_millis(100), || 99);
        let start = Instant::now();
        pool.submit(1, 2_000_001).unwrap(); // hangs on the only thread
        pool.submit(2, 0).unwrap(); // queued behind it
        wait_for("no time-outs", || pool.shared.state.lock().answers.len() == 2);
        assert!(start.elapsed() >= Duration::from_millis(100));
        let mut answers = pool.take_answers();
        answers.sort_unstable();
        assert_eq!(answers, vec![(1, 99), (2, 99)]);
        // The hanging thread is still the pool's, inside its job; no other was started.
        assert_eq!(pool.threads(), 1);
        assert!(pool.shared.state.lock().busy[0].is_some());
        // When it returns at last, its answer is dropped and it serves the next job.
        release(2_000_001);
        pool.submit(3, 0).unwrap();
        wait_for("the thread did not come back", || pool.has_answers());
        assert_eq!(pool.take_answers(), vec![(3, 0)]);
    }

    #[test]
    fn cancelling_a_queued_job_drops_it_at_once() {
        let mut pool = pool(1);
        pool.submit(1, 3_000_001).unwrap();
        pool.submit(2, 0).unwrap();
        wait_for("the first job was not taken", || pool.shared.state.lock().busy[0].is_some());
        assert_eq!(pool.queued(), 1);
        pool.cancel(2);
        assert_eq!(pool.queued(), 0);
        pool.cancel(1);
        release(3_000_001);
        wait_for("the thread did not come back", || pool.shared.state.lock().idle == 1);
        assert!(pool.take_answers().is_empty());
    }

    #[test]
    fn a_thread_that_cannot_start_is_an_error_only_without_threads() {
        fn refuse() -> io::Result<()> {
            Err(io::Error::from_raw_os_error(libc::EAGAIN))
        }
        let mut pool = pool(4);
        pool.before_spawn = refuse;
        let error = pool.submit(1, 0).unwrap_err();
        assert_eq!(error.symbol.name(), "file-error");
        assert_eq!(error.message(), "Cannot start resolver thread: Resource temporarily unavailable");
        assert_eq!(pool.queued(), 0);
        // With one thread there, a job waits for it instead.
        pool.before_spawn = spawn_allowed;
        pool.submit(2, 0).unwrap();
        wait_for("no answer", || pool.has_answers());
        pool.before_spawn = refuse;
        pool.submit(3, 0).unwrap();
        wait_for("no answer", || pool.shared.state.lock().answers.len() == 2);
        // And with deadlines, a clock that cannot start is an error too.
        let mut timed = self::pool(4).with_deadline(Duration::from_secs(1), || 99);
        timed.before_spawn = refuse;
        assert!(timed.submit(1, 0).is_err());
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
            pool.submit(1, 5).unwrap();
            pool.cancel(1);
            // Cancelled while queued, taken or running: no answer for it, ever (the cancel
            // also takes back an answer already posted). The second job is answered.
            pool.submit(2, 6).unwrap();
            let answers = collect_until(&pool, &wakeups, |got| got.contains(&(2, 12)));
            assert_eq!(answers, vec![(2, 12)]);
            assert!(pool.take_answers().is_empty());
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

    #[test]
    fn the_clock_is_joined_at_drop() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            // A deadline far away: the clock only waits, and the drop must wake and join
            // it whatever it is doing.
            let mut pool = pool(1, &wakeups).with_deadline(Duration::from_secs(3600), || 0);
            pool.submit(1, 1).unwrap();
            assert_eq!(collect(&pool, &wakeups, 1), vec![(1, 2)]);
            drop(pool);
        });
    }
}
