//! TLS handshakes in flight: when each must be done by, and for a connection a TLS server
//! accepted, its opening, which the host hears of only once the handshake is done (so that
//! a client that never finishes one costs the host nothing).
//!
//! A TLS server under a storm of connections may have thousands of handshakes in flight:
//! finding one is a map lookup, and the reactor's per-turn questions (how long may it
//! sleep, which are overdue) look only at the soonest deadlines, in a heap whose entries
//! for handshakes already finished are dropped when they reach the top.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use super::inbox::Accepted;
use super::process::ProcRef;

struct InFlight {
    process: ProcRef,
    deadline: Instant,
    opening: Option<Accepted>,
}

#[derive(Default)]
pub(crate) struct Handshakes {
    /// By process serial.
    in_flight: HashMap<u64, InFlight>,
    /// (deadline, serial), soonest first; may name handshakes already finished.
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Handshakes {
    /// A handshake started; `opening` is an accepted connection's, held until it is done.
    pub(crate) fn add(&mut self, process: &ProcRef, deadline: Instant, opening: Option<Accepted>) {
        self.in_flight.insert(process.serial, InFlight { process: process.clone(), deadline, opening });
        self.deadlines.push(Reverse((deadline, process.serial)));
    }

    /// The handshake ended (done or failed): forget it. Returns the held opening, if any.
    pub(crate) fn finish(&mut self, process: &ProcRef) -> Option<Accepted> {
        let entry = self.in_flight.remove(&process.serial)?;
        self.drop_finished_tops();
        entry.opening
    }

    /// Drop heap entries of handshakes no longer in flight from the top, so that the top
    /// is the soonest real deadline.
    fn drop_finished_tops(&mut self) {
        while let Some(Reverse((deadline, serial))) = self.deadlines.peek() {
            match self.in_flight.get(serial) {
                Some(entry) if entry.deadline == *deadline => break,
                _ => {
                    self.deadlines.pop();
                }
            }
        }
        if self.in_flight.is_empty() {
            self.deadlines.clear();
        }
    }

    /// Whether no handshake has a deadline to watch.
    pub(crate) fn is_empty(&self) -> bool {
        self.deadlines.is_empty()
    }

    /// `timeout` shortened so that a wait ends when the soonest handshake is due.
    pub(crate) fn bound(&self, timeout: Option<Duration>) -> Option<Duration> {
        // The top may be a finished handshake's (dropped lazily): waking early is harmless.
        let Some(Reverse((soonest, _))) = self.deadlines.peek() else { return timeout };
        let left = soonest.saturating_duration_since(Instant::now());
        Some(timeout.map_or(left, |timeout| timeout.min(left)))
    }

    /// The processes whose handshake is past its deadline. They stay in flight until
    /// `finish`.
    pub(crate) fn overdue(&mut self) -> Vec<ProcRef> {
        if self.deadlines.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        let mut overdue = Vec::new();
        while let Some(Reverse((deadline, serial))) = self.deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if let Some(entry) = self.in_flight.get(&serial) {
                if entry.deadline == deadline {
                    overdue.push(entry.process.clone());
                }
            }
        }
        overdue
    }

    /// Let go of everything (the context is being freed), for the caller to drop outside
    /// the locks.
    pub(crate) fn take_all(&mut self) -> Vec<(ProcRef, Option<Accepted>)> {
        self.deadlines.clear();
        std::mem::take(&mut self.in_flight)
            .into_values()
            .map(|entry| (entry.process, entry.opening))
            .collect()
    }
}
