//! A process's name, stored once with a NUL byte after it (for C): the process and the
//! context's name table share one allocation, and the table is searched with a `&[u8]`.

use std::sync::Arc;

/// A process name followed by a NUL byte (for C), shared by the process and the context's
/// name table so that each name is stored once.
#[derive(Clone)]
pub(crate) struct Name(Arc<[u8]>);

impl Name {
    /// `name` with its NUL byte.
    pub(crate) fn new(name: &[u8]) -> Name {
        // One allocation: the iterator's exact length lets Arc size it up front.
        Name(name.iter().copied().chain(std::iter::once(0)).collect())
    }

    /// The name without its NUL.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0[..self.0.len() - 1]
    }

    /// The name followed by its NUL byte, for C.
    pub(crate) fn with_nul(&self) -> &[u8] {
        &self.0
    }
}

// Hash and equality are those of the bytes, so the table can be searched with a `&[u8]`.
impl std::borrow::Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for Name {}
