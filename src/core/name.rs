//! A process's name, stored once with a NUL byte after it (for C): the process and the
//! context's name table share one allocation. The name's hash is computed once, when it is
//! made, with keys chosen at random per run (SipHash, as std's HashMap), and the name table
//! uses it as is: an accepted connection's name was hashed three times (is it free, list,
//! unlist), about 7% of W3's user-space instructions per connection.

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, OnceLock};

/// A process name followed by a NUL byte (for C), shared by the process and the context's
/// name table so that each name is stored once. The allocation starts with the name's
/// 32-bit hash: in the heap block, where it costs no more than the block's rounding, not in
/// the process object, whose size is budgeted (process.rs, an_idle_process_stays_small).
#[derive(Clone)]
pub(crate) struct Name(Arc<[u8]>);

/// Bytes of the stored hash before the name.
const HASH: usize = 4;

/// The random keys every name is hashed with, chosen once per run.
fn keys() -> &'static std::collections::hash_map::RandomState {
    static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    KEYS.get_or_init(std::collections::hash_map::RandomState::new)
}

impl Name {
    /// `name` with its NUL byte.
    pub(crate) fn new(name: &[u8]) -> Name {
        Name::joined(&[name])
    }

    /// The name made of `pieces` one after the other, with its NUL byte: an accepted
    /// connection's name is its server's, a space and its client id, written straight
    /// into the name's allocation.
    pub(crate) fn joined(pieces: &[&[u8]]) -> Name {
        let length: usize = pieces.iter().map(|piece| piece.len()).sum();
        // One allocation, filled piece by piece (the hash place at zero for now).
        let mut bytes = Arc::<[u8]>::new_uninit_slice(HASH + length + 1);
        let slots = Arc::get_mut(&mut bytes).unwrap_or_else(|| unreachable!("a new Arc is unique"));
        let contents = [&[0; HASH][..]].into_iter().chain(pieces.iter().copied()).chain([&[0][..]]);
        let mut at = 0;
        for piece in contents {
            let place = &mut slots[at..at + piece.len()];
            // SAFETY: `place` is exactly as long as `piece`, the two cannot overlap (one is
            // a new allocation), and MaybeUninit<u8> has u8's layout: this is
            // MaybeUninit::write_copy_of_slice, which is newer than netproc's MSRV.
            unsafe {
                std::ptr::copy_nonoverlapping(piece.as_ptr(), place.as_mut_ptr().cast::<u8>(), piece.len())
            };
            at += piece.len();
        }
        // SAFETY: the hash place, the pieces and the NUL cover the slice exactly, so every
        // slot was written.
        let mut bytes = unsafe { bytes.assume_init() };
        let whole = Arc::get_mut(&mut bytes).unwrap_or_else(|| unreachable!("a new Arc is unique"));
        let (hash, name) = whole.split_at_mut(HASH);
        // Hashed whole, once written: equal names have equal hashes however they were
        // made, and one pass over contiguous bytes costs half of one per piece. The low
        // half of a keyed SipHash is as hard to aim at as the whole.
        let mut hasher = keys().build_hasher();
        hasher.write(&name[..length]);
        hash.copy_from_slice(&(hasher.finish() as u32).to_ne_bytes());
        Name(bytes)
    }

    /// The name without its NUL.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0[HASH..self.0.len() - 1]
    }

    /// The name followed by its NUL byte, for C.
    pub(crate) fn with_nul(&self) -> &[u8] {
        &self.0[HASH..]
    }

    fn stored_hash(&self) -> u32 {
        let mut hash = [0; HASH];
        hash.copy_from_slice(&self.0[..HASH]);
        u32::from_ne_bytes(hash)
    }
}

// The name table hashes a name by its stored hash; equality is that of the bytes.
impl std::hash::Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u32(self.stored_hash());
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.0 == other.0
    }
}

impl Eq for Name {}

/// The process table's hasher, for keys that are one integer needing no keyed hash: a
/// [`Name`] writes the hash it stores, a serial (counted up by netproc, never chosen by a
/// peer) writes itself.
#[derive(Default)]
pub(crate) struct StoredHash(u64);

impl Hasher for StoredHash {
    fn finish(&self) -> u64 {
        self.0
    }

    /// Spread over 64 bits: the table picks buckets with the low bits and tags them with
    /// the high ones.
    fn write_u32(&mut self, hash: u32) {
        self.write_u64(u64::from(hash));
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    /// Only names and serials are hashed here; anything else is still hashed, if poorly
    /// (FNV-1a).
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The process table's [`BuildHasher`].
pub(crate) type ByStoredHash = std::hash::BuildHasherDefault<StoredHash>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_are_found_by_their_bytes_alone() {
        let mut table: HashMap<Name, u64, ByStoredHash> = HashMap::default();
        for n in 0..1000u64 {
            table.insert(Name::new(format!("server <127.0.0.1:{n}>").as_bytes()), n);
        }
        for n in 0..1000u64 {
            let name = Name::new(format!("server <127.0.0.1:{n}>").as_bytes());
            assert_eq!(table.get(&name), Some(&n));
            assert_eq!(name.with_nul().last(), Some(&0));
            assert_eq!(name.bytes(), format!("server <127.0.0.1:{n}>").as_bytes());
        }
        assert_eq!(table.get(&Name::new(b"server <127.0.0.1:1000>")), None);
        let joined = Name::joined(&[b"server", b" ", b"<127.0.0.1:7>"]);
        assert_eq!(table.get(&joined), Some(&7));
        assert_eq!(joined.with_nul(), b"server <127.0.0.1:7>\0");
        assert!(Name::joined(&[b"ab", b"c"]) == Name::joined(&[b"a", b"bc"]));
        assert_eq!(Name::new(b"").with_nul(), b"\0");
    }
}
