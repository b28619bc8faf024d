//! The `:nowait` name lookups in flight: the resolver, and the process waiting for each
//! answer.
//!
//! A lookup's ticket is its process's serial. The process is kept here from the moment its
//! lookup is pending until the answer is taken or the lookup is cancelled, so an answer
//! finds its process and a cancelled lookup leaves nothing behind.

use std::collections::HashMap;

use super::address::Address;
use super::error::Result;
use super::process::ProcRef;
use super::resolve::{Cancel, Lookup, Resolver};

pub(crate) struct Lookups {
    resolver: Resolver,
    /// The process waiting for each pending lookup, by ticket.
    waiting: HashMap<u64, ProcRef>,
}

impl Lookups {
    /// No lookup in flight yet; `resolver` will run them.
    pub(crate) fn new(resolver: Resolver) -> Lookups {
        Lookups { resolver, waiting: HashMap::new() }
    }

    /// Start looking up `query` under `ticket`, before its process exists (a resolver that
    /// cannot start a thread fails the call with nothing made); `wait_for` names the
    /// process afterwards.
    pub(crate) fn submit(&mut self, ticket: u64, query: Lookup) -> Result<Cancel> {
        self.resolver.submit(ticket, query)
    }

    /// `process` waits for the answer to the lookup `ticket`.
    pub(crate) fn wait_for(&mut self, ticket: u64, process: &ProcRef) {
        self.waiting.insert(ticket, process.clone());
    }

    /// Abandon the lookup `ticket`: no answer will come, and its process is let go.
    pub(crate) fn cancel(&mut self, ticket: u64) {
        self.resolver.cancel(ticket);
        self.waiting.remove(&ticket);
        if self.waiting.is_empty() {
            // No answer comes for a cancelled lookup, but one may have come just before:
            // drop it now, since `take_answers` looks only while someone waits.
            drop(self.resolver.take_answers());
        }
    }

    /// Every answer that has arrived, with the process that waited for it.
    pub(crate) fn take_answers(&mut self) -> Vec<(ProcRef, Result<Vec<Address>>)> {
        // With no lookup in flight, no answer matters (see `cancel`).
        if self.waiting.is_empty() {
            return Vec::new();
        }
        self.resolver
            .take_answers()
            .into_iter()
            .filter_map(|answer| Some((self.waiting.remove(&answer.ticket)?, answer.result)))
            .collect()
    }

    /// Whether answers are waiting to be taken.
    #[inline]
    pub(crate) fn has_answers(&self) -> bool {
        !self.waiting.is_empty() && self.resolver.has_answers()
    }

    /// Let go of every waiting process (the context is being freed), for the caller to
    /// drop outside the locks.
    pub(crate) fn take_waiting(&mut self) -> HashMap<u64, ProcRef> {
        std::mem::take(&mut self.waiting)
    }

    /// Whether no process waits for a lookup.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The resolver, for tests that put a fake lookup into a real context.
    #[cfg(test)]
    pub(crate) fn resolver_mut(&mut self) -> &mut Resolver {
        &mut self.resolver
    }
}
