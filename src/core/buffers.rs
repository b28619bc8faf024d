//! Read buffers that travel with the data. A well-filled read hands its whole buffer to the
//! filter event instead of copying it, and the buffer comes back after dispatch.
//!
//! Why reuse rather than allocate per read: a freed 64 KiB block at the top of the heap is
//! trimmed back to the kernel and faulted in again on the next read. Profiling W1 (1 GiB in
//! 64 KiB reads) showed ~87,000 minor faults per GiB from that alone, and a copy per read.

use std::io;

use socket2::Socket;

/// Spare buffers kept for reuse: a turn's read budget (1 MiB) in 64 KiB reads.
const MAX_SPARE: usize = 16;

/// A read that fills less than this fraction of its buffer is copied out, so a small message
/// never pins a large buffer while it waits for dispatch.
const HAND_OVER_FRACTION: usize = 4;

/// Reads per turn handed over in their whole buffer however little they filled it: the
/// first few need no copy (a ping-pong's every message, W2), and the rest cannot pin more
/// than this many large buffers beyond the turn's byte budget.
const WHOLE_SHORT_READS_PER_TURN: usize = 4;

/// A small read is copied into a buffer of this size, from a pool of its own: a message
/// costs no allocation in a steady ping-pong (issue 15, examples/alloc_pingpong.rs).
const SMALL_BUFFER: usize = 4096;

/// Spare small buffers kept: a turn's worth of small messages waiting for dispatch.
const MAX_SMALL_SPARE: usize = 64;

/// The context's spare read buffers.
#[derive(Default)]
pub(crate) struct BufferPool {
    spare: Vec<Vec<u8>>,
    small: Vec<Vec<u8>>,
    /// The list a dispatch gathers its spent buffers in, kept between dispatches.
    spent: Vec<Vec<u8>>,
    /// Short reads handed over whole this turn (see WHOLE_SHORT_READS_PER_TURN).
    whole_short_reads: usize,
}

impl BufferPool {
    /// An empty buffer with room for at least `size` bytes.
    pub(crate) fn take(&mut self, size: usize) -> Vec<u8> {
        match self.spare.pop() {
            Some(buffer) if buffer.capacity() >= size => buffer,
            _ => Vec::with_capacity(size),
        }
    }

    /// Keep `buffer` for a later read, if it is big enough and there is room.
    pub(crate) fn give_back(&mut self, mut buffer: Vec<u8>, size: usize) {
        if buffer.capacity() >= size && self.spare.len() < MAX_SPARE {
            buffer.clear();
            self.spare.push(buffer);
        } else if buffer.capacity() == SMALL_BUFFER && self.small.len() < MAX_SMALL_SPARE {
            buffer.clear();
            self.small.push(buffer);
        }
    }

    /// An empty list for a dispatch's spent buffers (see `return_spent`).
    pub(crate) fn spent_list(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.spent)
    }

    /// Take back the buffers of a dispatch, and its list.
    pub(crate) fn return_spent(&mut self, mut spent: Vec<Vec<u8>>, size: usize) {
        for buffer in spent.drain(..) {
            self.give_back(buffer, size);
        }
        if spent.capacity() <= MAX_SPARE + MAX_SMALL_SPARE {
            self.spent = spent;
        }
    }

    /// A new turn: it may hand over a few short reads whole again.
    pub(crate) fn start_turn(&mut self) {
        self.whole_short_reads = 0;
    }

    /// The bytes of `buffer` for an event: the buffer itself when it is well filled or
    /// among the turn's first few short reads, otherwise an exact copy, and the buffer
    /// goes back to the pool.
    pub(crate) fn hand_over(&mut self, buffer: Vec<u8>, size: usize) -> Vec<u8> {
        if buffer.len() >= size / HAND_OVER_FRACTION {
            return buffer;
        }
        if self.whole_short_reads < WHOLE_SHORT_READS_PER_TURN {
            self.whole_short_reads += 1;
            return buffer;
        }
        let copy = if size > SMALL_BUFFER { self.copy_out(&buffer) } else { buffer.as_slice().to_vec() };
        self.give_back(buffer, size);
        copy
    }

    /// `bytes` in a buffer of their own for an event: a small one from the pool when they
    /// fit (a datagram, a short read), else an exact copy.
    pub(crate) fn copy_out(&mut self, bytes: &[u8]) -> Vec<u8> {
        if bytes.len() > SMALL_BUFFER {
            return bytes.to_vec();
        }
        let mut small = self.small.pop().unwrap_or_else(|| Vec::with_capacity(SMALL_BUFFER));
        small.extend_from_slice(bytes);
        small
    }

    /// Whether a spent event buffer may be worth returning (an exact copy of a small read
    /// is not); `give_back` makes the final call against the current read size.
    pub(crate) fn may_return(buffer: &Vec<u8>) -> bool {
        buffer.capacity() >= MIN_POOLED
    }
}

/// No buffer smaller than this is pooled.
const MIN_POOLED: usize = 4096;

/// Receive up to `max` bytes into the empty `buffer`, which has room for them.
pub(crate) fn recv_into(socket: &Socket, buffer: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    debug_assert!(buffer.is_empty() && buffer.capacity() >= max);
    let n = socket.recv(&mut buffer.spare_capacity_mut()[..max])?;
    // SAFETY: recv initialised the first n bytes of the spare capacity.
    unsafe { buffer.set_len(n) };
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_filled_buffers_are_handed_over_small_reads_are_copied() {
        let mut pool = BufferPool::default();
        let mut big = pool.take(1024);
        big.extend_from_slice(&[7; 512]);
        let pointer = big.as_ptr();
        let handed = pool.hand_over(big, 1024);
        assert_eq!(handed.as_ptr(), pointer, "a half-full buffer travels as is");

        // A turn's first few short reads travel in their buffer too, uncopied.
        for _ in 0..WHOLE_SHORT_READS_PER_TURN {
            let mut short = pool.take(1024);
            short.extend_from_slice(b"ping");
            let pointer = short.as_ptr();
            let handed = pool.hand_over(short, 1024);
            assert_eq!((handed.as_ptr(), handed.capacity()), (pointer, 1024));
            pool.give_back(handed, 1024);
        }
        // The rest are copied, so that they cannot pin large buffers.
        let mut small = pool.take(1024);
        small.extend_from_slice(b"ping");
        let copied = pool.hand_over(small, 1024);
        assert_eq!(copied, b"ping");
        assert_eq!(copied.capacity(), 4, "a read size at or below the small buffers' is copied exactly");
        assert_eq!(pool.spare.len(), 1, "the big buffer went back to the pool");

        // With 64 KiB reads, a small message (past the turn's first few) travels in a
        // pooled 4 KiB buffer, which comes back for the next one.
        let mut read = pool.take(65536);
        read.extend_from_slice(b"pong");
        let message = pool.hand_over(read, 65536);
        assert_eq!((message.as_slice(), message.capacity()), (&b"pong"[..], SMALL_BUFFER));
        let pointer = message.as_ptr();
        assert!(BufferPool::may_return(&message));
        pool.give_back(message, 65536);
        let mut read = pool.take(65536);
        read.extend_from_slice(b"ping");
        let again = pool.hand_over(read, 65536);
        assert_eq!(again.as_ptr(), pointer, "the small buffer is reused");

        // The next turn hands over whole again.
        pool.start_turn();
        let mut read = pool.take(65536);
        read.extend_from_slice(b"ping");
        assert_eq!(pool.hand_over(read, 65536).capacity(), 65536);
    }

    #[test]
    fn the_pool_is_bounded_and_drops_buffers_too_small_for_the_read_size() {
        let mut pool = BufferPool::default();
        for _ in 0..MAX_SPARE + 3 {
            pool.give_back(Vec::with_capacity(64), 64);
        }
        assert_eq!(pool.spare.len(), MAX_SPARE);
        assert!(pool.take(128).capacity() >= 128, "a buffer smaller than asked is not reused");
        pool.give_back(Vec::with_capacity(16), 64);
        assert_eq!(pool.spare.len(), MAX_SPARE - 1);
    }
}
