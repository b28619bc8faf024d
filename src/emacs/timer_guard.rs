//! Holding callbacks back for the few milliseconds before an Emacs timer is due, when a
//! garbage collection is near (issue 14, item 5).
//!
//! A filter that receives at full speed makes strings as fast as the network brings
//! bytes, so Emacs's collections (one per `gc-cons-threshold` of allocation, several
//! milliseconds each) follow one another. One that starts just before a timer is due
//! delays the timer by its whole length. Emacs's own loop runs due timers before it reads
//! process output, so a slice that delivers nothing in those milliseconds lets the timer
//! run first; the collection then comes right after it, with the whole period ahead.
//! netproc.el's `netproc--gc-guard` says when a timer is due and how much may still be
//! allocated before the next collection; this holds the slice back accordingly.

use std::time::{Duration, Instant};

use super::env::Env;
use super::symbols::{Sym, Symbols};

/// Bytes a callback may allocate besides its data (the string's header, the filter's own
/// allocations): the hold starts this far ahead of the estimated collection.
const MARGIN: f64 = 256.0 * 1024.0;

/// The longest a dispatch sleeps for a timer: netproc.el's guard never reaches further.
const LONGEST_HOLD: Duration = Duration::from_millis(10);

/// When this slice must hold its callbacks back.
pub(crate) struct TimerGuard {
    /// The hold window: from a few milliseconds before the timer is due until it is.
    from: Instant,
    due: Instant,
    /// Bytes that may still be allocated before the next collection, when asked.
    room: f64,
}

impl TimerGuard {
    /// Ask netproc.el, at a slice's start. None: no timer is due soon (or netproc.el could
    /// not say, which only costs the timer its punctuality).
    pub(crate) fn ask(env: &Env, symbols: &Symbols) -> Option<TimerGuard> {
        // Before the call: a collection during it makes the window start early, never late.
        let asked = Instant::now();
        let answer = env.funcall(symbols.get(Sym::GcGuard), &[]).ok()?;
        if !env.is_not_nil(answer) {
            return None;
        }
        let number = |index| env.vec_get(answer, index).and_then(|value| env.extract_float(value)).ok();
        let (from, due, room) = (number(0)?, number(1)?, number(2)?);
        let at = |seconds: f64| {
            let offset = Duration::try_from_secs_f64(seconds.abs()).unwrap_or(Duration::ZERO);
            if seconds >= 0.0 {
                asked + offset.min(LONGEST_HOLD)
            } else {
                asked.checked_sub(offset).unwrap_or(asked)
            }
        };
        Some(TimerGuard { from: at(from), due: at(due), room })
    }

    /// Whether a callback started now must wait for the timer, `allocated` bytes having
    /// been handed to callbacks since the guard was asked: in the window when a
    /// collection is near, and in any case once the timer is due (the slice ends there, so
    /// that Emacs runs the timer before more is allocated; the next slice, asked after
    /// the due time, holds nothing back for it, should Emacs not run it).
    pub(crate) fn holds(&self, allocated: usize) -> bool {
        let now = Instant::now();
        now >= self.due || (now >= self.from && allocated as f64 + MARGIN >= self.room)
    }

    /// Wait until the timer is due, so that Emacs runs it as soon as the dispatch
    /// returns. Sleeping costs Emacs nothing a collection would not have cost it, and
    /// returning at once instead would bring Emacs straight back here, busily, and
    /// allocating a little each time, towards the very collection being kept away.
    pub(crate) fn wait_until_due(&self) {
        let left = self.due.saturating_duration_since(Instant::now());
        std::thread::sleep(left.min(LONGEST_HOLD));
    }
}
