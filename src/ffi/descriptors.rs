//! Where netproc's descriptors go: a floor for hosts that watch their own descriptors with
//! select(2) and so need the numbers below FD_SETSIZE for themselves. Needs no context.

use super::guard::guard;
use super::status::netproc_status::{self, *};
use crate::core::descriptors;

/// Keep every socket netproc makes or accepts from now on at or above `floor` (for a host
/// whose own loop uses select(2), FD_SETSIZE: 1024), moving it there when the kernel gives
/// a lower number; 0 (or less) removes the floor. Best effort: when the open-file limit is
/// below the floor, or nothing above it is free, a socket stays where it is. Raise the
/// limit first (setrlimit RLIMIT_NOFILE) for room above the floor. It is process-wide: it
/// applies to every context, as the descriptor range is the process's. The Emacs module sets
/// 1024 when it loads.
///
/// Ownership: n/a.
/// Lifetime:  until changed.
/// Thread:    any.
/// Since:     0.2
#[unsafe(no_mangle)]
pub extern "C" fn netproc_set_descriptor_floor(floor: i32) -> netproc_status {
    guard(NETPROC_E_PANIC, || {
        descriptors::set_descriptor_floor(floor);
        NETPROC_OK
    })
}

/// The floor set by netproc_set_descriptor_floor() (0: none).
///
/// Ownership: n/a.
/// Lifetime:  n/a.
/// Thread:    any.
/// Since:     0.2
#[unsafe(no_mangle)]
pub extern "C" fn netproc_descriptor_floor() -> i32 {
    descriptors::descriptor_floor()
}
