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

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
