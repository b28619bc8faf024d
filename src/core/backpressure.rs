//! The high-water mark of a process's queued output (netproc's `:high-water` and `:drain`,
//! after Node's writable streams): a send tells its caller when the queue has passed the
//! mark, and the drain function runs once when the queue falls back below half of it.
//! Pure: the queue's length comes in, decisions go out; process.rs keeps one per process
//! that asked (most never do, and pay nothing), ops.rs and reactor.rs feed it.

use super::value::Value;

/// The mark when a process asks for a drain function without `:high-water`: Node's
/// default for writable streams.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// Whether a process's queued output is above its high-water mark after a send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaterLevel {
    /// At or below the mark, or the process has no mark.
    Below,
    /// Above the mark: the caller should wait for the drain function before sending more.
    Above,
}

/// One process's mark, whether its queue has passed it since the last drain, and the
/// function to call when it drains.
#[derive(Debug)]
pub(crate) struct Watermark {
    mark: usize,
    above: bool,
    drain: Value,
}

impl Watermark {
    /// A mark of `mark` bytes (at least 1) with `drain` to call (nil: none).
    pub(crate) fn new(mark: usize, drain: Value) -> Watermark {
        Watermark { mark: mark.max(1), above: false, drain }
    }

    pub(crate) fn drain(&self) -> &Value {
        &self.drain
    }

    pub(crate) fn set_mark(&mut self, mark: usize) {
        self.mark = mark.max(1);
    }

    pub(crate) fn set_drain(&mut self, drain: Value) {
        self.drain = drain;
    }

    /// A send left `queued` bytes waiting: whether that is above the mark (from then on a
    /// drain is due once the queue falls below half of it).
    pub(crate) fn after_send(&mut self, queued: usize) -> WaterLevel {
        if queued > self.mark {
            self.above = true;
            WaterLevel::Above
        } else {
            WaterLevel::Below
        }
    }

    /// Writing left `queued` bytes waiting: true once per excursion above the mark, when
    /// the queue is back below half of it (the drain function runs then).
    pub(crate) fn after_write(&mut self, queued: usize) -> bool {
        if self.above && queued.saturating_mul(2) < self.mark {
            self.above = false;
            return true;
        }
        false
    }
}

/// The mark a `:high-water` value asks for: a positive integer.
pub(crate) fn mark_of(value: &Value) -> Option<usize> {
    match value {
        Value::Int(bytes) if *bytes > 0 => usize::try_from(*bytes).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_drain_per_excursion_above_the_mark() {
        let mut water = Watermark::new(100, Value::Nil);
        assert_eq!(water.after_send(100), WaterLevel::Below);
        assert!(!water.after_write(0), "never above: no drain");
        assert_eq!(water.after_send(101), WaterLevel::Above);
        assert!(!water.after_write(60), "above half the mark still");
        assert!(!water.after_write(50), "half is not below half");
        assert!(water.after_write(49));
        assert!(!water.after_write(0), "once");
        assert_eq!(water.after_send(500), WaterLevel::Above);
        assert_eq!(water.after_send(400), WaterLevel::Above);
        assert!(water.after_write(10));
    }

    #[test]
    fn marks_are_positive_integers() {
        assert_eq!(mark_of(&Value::Int(65536)), Some(65536));
        assert_eq!(mark_of(&Value::Int(0)), None);
        assert_eq!(mark_of(&Value::Int(-5)), None);
        assert_eq!(mark_of(&Value::T), None);
        let mut smallest = Watermark::new(0, Value::Nil);
        assert_eq!(smallest.mark, 1);
        assert_eq!(smallest.after_send(2), WaterLevel::Above);
        assert!(!smallest.after_write(1));
        assert!(smallest.after_write(0), "an empty queue is below half of any mark");
    }
}
