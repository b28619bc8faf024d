//! Process handles for C: a process-wide table of slots, each with a generation count.
//!
//! A `netproc_process *` is not an address. It encodes a slot index and that slot's
//! generation; a call looks the handle up and compares generations, so a stale handle (its
//! process gone, the slot reused) or a forged one (any integer) is refused with
//! NETPROC_E_BAD_HANDLE without netproc reading memory it points at. The generation moves
//! on each time a slot is freed; a slot whose generation would wrap is retired instead, so
//! no handle can ever name two processes.
//!
//! A slot holds a weak reference to its process, and a strong one while the host holds
//! references (`host_refs`, counted by netproc_process_ref/_free), so the process object
//! lives while the core or the host needs it. A process has one slot for its whole life:
//! the handle a callback gets equals the one make, process-list and get-process give, as
//! hosts use handles as keys. The process remembers its handle (`Process::boundary_handle`),
//! so a callback finds it without a search.
//!
//! Slots are freed when their process is found gone: by a lookup, or by a sweep that runs
//! when the table would otherwise grow past twice the slots last seen in use, so the table
//! stays within a constant factor of the processes alive.
//!
//! Locking: the table lock is held only for the bookkeeping here, never while host code runs
//! and never while a process reference is dropped (the drop may run a userdata destructor):
//! references leave the lock as return values.

use std::sync::Weak;

use parking_lot::Mutex;

use crate::core::{ProcRef, Process};

/// Bits of a handle that hold the slot index (plus one, so that no handle is NULL); the
/// rest hold the generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// The largest generation a handle can carry.
const MAX_GENERATION: usize = usize::MAX >> INDEX_BITS;
/// Mixed into the generation bits, so that small integers and typical addresses do not
/// decode to the generations in use (which count up from 0).
const GENERATION_SALT: usize = 0x9e37_79b9_7f4a_7c15_u64 as usize & MAX_GENERATION;
/// The table is swept before it grows past this many slots, whatever it held before.
const MIN_SWEEP: usize = 64;

struct Slot {
    generation: usize,
    /// The process, or None while the slot is free.
    process: Option<Weak<Process>>,
    /// A strong reference, held while `host_refs > 0`.
    held: Option<ProcRef>,
    host_refs: usize,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Sweep for dead processes before the table grows past this many slots.
    sweep_at: usize,
}

static TABLE: Mutex<Table> = Mutex::new(Table { slots: Vec::new(), free: Vec::new(), sweep_at: MIN_SWEEP });

/// Why a handle was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not a handle to a live process (stale or forged).
    NotLive,
    /// A live process, but the host holds no reference to release.
    NotHeld,
    /// The table has no room for another slot.
    Full,
}

fn encode(index: usize, generation: usize) -> usize {
    ((generation ^ GENERATION_SALT) << INDEX_BITS) | (index + 1)
}

fn decode(handle: usize) -> Option<(usize, usize)> {
    let index_plus_one = handle & INDEX_MASK;
    let index = index_plus_one.checked_sub(1)?;
    Some((index, (handle >> INDEX_BITS) ^ GENERATION_SALT))
}

impl Table {
    /// The occupied slot `handle` names, if its generation matches.
    fn slot(&mut self, handle: usize) -> Option<(usize, &mut Slot)> {
        let (index, generation) = decode(handle)?;
        let slot = self.slots.get_mut(index)?;
        (slot.generation == generation && slot.process.is_some()).then_some((index, slot))
    }

    /// The live process `handle` names; a slot found dead is freed on the way.
    fn process(&mut self, handle: usize) -> Result<(usize, ProcRef), Refused> {
        let (index, slot) = self.slot(handle).ok_or(Refused::NotLive)?;
        if let Some(held) = &slot.held {
            return Ok((index, held.clone()));
        }
        match slot.process.as_ref().and_then(Weak::upgrade) {
            Some(process) => Ok((index, process)),
            None => {
                self.release(index);
                Err(Refused::NotLive)
            }
        }
    }

    /// Free a slot: its generation moves on, so every handle to it goes stale.
    fn release(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.process = None;
        debug_assert!(slot.held.is_none() && slot.host_refs == 0);
        if slot.generation < MAX_GENERATION {
            slot.generation += 1;
            self.free.push(index);
        }
        // Otherwise the slot is retired: reusing it would make an old handle valid again.
    }

    /// Free every slot whose process is gone and that the host does not hold.
    fn sweep(&mut self) {
        let dead: Vec<usize> = (0..self.slots.len())
            .filter(|&index| {
                let slot = &self.slots[index];
                slot.host_refs == 0 && slot.process.as_ref().is_some_and(|weak| weak.strong_count() == 0)
            })
            .collect();
        for index in dead {
            self.release(index);
        }
        let in_use = self.slots.iter().filter(|slot| slot.process.is_some()).count();
        self.sweep_at = (2 * in_use).max(MIN_SWEEP);
    }

    fn allocate(&mut self, process: &ProcRef) -> Result<usize, Refused> {
        if self.free.is_empty() && self.slots.len() >= self.sweep_at {
            self.sweep();
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                if self.slots.len() >= INDEX_MASK {
                    return Err(Refused::Full);
                }
                self.slots.push(Slot { generation: 0, process: None, held: None, host_refs: 0 });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.process = Some(std::sync::Arc::downgrade(process));
        Ok(encode(index, slot.generation))
    }
}

/// The handle of `process`, made on first use. 0 only when the table is full.
pub(crate) fn handle_of(process: &ProcRef) -> usize {
    let known = process.boundary_handle();
    if known != 0 {
        return known;
    }
    crate::core::process::release_handles_with(forget);
    let mut table = TABLE.lock();
    let Ok(made) = table.allocate(process) else { return 0 };
    let handle = process.set_boundary_handle(made);
    if handle != made {
        // Another thread gave the process its handle first: ours goes back.
        if let Some((index, _)) = table.slot(made) {
            table.release(index);
        }
    }
    handle
}

/// The process of `handle` is being dropped (`Process`'s Drop): free its slot now. The
/// slot's weak reference goes under the lock, which is safe: while the process is being
/// dropped its allocation has a weak count of its own, so this is never the last.
fn forget(handle: usize) {
    let mut table = TABLE.lock();
    if let Some((index, slot)) = table.slot(handle) {
        // A slot the host holds keeps a strong reference: its process is not dropping.
        if slot.held.is_none() {
            table.release(index);
        }
    }
}

/// The process `handle` names, as a new reference (for the call's duration).
pub(crate) fn lookup(handle: usize) -> Result<ProcRef, Refused> {
    TABLE.lock().process(handle).map(|(_, process)| process)
}

/// Give the host a reference to `process`: its handle, now counted as held once more.
pub(crate) fn hold(process: ProcRef) -> Result<usize, Refused> {
    let handle = handle_of(&process);
    if handle == 0 {
        return Err(Refused::Full);
    }
    let mut table = TABLE.lock();
    let (_, slot) = table.slot(handle).ok_or(Refused::NotLive)?;
    slot.host_refs += 1;
    if slot.held.is_none() {
        slot.held = Some(process);
    }
    Ok(handle)
}

/// netproc_process_ref: one more host reference through an existing handle.
pub(crate) fn add_reference(handle: usize) -> Result<(), Refused> {
    let mut table = TABLE.lock();
    let (index, process) = table.process(handle)?;
    let slot = &mut table.slots[index];
    slot.host_refs += 1;
    if slot.held.is_none() {
        slot.held = Some(process);
        return Ok(());
    }
    // `process` was a clone of `held`, so dropping it here cannot be the last reference.
    drop(process);
    Ok(())
}

/// netproc_process_free: one host reference less. When it was the last, the table's strong
/// reference comes back for the caller to drop outside the lock.
pub(crate) fn release_reference(handle: usize) -> Result<Option<ProcRef>, Refused> {
    let mut table = TABLE.lock();
    let (index, slot) = match table.slot(handle) {
        Some(found) => found,
        None => return Err(Refused::NotLive),
    };
    if slot.host_refs == 0 {
        // Not held: a live process makes this an extra free, a dead one a stale handle.
        let live = slot.process.as_ref().is_some_and(|weak| weak.strong_count() > 0);
        if !live {
            table.release(index);
            return Err(Refused::NotLive);
        }
        return Err(Refused::NotHeld);
    }
    slot.host_refs -= 1;
    Ok(if slot.host_refs == 0 { slot.held.take() } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Shared;

    fn process(context: &std::sync::Arc<Shared>, name: &str) -> ProcRef {
        let args = vec![
            (crate::core::Value::symbol(":name"), crate::core::Value::string(name)),
            (crate::core::Value::symbol(":server"), crate::core::Value::T),
            (crate::core::Value::symbol(":service"), crate::core::Value::T),
        ];
        struct NoHost;
        impl crate::core::Host for NoHost {
            fn filter(&mut self, _: &ProcRef, _: &crate::core::Value, _: &[u8]) {}
            fn sentinel(
                &mut self,
                _: &ProcRef,
                _: &crate::core::Value,
                _: &crate::core::event::SentinelEvent,
            ) {
            }
            fn log(
                &mut self,
                _: &ProcRef,
                _: &crate::core::Value,
                _: Option<&ProcRef>,
                _: &crate::core::event::LogEvent,
            ) {
            }
            fn buffer_name(&mut self, _: &crate::core::Value) -> Option<Vec<u8>> {
                None
            }
            fn get_buffer_create(&mut self, _: &[u8]) -> crate::core::Value {
                crate::core::Value::Nil
            }
        }
        let made = context.make_network_process(args, &mut NoHost).expect("a server").expect("a process");
        context.delete_process(&made, &mut NoHost).expect("deleted");
        let _ = context.poll(Some(std::time::Duration::ZERO), &mut NoHost);
        made
    }

    #[test]
    fn handles_encode_and_decode() {
        for (index, generation) in [(0, 0), (5, 1), (INDEX_MASK - 1, MAX_GENERATION)] {
            let handle = encode(index, generation);
            assert_ne!(handle, 0);
            assert_eq!(decode(handle), Some((index, generation)));
        }
        assert_eq!(decode(0), None);
        assert_eq!(decode(1 << INDEX_BITS), None);
    }

    /// Handles made and dropped over and over reuse slots: the table stays small, each new
    /// process gets a handle no earlier one had, and every earlier handle stays refused.
    #[test]
    fn slots_are_reused_with_new_generations() {
        let context = Shared::new().expect("a context");
        let mut seen = std::collections::HashSet::new();
        let mut stale = Vec::new();
        for round in 0..2000 {
            let made = process(&context, "p");
            let handle = hold(made).expect("held");
            assert!(seen.insert(handle), "handle {handle:#x} given out twice");
            assert!(lookup(handle).is_ok());
            let last = release_reference(handle).expect("released").expect("last reference");
            drop(last);
            assert_eq!(lookup(handle).err(), Some(Refused::NotLive));
            if round % 100 == 0 {
                stale.push(handle);
            }
        }
        for handle in stale {
            assert_eq!(lookup(handle).err(), Some(Refused::NotLive));
            assert_eq!(release_reference(handle).err(), Some(Refused::NotLive));
        }
        // Other tests share the table, so only a loose bound holds for its size.
        assert!(TABLE.lock().slots.len() < 1000, "the table grew to {}", TABLE.lock().slots.len());
    }

    /// Borrowed handles (no host reference) of processes that died are swept, not kept.
    #[test]
    fn dead_borrowed_slots_are_swept() {
        let context = Shared::new().expect("a context");
        for _ in 0..5000 {
            let made = process(&context, "b");
            let handle = handle_of(&made);
            assert_ne!(handle, 0);
            drop(made);
        }
        assert!(TABLE.lock().slots.len() < 2000, "the table grew to {}", TABLE.lock().slots.len());
    }

    #[test]
    fn a_slot_at_the_last_generation_is_retired() {
        let context = Shared::new().expect("a context");
        let made = process(&context, "r");
        let handle = handle_of(&made);
        let (index, _) = decode(handle).expect("a handle");
        {
            let mut table = TABLE.lock();
            table.slots[index].generation = MAX_GENERATION;
        }
        drop(made);
        let stale = encode(index, MAX_GENERATION);
        assert_eq!(lookup(stale).err(), Some(Refused::NotLive));
        let table = TABLE.lock();
        assert!(!table.free.contains(&index));
        assert!(table.slots[index].process.is_none());
    }
}
