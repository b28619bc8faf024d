//! The C boundary.
pub mod version;
