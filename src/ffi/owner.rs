//! Which thread owns a context, and how a call proves it runs there.
//!
//! A context belongs to the thread that created it until netproc_context_set_owner_thread()
//! hands it to another. Calls from any other thread are refused at once with
//! NETPROC_E_WRONG_THREAD: before this, a second thread blocked on the core lock for as long
//! as the owner waited in epoll (netproc_poll holds it there), and its callbacks would have
//! run on the wrong thread.
//!
//! The hand-over must never happen while the owner is inside a call. Each owner call counts
//! itself in `active` before it checks the owner, and the hand-over first parks the owner
//! field at HANDING_OVER, then checks `active`. Both use sequentially consistent operations,
//! so either the hand-over sees the call and gives up, or the call sees that the owner field
//! changed (it waits out the few instructions HANDING_OVER lasts, then refuses).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

/// The owner field while a hand-over is deciding; no thread has this id.
const HANDING_OVER: u64 = 0;
/// The id of a thread whose thread-locals are already gone (it is exiting); owns nothing.
const EXITING: u64 = u64::MAX;

/// A number for the calling thread, unique for the life of the process.
pub(crate) fn current_thread() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ID: Cell<u64> = const { Cell::new(HANDING_OVER) };
    }
    ID.try_with(|id| {
        if id.get() == HANDING_OVER {
            id.set(NEXT.fetch_add(1, SeqCst));
        }
        id.get()
    })
    .unwrap_or(EXITING)
}

/// Why the hand-over was refused.
pub(crate) enum HandOver {
    /// The owning thread is inside a netproc call on this context.
    OwnerBusy,
    /// Another thread is taking the context over at this moment.
    Contended,
}

/// The owner of one context.
pub(crate) struct Owner {
    thread: AtomicU64,
    /// Owner calls in progress (nested ones from callbacks included).
    active: AtomicUsize,
}

impl Default for Owner {
    /// Owned by the calling thread (the one creating the context).
    fn default() -> Owner {
        Owner { thread: AtomicU64::new(current_thread()), active: AtomicUsize::new(0) }
    }
}

impl Owner {
    /// Start a call: true if the calling thread owns the context, and then the call counts
    /// as active until [`Owner::leave`].
    pub(crate) fn enter(&self) -> bool {
        let me = current_thread();
        self.active.fetch_add(1, SeqCst);
        loop {
            match self.thread.load(SeqCst) {
                owner if owner == me => return true,
                // A hand-over is deciding, in a few instructions, whether this call came in
                // time; it cannot block meanwhile.
                HANDING_OVER => std::thread::yield_now(),
                _ => {
                    self.active.fetch_sub(1, SeqCst);
                    return false;
                }
            }
        }
    }

    /// End a call that [`Owner::enter`] admitted.
    pub(crate) fn leave(&self) {
        self.active.fetch_sub(1, SeqCst);
    }

    /// Make the calling thread the owner, unless the owner is inside a call.
    pub(crate) fn take_over(&self) -> Result<(), HandOver> {
        let me = current_thread();
        let previous = self.thread.load(SeqCst);
        if previous == me {
            return Ok(());
        }
        if previous == HANDING_OVER
            || self.thread.compare_exchange(previous, HANDING_OVER, SeqCst, SeqCst).is_err()
        {
            return Err(HandOver::Contended);
        }
        if self.active.load(SeqCst) > 0 {
            self.thread.store(previous, SeqCst);
            return Err(HandOver::OwnerBusy);
        }
        self.thread.store(me, SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_enters_and_a_busy_owner_keeps_it() {
        let owner = std::sync::Arc::new(Owner::default());
        assert!(owner.enter());
        let other = owner.clone();
        let refused = std::thread::spawn(move || {
            (other.enter(), matches!(other.take_over(), Err(HandOver::OwnerBusy)))
        })
        .join()
        .expect("thread");
        assert_eq!(refused, (false, true));
        owner.leave();
        let other = owner.clone();
        let taken =
            std::thread::spawn(move || other.take_over().is_ok() && other.enter()).join().expect("thread");
        assert!(taken);
        assert!(!owner.enter());
    }

    #[test]
    fn thread_ids_differ() {
        let here = current_thread();
        let there = std::thread::spawn(current_thread).join().expect("thread");
        assert_ne!(here, there);
        assert_eq!(here, current_thread());
    }
}
