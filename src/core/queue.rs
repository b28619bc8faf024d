//! The send queue: bytes a send accepted but the socket has not taken yet. Kept in order,
//! flushed as the socket drains, bounded, and counted when a connection dies with bytes
//! still in it.
//!
//! Stream sends are coalesced into chunks of up to [`CHUNK`] bytes, so a million one-byte
//! sends cost about a megabyte, not a million allocations. Datagrams (queued only while a
//! `:nowait` client waits for its address) keep one chunk each: each is one sendto.

use std::collections::VecDeque;
use std::io;

/// Stream sends smaller than this are appended to the last chunk while it has room.
const CHUNK: usize = 64 * 1024;

/// Bytes waiting to be written, in order. The chunks live out of line, made by the first
/// send that has to wait, so a connection that never queues stays small.
#[derive(Debug, Default)]
pub struct SendQueue {
    pending: Option<Box<Pending>>,
    queued: usize,
}

#[derive(Debug, Default)]
struct Pending {
    chunks: VecDeque<Vec<u8>>,
    /// How much of the front chunk was already written.
    front_offset: usize,
}

/// Why a send could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum QueueError {
    /// The bytes would take the queue past its limit.
    Full { queued: usize, limit: usize },
    /// Memory for them could not be had.
    NoMemory,
}

/// How far a flush got.
#[derive(Debug, PartialEq, Eq)]
pub enum Flushed {
    /// Everything was written.
    All,
    /// The socket took no more (WouldBlock): wait for it to drain.
    Blocked,
    /// The budget ran out with the socket still taking bytes: go on next turn.
    Budget,
}

impl SendQueue {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// How many bytes are waiting.
    pub fn len(&self) -> usize {
        self.queued
    }

    /// Append stream bytes after everything already queued, unless that would take the
    /// queue past `limit` bytes or memory cannot be had; then nothing is queued.
    pub fn push(&mut self, data: &[u8], limit: usize) -> Result<(), QueueError> {
        self.push_with(data, limit, true)
    }

    /// Append one datagram, kept as a chunk of its own.
    pub fn push_datagram(&mut self, data: &[u8], limit: usize) -> Result<(), QueueError> {
        self.push_with(data, limit, false)
    }

    fn push_with(&mut self, data: &[u8], limit: usize, coalesce: bool) -> Result<(), QueueError> {
        if data.is_empty() {
            return Ok(());
        }
        let total = self.queued.checked_add(data.len()).filter(|total| *total <= limit);
        let Some(total) = total else { return Err(QueueError::Full { queued: self.queued, limit }) };
        let pending = self.pending.get_or_insert_with(Box::default);
        let back = pending.chunks.back_mut().filter(|back| coalesce && back.len() + data.len() <= CHUNK);
        match back {
            Some(back) => {
                back.try_reserve(data.len()).map_err(|_| QueueError::NoMemory)?;
                back.extend_from_slice(data);
            }
            None => {
                pending.chunks.try_reserve(1).map_err(|_| QueueError::NoMemory)?;
                let mut chunk = Vec::new();
                chunk.try_reserve_exact(data.len()).map_err(|_| QueueError::NoMemory)?;
                chunk.extend_from_slice(data);
                pending.chunks.push_back(chunk);
            }
        }
        self.queued = total;
        Ok(())
    }

    /// Write as much as `write` takes, front first, but no more than `budget` bytes.
    /// Returns the first error other than WouldBlock, leaving the unwritten bytes queued.
    pub fn flush(
        &mut self,
        budget: usize,
        mut write: impl FnMut(&[u8]) -> io::Result<usize>,
    ) -> io::Result<Flushed> {
        let Some(queue) = self.pending.as_deref_mut() else { return Ok(Flushed::All) };
        let mut left = budget;
        while let Some(front) = queue.chunks.front() {
            if left == 0 {
                return Ok(Flushed::Budget);
            }
            let unwritten = &front[queue.front_offset..];
            let unwritten = &unwritten[..unwritten.len().min(left)];
            match write(unwritten) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => {
                    self.queued -= written;
                    left -= written;
                    queue.front_offset += written;
                    if queue.front_offset == front.len() {
                        queue.chunks.pop_front();
                        queue.front_offset = 0;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
        // The chunks' memory goes back once all is written: a connection that queued a
        // burst once does not keep its high-water mark.
        self.pending = None;
        Ok(Flushed::All)
    }

    /// Each queued chunk whole, front first (datagrams), then empty.
    pub fn drain_chunks(&mut self) -> impl Iterator<Item = Vec<u8>> {
        let chunks = self.pending.take().map(|pending| pending.chunks).unwrap_or_default();
        self.queued = 0;
        chunks.into_iter()
    }

    /// Drop everything, returning how many bytes were discarded.
    pub fn discard(&mut self) -> usize {
        let lost = self.queued;
        self.pending = None;
        self.queued = 0;
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMIT: usize = usize::MAX;

    fn take_all(queue: &mut SendQueue, sink: &mut Vec<u8>) -> Flushed {
        queue
            .flush(usize::MAX, |bytes| {
                sink.extend_from_slice(bytes);
                Ok(bytes.len())
            })
            .unwrap()
    }

    #[test]
    fn flush_keeps_order_across_partial_writes() {
        let mut queue = SendQueue::default();
        queue.push(b"hello ", NO_LIMIT).unwrap();
        queue.push(b"world", NO_LIMIT).unwrap();
        let mut sink = Vec::new();
        let mut room = 4;
        let outcome = queue
            .flush(usize::MAX, |bytes| {
                if room == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                let n = bytes.len().min(room);
                room -= n;
                sink.extend_from_slice(&bytes[..n]);
                Ok(n)
            })
            .unwrap();
        assert_eq!(outcome, Flushed::Blocked);
        assert_eq!(sink, b"hell");
        assert_eq!(queue.len(), 7);
        assert_eq!(take_all(&mut queue, &mut sink), Flushed::All);
        assert_eq!(sink, b"hello world");
        assert!(queue.is_empty());
    }

    #[test]
    fn a_send_past_the_limit_is_refused_whole() {
        let mut queue = SendQueue::default();
        queue.push(&[1; 60], 100).unwrap();
        assert_eq!(queue.push(&[2; 41], 100), Err(QueueError::Full { queued: 60, limit: 100 }));
        assert_eq!(queue.len(), 60, "nothing of the refused send was queued");
        queue.push(&[3; 40], 100).unwrap();
        assert_eq!(queue.len(), 100);
    }

    #[test]
    fn tiny_sends_are_coalesced() {
        let mut queue = SendQueue::default();
        for byte in 0..100_000u32 {
            queue.push(&[byte as u8], NO_LIMIT).unwrap();
        }
        let chunks = queue.pending.as_ref().unwrap().chunks.len();
        assert_eq!(chunks, 100_000usize.div_ceil(CHUNK), "one allocation per chunk, not per send");
        let mut sink = Vec::new();
        take_all(&mut queue, &mut sink);
        assert!(sink.iter().enumerate().all(|(index, byte)| *byte == index as u8));
    }

    #[test]
    fn datagrams_stay_whole() {
        let mut queue = SendQueue::default();
        queue.push_datagram(b"one", NO_LIMIT).unwrap();
        queue.push_datagram(b"two", NO_LIMIT).unwrap();
        let chunks: Vec<Vec<u8>> = queue.drain_chunks().collect();
        assert_eq!(chunks, vec![b"one".to_vec(), b"two".to_vec()]);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_flush_stops_at_its_budget() {
        let mut queue = SendQueue::default();
        queue.push(&[7; 1000], NO_LIMIT).unwrap();
        let mut sink = Vec::new();
        let outcome = queue
            .flush(300, |bytes| {
                sink.extend_from_slice(bytes);
                Ok(bytes.len())
            })
            .unwrap();
        assert_eq!(outcome, Flushed::Budget);
        assert_eq!(sink.len(), 300);
        assert_eq!(queue.len(), 700);
    }
}
