//! TLS handshakes in flight: when each must be done by, and for a connection a TLS server
//! accepted, its opening, which the host hears of only once the handshake is done (so that
//! a client that never finishes one costs the host nothing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::inbox::Accepted;
use super::process::ProcRef;

struct InFlight {
    process: ProcRef,
    deadline: Instant,
    opening: Option<Box<Accepted>>,
}

#[derive(Default)]
pub(crate) struct Handshakes {
    in_flight: Vec<InFlight>,
}

impl Handshakes {
    /// A handshake started; `opening` is an accepted connection's, held until it is done.
    pub(crate) fn add(&mut self, process: &ProcRef, deadline: Instant, opening: Option<Box<Accepted>>) {
        self.in_flight.push(InFlight { process: process.clone(), deadline, opening });
    }

    /// The handshake ended (done or failed): forget it. Returns the held opening, if any.
    pub(crate) fn finish(&mut self, process: &ProcRef) -> Option<Box<Accepted>> {
        let index = self.in_flight.iter().position(|entry| Arc::ptr_eq(&entry.process, process))?;
        self.in_flight.swap_remove(index).opening
    }

    /// `timeout` shortened so that a wait ends when the soonest handshake is due.
    pub(crate) fn bound(&self, timeout: Option<Duration>) -> Option<Duration> {
        let Some(soonest) = self.in_flight.iter().map(|entry| entry.deadline).min() else { return timeout };
        let left = soonest.saturating_duration_since(Instant::now());
        Some(timeout.map_or(left, |timeout| timeout.min(left)))
    }

    /// The processes whose handshake is past its deadline (they stay listed here until
    /// `finish`).
    pub(crate) fn overdue(&self) -> Vec<ProcRef> {
        let now = Instant::now();
        self.in_flight
            .iter()
            .filter(|entry| entry.deadline <= now)
            .map(|entry| entry.process.clone())
            .collect()
    }

    /// Let go of everything (the context is being freed), for the caller to drop outside
    /// the locks.
    pub(crate) fn take_all(&mut self) -> Vec<(ProcRef, Option<Box<Accepted>>)> {
        std::mem::take(&mut self.in_flight).into_iter().map(|entry| (entry.process, entry.opening)).collect()
    }
}
