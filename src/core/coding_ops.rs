//! The coding primitives: `process-coding-system`, `set-process-coding-system`,
//! `process-filter-multibyte-p`, `set-process-filter-multibyte`, and the context default.

use super::context::{Core, Shared};
use super::error::Result;
use super::process::{ProcRef, Process};
use super::process_coding::{system_from_value, Decoded};
use super::value::Value;

impl Process {
    /// `process-coding-system`: `(DECODING . ENCODING)`.
    pub fn coding_system(&self) -> Value {
        self.state.lock().coding.pair()
    }

    /// `process-filter-multibyte-p`. Inside a filter: whether that call's data is multibyte
    /// text. Otherwise: whether decoding produces multibyte text now (nil without a socket,
    /// as in Emacs).
    pub fn filter_multibyte_p(&self) -> bool {
        self.state.lock().filter_multibyte_p()
    }
}

impl Shared {
    /// `set-process-coding-system`. Both systems are checked first; bytes the old decoder
    /// still held reach the filter (as raw bytes) before anything decoded the new way.
    pub fn set_coding_system(&self, process: &ProcRef, decoding: &Value, encoding: &Value) -> Result<()> {
        let decoding = system_from_value(decoding)?;
        let encoding = system_from_value(encoding)?;
        self.with_process(process, |core, state| {
            let held = state.coding.set(decoding, encoding);
            core.deliver_held_text(process, state, held);
            Ok(())
        })
    }

    /// `set-process-filter-multibyte`: nil gives unibyte strings (raw-text decoding); t
    /// restores the decoding nil replaced.
    pub fn set_filter_multibyte(&self, process: &ProcRef, flag: bool) -> Result<()> {
        self.with_process(process, |core, state| {
            let held = state.coding.set_filter_multibyte(flag);
            core.deliver_held_text(process, state, held);
            Ok(())
        })
    }

    /// The coding systems of processes made without `:coding` (binary by default).
    pub fn set_default_coding_system(&self, decoding: &Value, encoding: &Value) -> Result<()> {
        let pair = (system_from_value(decoding)?, system_from_value(encoding)?);
        self.update_settings(|settings| settings.default_coding = pair);
        Ok(())
    }
}

impl Core {
    /// What the old decoder held reaches the filter before any byte still waiting, which
    /// is decoded the new way when it is delivered.
    fn deliver_held_text(
        &mut self,
        process: &ProcRef,
        state: &mut super::process::State,
        held: Option<Decoded>,
    ) {
        if let Some(held) = held {
            self.inbox().record_first(process, state, held);
        }
    }
}
