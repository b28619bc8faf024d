//! Lisp objects the core keeps (filters, sentinels, log functions, buffers, plist members,
//! our process records) live as global references wrapped in [`GlobalRef`].
//!
//! A reference may be dropped anywhere the core drops a value, including inside a
//! user-pointer finalizer during garbage collection, where calling Emacs is forbidden. So
//! a drop only queues the reference; [`free_pending`] frees the queue at the start of each
//! module call, with a live environment.

use std::any::Any;
use std::sync::Arc;

use parking_lot::Mutex;

use super::env::Env;
use super::error::LispResult;
use super::sys::emacs_value;
use crate::core::{HostObject, Value};

/// Global references whose owners are gone, waiting for a module call to free them.
static TO_FREE: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// A global reference to a Lisp object, freed (later, see the module docs) when dropped.
#[derive(Debug)]
pub(crate) struct GlobalRef {
    /// The `emacs_value` of the reference, kept as an address so the type is Send + Sync;
    /// it is only ever turned back into a value on the main thread.
    value: usize,
    /// Whether the object is a list (see [`HostObject::is_list`]).
    list: bool,
}

impl GlobalRef {
    /// A new global reference to `value`.
    pub(crate) fn new(env: &Env, value: emacs_value) -> LispResult<Arc<GlobalRef>> {
        let global = env.make_global_ref(value)?;
        Ok(Arc::new(GlobalRef { value: global as usize, list: false }))
    }

    /// A new global reference to `value`, which the caller knows is a cons.
    pub(crate) fn new_list(env: &Env, value: emacs_value) -> LispResult<Arc<GlobalRef>> {
        let global = env.make_global_ref(value)?;
        Ok(Arc::new(GlobalRef { value: global as usize, list: true }))
    }

    /// The referenced object, usable in any module call while this reference lives.
    pub(crate) fn value(&self) -> emacs_value {
        self.value as emacs_value
    }
}

impl Drop for GlobalRef {
    fn drop(&mut self) {
        TO_FREE.lock().push(self.value);
    }
}

impl HostObject for GlobalRef {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn describe(&self) -> String {
        // No environment here to print the object with; error data is converted back to
        // the object itself, so this text only shows in Rust-side diagnostics.
        format!("#<lisp-object {:#x}>", self.value)
    }

    fn same(&self, other: &dyn HostObject) -> bool {
        // Emacs 28 hands out one global reference per object (counted), so equal
        // addresses mean `eq` objects.
        other.as_any().downcast_ref::<GlobalRef>().is_some_and(|o| o.value == self.value)
    }

    fn is_list(&self) -> bool {
        self.list
    }
}

/// The Lisp object a core value holds, if it is one of ours.
pub(crate) fn global_of(value: &Value) -> Option<&GlobalRef> {
    match value {
        Value::Host(object) => object.as_any().downcast_ref::<GlobalRef>(),
        _ => None,
    }
}

/// Free every reference dropped since the last module call.
pub(crate) fn free_pending(env: &Env) {
    let pending = std::mem::take(&mut *TO_FREE.lock());
    for value in pending {
        env.free_global_ref(value as emacs_value);
    }
}
