//! The context's process table: `process-list`, the names in it, and the counters that
//! number processes and accepted connections.
//!
//! A process's `State` says whether it is listed (`is_listed`); only this table changes
//! that flag, in the same call that changes the list and the names, so the three never
//! disagree.

use std::collections::HashMap;

use super::name::{ByStoredHash, Name};
use super::process::{ProcRef, State};

pub(crate) struct ProcessTable {
    /// `process-list`, by serial (sorted when it is asked for: a BTreeMap cost an ordered
    /// insert and remove per accepted connection, 7% of W3's instructions).
    listed: HashMap<u64, ProcRef, ByStoredHash>,
    /// The name of each listed process, to its serial.
    names: HashMap<Name, u64, ByStoredHash>,
    /// The serial the next process gets.
    next_serial: u64,
    /// Session-wide count of accepted connections, for `<N>` client ids.
    accept_count: u64,
}

impl Default for ProcessTable {
    fn default() -> ProcessTable {
        ProcessTable {
            listed: HashMap::default(),
            names: HashMap::default(),
            next_serial: 1,
            accept_count: 0,
        }
    }
}

impl ProcessTable {
    /// A fresh process serial number.
    pub(crate) fn next_serial(&mut self) -> u64 {
        let serial = self.next_serial;
        self.next_serial += 1;
        serial
    }

    /// Count one more accepted connection; its number, for a client id without an address.
    pub(crate) fn count_accept(&mut self) -> u64 {
        self.accept_count += 1;
        self.accept_count
    }

    /// NAME, or NAME<1>, NAME<2>, … : the first that no listed process has.
    pub(crate) fn unique_name(&self, base: &[&[u8]]) -> Name {
        let name = Name::joined(base);
        if !self.names.contains_key(&name) {
            return name;
        }
        (1u64..)
            .map(|n| {
                let suffix = format!("<{n}>");
                let numbered: Vec<&[u8]> = base.iter().copied().chain([suffix.as_bytes()]).collect();
                Name::joined(&numbered)
            })
            .find(|name| !self.names.contains_key(name))
            .unwrap_or_else(|| Name::new(b""))
    }

    /// Put a process into `process-list`.
    pub(crate) fn list(&mut self, process: &ProcRef, state: &mut State) {
        state.set_listed(true);
        self.names.insert(process.shared_name(), process.serial);
        self.listed.insert(process.serial, process.clone());
    }

    /// Take a process out of `process-list` (its name is free again), handing back the
    /// list's reference; None when it was not listed.
    pub(crate) fn unlist(&mut self, process: &ProcRef, state: &mut State) -> Option<ProcRef> {
        if !state.is_listed() {
            return None;
        }
        state.set_listed(false);
        self.names.remove(process.name_key());
        self.listed.remove(&process.serial)
    }

    /// `process-list`: every listed process, newest first.
    pub(crate) fn newest_first(&self) -> Vec<ProcRef> {
        let mut processes: Vec<ProcRef> = self.listed.values().cloned().collect();
        processes.sort_unstable_by_key(|process| std::cmp::Reverse(process.serial));
        processes
    }

    /// `get-process`: the listed process called `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Option<ProcRef> {
        self.names.get(&Name::new(name)).and_then(|serial| self.listed.get(serial)).cloned()
    }
}
