//! Holding callbacks back for the few milliseconds before an Emacs timer is due, when a
//! garbage collection is near (issue 14, item 5).
//!
//! A filter that receives at full speed makes strings as fast as the network brings
//! bytes, so Emacs's collections (one per `gc-cons-threshold` of allocation, several
//! milliseconds each) follow one another. One that starts just before a timer is due
//! delays the timer by its whole length. Emacs's own loop runs due timers before it reads
//! process output, so a slice that delivers nothing in those milliseconds, and waits for
//! the timer, lets the timer run first; the collection then comes right after it, with the
//! whole period ahead. netproc.el's `netproc--gc-guard` says when a timer is due and how
//! much may still be allocated before the next collection; this holds the slice back
//! accordingly.
//!
//! Delivery always makes progress: a slice that follows one held back for a timer is not
//! held back (a timer whose period is shorter than the guard would otherwise hold
//! delivery off for good), and netproc.el answers for a timer only until shortly after
//! its due time, should Emacs not run it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::env::Env;
use super::symbols::{Sym, Symbols};

/// Bytes a callback may allocate besides its data (the string's header, the filter's own
/// allocations): the hold starts this far ahead of the estimated collection.
const MARGIN: f64 = 256.0 * 1024.0;

/// The longest a dispatch sleeps for a timer, whatever netproc.el says: a bound for
/// safety only (its guard ends 8 ms before a timer at most).
const LONGEST_SLEEP: Duration = Duration::from_millis(20);

/// What the guard remembers between slices (kept in the module's state).
#[derive(Default)]
pub(crate) struct GuardRecord {
    /// The last slice was held back for a timer: the next one is not.
    held: AtomicBool,
    /// netproc.el's guard failed once (a signal): asked no more, so that a broken guard
    /// costs neither a signal per slice nor a debugger entered per slice.
    broken: AtomicBool,
}

/// When this slice must hold its callbacks back.
pub(crate) struct TimerGuard {
    /// The guard window's start: a few milliseconds before the timer is due.
    from: Instant,
    /// When the timer is due.
    due: Instant,
    /// Bytes that may still be allocated before the next collection, when asked; None:
    /// not known, and not held back for.
    room: Option<f64>,
}

impl TimerGuard {
    /// Ask netproc.el, at a slice's start. None: no timer is due soon, the slice before
    /// was held back already, or netproc.el could not say (which only costs the timer its
    /// punctuality).
    pub(crate) fn ask(env: &Env, symbols: &Symbols, record: &GuardRecord) -> Option<TimerGuard> {
        if record.held.swap(false, Ordering::Relaxed) || record.broken.load(Ordering::Relaxed) {
            return None;
        }
        let Ok(answer) = env.funcall(symbols.get(Sym::GcGuard), &[]) else {
            record.broken.store(true, Ordering::Relaxed);
            return None;
        };
        if !env.is_not_nil(answer) {
            return None;
        }
        let item = |index| env.vec_get(answer, index).ok();
        let number = |value| env.extract_float(value).ok().filter(|n: &f64| n.is_finite());
        let (from, due) = (number(item(0)?)?, number(item(1)?)?);
        let room = item(2).filter(|&value| env.is_not_nil(value)).and_then(number);
        // Both clocks read after the call, so that a collection during it shifts nothing.
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
        let now = Instant::now();
        let at = |time: f64| {
            let offset = Duration::try_from_secs_f64((time - wall).abs()).ok()?;
            if time >= wall {
                now.checked_add(offset)
            } else {
                Some(now.checked_sub(offset).unwrap_or(now))
            }
        };
        Some(TimerGuard { from: at(from)?, due: at(due)?, room })
    }

    /// Whether a callback started now must wait for the timer, `allocated` bytes having
    /// been handed to callbacks since the guard was asked: in the window when a
    /// collection is near, and in any case once the timer is due (the slice ends there, so
    /// that Emacs runs the timer before more is allocated).
    pub(crate) fn holds(&self, allocated: usize) -> bool {
        let now = Instant::now();
        let collection_near = self.room.is_some_and(|room| allocated as f64 + MARGIN >= room);
        now >= self.due || (now >= self.from && collection_near)
    }

    /// The slice was held back: wait until the timer is due, so that Emacs runs it as
    /// soon as the dispatch returns, and let the next slice deliver whatever the timers
    /// say. Sleeping costs Emacs nothing a collection would not have cost it; returning at
    /// once instead would bring Emacs straight back here, busily, and allocating a little
    /// each time, towards the very collection being kept away.
    pub(crate) fn wait_until_due(&self, record: &GuardRecord) {
        record.held.store(true, Ordering::Relaxed);
        let left = self.due.saturating_duration_since(Instant::now());
        std::thread::sleep(left.min(LONGEST_SLEEP));
    }
}
