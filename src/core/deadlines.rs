//! Processes waiting for a time: sockets draining toward their close, servers paused
//! after a failed accept, and connects waiting for their next attempt or their deadline.
//! The times of the first two are kept in each process's `State` (`drain_deadline`,
//! `accept_paused_until`), and those of a connect by its race (attempts.rs); this keeps
//! the processes to look at, so that the reactor knows how long it may sleep and whose
//! time has come.
//!
//! A client storm may have thousands of connects in flight, so their times are in a heap
//! (as handshakes.rs keeps TLS handshakes'): the reactor's per-turn questions look only at
//! the soonest, and entries no longer current are dropped when they reach the top.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use super::process::ProcRef;

/// Connects waiting for a time, by process serial, with the time each waits for.
pub(crate) type ConnectTimes = HashMap<u64, (ProcRef, Instant)>;

#[derive(Default)]
pub(crate) struct Deadlines {
    /// Processes closed with output still queued, until it is written or their deadline.
    draining: Vec<ProcRef>,
    /// Servers whose accepting is paused after a failure.
    paused_servers: Vec<ProcRef>,
    /// Connects waiting for a time.
    connects: ConnectTimes,
    /// (time, serial) of `connects`, soonest first; may hold times no longer current.
    connect_times: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Deadlines {
    /// A socket started draining (its deadline is set).
    /// Whether nothing waits for a time (most turns): the reactor then skips the four
    /// passes that would each find nothing due (W2's profile: an empty list made and
    /// dropped per pass and turn).
    pub(crate) fn is_empty(&self) -> bool {
        self.draining.is_empty() && self.paused_servers.is_empty() && self.connect_times.is_empty()
    }

    pub(crate) fn add_draining(&mut self, process: &ProcRef) {
        self.draining.push(process.clone());
    }

    /// A server paused accepting (its resume time is set).
    pub(crate) fn add_paused_server(&mut self, server: &ProcRef) {
        self.paused_servers.push(server.clone());
    }

    /// A connect is to be looked at again at `at` (its next attempt, or its deadline);
    /// replaces the time it waited for before.
    pub(crate) fn wake_connect_at(&mut self, process: &ProcRef, at: Instant) {
        let previous = self.connects.insert(process.serial, (process.clone(), at));
        if previous.is_none_or(|(_, before)| before != at) {
            self.connect_times.push(Reverse((at, process.serial)));
        }
    }

    /// The connect is over (or waits for no time): forget it. Returns the reference held,
    /// for the caller to release outside the locks.
    pub(crate) fn forget_connect(&mut self, process: &ProcRef) -> Option<ProcRef> {
        let (held, _) = self.connects.remove(&process.serial)?;
        if self.connects.is_empty() {
            self.connect_times.clear();
        } else if self.connect_times.len() > 2 * self.connects.len() + 64 {
            // Connects that ended long before their deadline leave its entry behind: keep
            // the heap in proportion to the connects under way.
            self.connect_times =
                self.connects.iter().map(|(serial, (_, at))| Reverse((*at, *serial))).collect();
        }
        Some(held)
    }

    /// Take out the connects whose time has come; they wait for nothing more until
    /// `wake_connect_at` is called again.
    pub(crate) fn take_connects_due(&mut self) -> Vec<ProcRef> {
        if self.connect_times.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((at, serial))) = self.connect_times.peek().copied() {
            if at > now {
                break;
            }
            self.connect_times.pop();
            if self.connects.get(&serial).is_some_and(|(_, current)| *current == at) {
                due.extend(self.connects.remove(&serial).map(|(process, _)| process));
            }
        }
        due
    }

    /// `timeout` (None: no limit) shortened so that a wait ends when the soonest thing here
    /// is due: a paused server resumes, a draining socket closes, and a connect starts its
    /// next attempt or fails, on time.
    pub(crate) fn bound(&self, timeout: Option<Duration>) -> Option<Duration> {
        // The top may be a time no longer current: waking early is harmless.
        let timeout = match self.connect_times.peek() {
            Some(Reverse((soonest, _))) => {
                let left = soonest.saturating_duration_since(Instant::now());
                Some(timeout.map_or(left, |timeout| timeout.min(left)))
            }
            None => timeout,
        };
        if self.paused_servers.is_empty() && self.draining.is_empty() {
            return timeout;
        }
        let now = Instant::now();
        let resume = self.paused_servers.iter().filter_map(|p| p.state.lock().accept_paused_until()).min();
        let drained = self.draining.iter().filter_map(|p| p.state.lock().drain_deadline()).min();
        let soonest = match (resume, drained) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|until| until.saturating_duration_since(now));
        match (timeout, soonest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Take out the draining processes whose deadline has passed, or that are done
    /// draining (their socket closed); the others stay.
    pub(crate) fn take_drains_over(&mut self) -> Vec<ProcRef> {
        if self.draining.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        self.draining
            .extract_if(.., |process| {
                let state = process.state.lock();
                let waiting = state.link.is_draining() && state.drain_deadline().is_some_and(|at| at > now);
                !waiting
            })
            .collect()
    }

    /// Take out the paused servers whose pause is over; the others stay.
    pub(crate) fn take_pauses_over(&mut self) -> Vec<ProcRef> {
        if self.paused_servers.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        self.paused_servers
            .extract_if(.., |server| {
                let paused = server.state.lock().accept_paused_until().is_some_and(|until| until > now);
                !paused
            })
            .collect()
    }

    /// Let go of every process (the context is being freed), for the caller to drop
    /// outside the locks.
    pub(crate) fn take_all(&mut self) -> (Vec<ProcRef>, Vec<ProcRef>, ConnectTimes) {
        self.connect_times.clear();
        (
            std::mem::take(&mut self.draining),
            std::mem::take(&mut self.paused_servers),
            std::mem::take(&mut self.connects),
        )
    }
}
