//! The pure-Rust core: Emacs's network-process model with no C types in sight.
//! The boundary layers (`ffi`, and the Emacs module) call it and implement [`Host`].

pub mod address;
pub mod coding;
pub mod error;
pub mod event;
pub mod interfaces;
pub mod process;
pub mod resolve;
pub mod socket;
pub mod value;

mod attempts;
mod backpressure;
mod budget;
mod buffers;
mod coding_ops;
mod connect;
mod contact;
mod context;
mod datagrams;
mod deadlines;
mod delivery;
pub mod descriptors;
mod framing;
mod framing_ops;
mod handshakes;
mod inbox;
mod link;
#[cfg(all(test, not(loom)))]
mod lookup_tests;
mod lookups;
mod make;
mod name;
mod ops;
mod peer_status;
mod poller;
mod pool;
mod process_coding;
mod queue;
mod reactor;
mod round;
mod server;
mod short_text;
mod starttls;
mod status;
pub(crate) mod sync;
mod table;
mod tls;
mod tls_connect;
mod tls_io;

pub use backpressure::{WaterLevel, DEFAULT_HIGH_WATER};
pub use budget::Budget;
pub use context::{
    Host, Settings, Shared, DEFAULT_CONNECT_ATTEMPT_DELAY, DEFAULT_DRAIN_TIMEOUT, DEFAULT_SEND_QUEUE_MAX,
};
pub use error::{Error, Result};
pub use framing::DEFAULT_FRAMING_MAX;
#[cfg(feature = "emacs-module")]
pub(crate) use make::reads_keyword;
pub use ops::ContactQuery;
pub use peer_status::{tls_available, tls_warning_description, TlsState};
pub use process::{ProcRef, Process};
pub use short_text::{HostText, ShortText};
pub use status::{ExitStatus, ProcessStatus};
pub use value::{FunctionRole, HostObject, HostRef, Plist, Value};
