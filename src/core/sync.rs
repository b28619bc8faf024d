//! The synchronisation types of the cross-thread protocols (the resolver pool in
//! `resolve.rs`, the Emacs watcher's handshake in `emacs/channel.rs`): std and parking_lot
//! normally, loom's models when built with `RUSTFLAGS="--cfg loom"`, so that the
//! `loom_tests` modules check every interleaving of the real code (`make test` runs them).
//!
//! The API is parking_lot's: `lock()` returns the guard, `Condvar::wait(&mut guard)` and
//! `Condvar::wait_for(&mut guard, timeout)`.

#[cfg(not(loom))]
pub(crate) use parking_lot::{Condvar, Mutex};
#[cfg(not(loom))]
pub(crate) use std::{sync::atomic::AtomicBool, sync::Arc, thread};

#[cfg(loom)]
pub(crate) use loom::{sync::atomic::AtomicBool, sync::Arc, thread};
#[cfg(loom)]
pub(crate) use model::{Condvar, Mutex};

#[cfg(loom)]
mod model {
    use std::ops::{Deref, DerefMut};

    /// loom's mutex; a panic while locked fails the test anyway, so poisoning is ignored.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// Always holds the lock, except inside `Condvar::wait`.
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard held")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard held")
        }
    }

    /// loom's condition variable.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }

        /// Release the lock, sleep until notified, take the lock again.
        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let held = guard.0.take().expect("guard held");
            guard.0 = Some(self.0.wait(held).unwrap_or_else(|poisoned| poisoned.into_inner()));
        }

        /// As `wait`: loom does not model time, so a timed wait is a wait that a
        /// notification ends (every waiter with a timeout is also notified at shutdown).
        pub(crate) fn wait_for<T>(&self, guard: &mut MutexGuard<'_, T>, _timeout: std::time::Duration) {
            self.wait(guard);
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}
