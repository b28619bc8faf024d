//! The send queue: bytes a send accepted but the socket has not taken yet. Kept in order,
//! flushed as the socket drains, and counted when a connection dies with bytes still in it.

use std::collections::VecDeque;
use std::io;

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

impl SendQueue {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// How many bytes are waiting.
    pub fn len(&self) -> usize {
        self.queued
    }

    /// Append bytes after everything already queued.
    pub fn push(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.queued += data.len();
        self.pending.get_or_insert_with(Box::default).chunks.push_back(data.to_vec());
    }

    /// Write as much as `write` takes, front first. Stops at WouldBlock (not an error);
    /// returns the first other error, leaving the unwritten bytes queued.
    pub fn flush(&mut self, mut write: impl FnMut(&[u8]) -> io::Result<usize>) -> io::Result<()> {
        let Some(queue) = self.pending.as_deref_mut() else { return Ok(()) };
        while let Some(front) = queue.chunks.front() {
            let unwritten = &front[queue.front_offset..];
            match write(unwritten) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => {
                    self.queued -= written;
                    if written == unwritten.len() {
                        queue.chunks.pop_front();
                        queue.front_offset = 0;
                    } else {
                        queue.front_offset += written;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
        Ok(())
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

    #[test]
    fn flush_keeps_order_across_partial_writes() {
        let mut queue = SendQueue::default();
        queue.push(b"hello ");
        queue.push(b"world");
        let mut sink = Vec::new();
        let mut budget = 4;
        queue
            .flush(|bytes| {
                if budget == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                let n = bytes.len().min(budget);
                budget -= n;
                sink.extend_from_slice(&bytes[..n]);
                Ok(n)
            })
            .unwrap();
        assert_eq!(sink, b"hell");
        assert_eq!(queue.len(), 7);
        queue
            .flush(|bytes| {
                sink.extend_from_slice(bytes);
                Ok(bytes.len())
            })
            .unwrap();
        assert_eq!(sink, b"hello world");
        assert!(queue.is_empty());
    }
}
