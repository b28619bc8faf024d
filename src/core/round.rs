//! The reactor's round-robin: the processes waiting to be served, and what the turn under
//! way may still read and write.
//!
//! A process is in the queue exactly while its `Link` says it is on the ready list, so it
//! is queued once however often readiness is reported. The budgets are set at the start of
//! each turn (reactor.rs says how much) and spent by its reads and writes.

use std::collections::VecDeque;

use super::process::{ProcRef, State};

#[derive(Default)]
pub(crate) struct Round {
    /// Processes that may have input (or accepts, or deferred output) waiting, in the
    /// order they are to be served.
    ready: VecDeque<ProcRef>,
    /// Stream bytes the current turn may still read.
    reads_left: usize,
    /// Queued bytes the current turn may still write.
    writes_left: usize,
}

impl Round {
    /// Queue a process to be served, unless it is queued already.
    #[inline]
    pub(crate) fn mark_ready(&mut self, process: &ProcRef, state: &mut State) {
        if state.link.enter_ready_list() {
            self.ready.push_back(process.clone());
        }
    }

    /// Whether any process waits to be served.
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// How many processes wait to be served: one round's worth.
    pub(crate) fn ready_count(&self) -> usize {
        self.ready.len()
    }

    /// The next process to serve; the caller takes it off the ready list
    /// (`Link::leave_ready_list`) under its state lock.
    #[inline]
    pub(crate) fn next_ready(&mut self) -> Option<ProcRef> {
        self.ready.pop_front()
    }

    /// Empty the queue (the context is being freed), for the caller to drop outside the
    /// locks.
    pub(crate) fn take_ready(&mut self) -> VecDeque<ProcRef> {
        std::mem::take(&mut self.ready)
    }

    /// A turn's reads start with `bytes` to spend.
    pub(crate) fn allow_reads(&mut self, bytes: usize) {
        self.reads_left = bytes;
    }

    /// Stream bytes this turn may still read.
    #[inline]
    pub(crate) fn reads_left(&self) -> usize {
        self.reads_left
    }

    /// `bytes` were read.
    #[inline]
    pub(crate) fn spend_reads(&mut self, bytes: usize) {
        self.reads_left = self.reads_left.saturating_sub(bytes);
    }

    /// A turn's writes start with `bytes` to spend.
    pub(crate) fn allow_writes(&mut self, bytes: usize) {
        self.writes_left = bytes;
    }

    /// Queued bytes this turn may still write.
    #[inline]
    pub(crate) fn writes_left(&self) -> usize {
        self.writes_left
    }

    /// `bytes` were written.
    #[inline]
    pub(crate) fn spend_writes(&mut self, bytes: usize) {
        self.writes_left = self.writes_left.saturating_sub(bytes);
    }
}
