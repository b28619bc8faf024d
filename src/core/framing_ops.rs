//! `:framing` and `:framing-max` as keywords: read when a process is made, inherited by a
//! server's connections, and changed by `set-network-process-option` (framing.rs does the
//! cutting, delivery.rs the delivering).

use super::context::Core;
use super::error::{Error, Result};
use super::framing::{Framer, Framing};
use super::inbox::Arrival;
use super::process::{ProcRef, State};
use super::socket::SocketKind;
use super::value::{Plist, Value};

/// Whether `key` is one of the framing keywords, which `set-network-process-option` takes
/// besides the socket options.
pub(crate) fn is_framing_option(key: &str) -> bool {
    matches!(key, ":framing" | ":framing-max")
}

/// The framer `:framing` and `:framing-max` of a `make-network-process` call ask for, if
/// any. Both values are checked even when the other is absent. Datagrams are messages
/// already: `:framing` on one is an error.
pub(crate) fn framer_from_contact(contact: &Plist, kind: SocketKind) -> Result<Option<Framer>> {
    let max = Framing::max_from_value(&contact.get_or_nil(":framing-max"))?;
    let Some(framing) = Framing::from_value(&contact.get_or_nil(":framing"))? else { return Ok(None) };
    if kind == SocketKind::Datagram {
        return Err(not_for_datagrams());
    }
    Ok(Some(Framer::new(framing, max)))
}

/// A server's framing, fresh, for a connection it accepts.
pub(crate) fn inherit(server: &State) -> Option<Framer> {
    server.framer().map(|framer| Framer::new(framer.framing(), framer.max()))
}

fn not_for_datagrams() -> Error {
    // Worded as Emacs words ‘:server’ against ‘:nowait’.
    Error::msg("‘:framing’ is incompatible with ‘:type datagram’")
}

impl Core {
    /// `set-network-process-option` with `:framing` or `:framing-max`. The new framing
    /// applies from the first byte not yet delivered: what the old framer held goes
    /// through the new one (or, with `:framing nil`, reaches the filter as read), and what
    /// a decoder held when framing starts reaches the filter first, as when the coding
    /// system changes.
    pub(crate) fn set_framing_option(
        &mut self,
        process: &ProcRef,
        state: &mut State,
        option: &str,
        value: &Value,
    ) -> Result<()> {
        if option == ":framing-max" {
            let max = Framing::max_from_value(value)?;
            if let Some(framer) = state.framer_mut() {
                framer.set_max(max);
                self.announce_message(process, state);
            }
            return Ok(());
        }
        let Some(framing) = Framing::from_value(value)? else {
            let rest = state.set_framer(None).map(|mut old| old.take_rest()).unwrap_or_default();
            if !rest.is_empty() {
                self.inbox().record_ahead(process, state, Arrival::Data { bytes: rest, sender: None });
            }
            return Ok(());
        };
        if state.kind() == SocketKind::Datagram {
            return Err(not_for_datagrams());
        }
        let max = Framing::max_from_value(&state.contact.get_or_nil(":framing-max"))?;
        let old = state.set_framer(Some(Framer::new(framing, max)));
        match old {
            Some(mut old) => {
                let rest = old.take_rest();
                if let Some(framer) = state.framer_mut() {
                    framer.push(&rest);
                }
            }
            None => {
                if let Some(held) = state.coding.finish() {
                    self.inbox().record_first(process, state, held);
                }
            }
        }
        self.announce_message(process, state);
        Ok(())
    }

    /// Queue the delivery of the framer's next message if it is whole already (after a
    /// change of framing, the bytes it was given may hold some).
    fn announce_message(&mut self, process: &ProcRef, state: &mut State) {
        if state.framer_mut().is_some_and(|framer| framer.ready()) {
            self.inbox().record_ahead(process, state, Arrival::Framed);
        }
    }
}
