//! Processes waiting for a time: sockets draining toward their close, and servers paused
//! after a failed accept. The times themselves are kept in each process's `State`
//! (`drain_deadline`, `accept_paused_until`); this keeps the list of processes to look at,
//! so that the reactor knows how long it may sleep and whose time has come.

use std::time::{Duration, Instant};

use super::process::ProcRef;

#[derive(Default)]
pub(crate) struct Deadlines {
    /// Processes closed with output still queued, until it is written or their deadline.
    draining: Vec<ProcRef>,
    /// Servers whose accepting is paused after a failure.
    paused_servers: Vec<ProcRef>,
}

impl Deadlines {
    /// A socket started draining (its deadline is set).
    pub(crate) fn add_draining(&mut self, process: &ProcRef) {
        self.draining.push(process.clone());
    }

    /// A server paused accepting (its resume time is set).
    pub(crate) fn add_paused_server(&mut self, server: &ProcRef) {
        self.paused_servers.push(server.clone());
    }

    /// `timeout` (None: no limit) shortened so that a wait ends when the soonest thing here
    /// is due: a paused server resumes, and a draining socket closes, on time.
    pub(crate) fn bound(&self, timeout: Option<Duration>) -> Option<Duration> {
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
    pub(crate) fn take_all(&mut self) -> (Vec<ProcRef>, Vec<ProcRef>) {
        (std::mem::take(&mut self.draining), std::mem::take(&mut self.paused_servers))
    }
}
