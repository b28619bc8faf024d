//! Lisp values ↔ core [`Value`]s.
//!
//! Data the core reads (keywords, hosts, services, addresses, coding systems) is converted
//! structurally, within a budget (README, "Values"). Anything the core only stores and hands back (functions,
//! buffers, markers, floats, records) becomes a [`GlobalRef`], so Lisp gets the very same
//! object back: an interpreted closure copied cell by cell would lose its shared state.

use std::sync::Arc;

use super::env::Env;
use super::error::{Failure, LispResult};
use super::global::{global_of, GlobalRef};
use super::sys::emacs_value;
use crate::core::{Budget, Value};

/// A core value as Lisp.
pub(crate) fn to_lisp(env: &Env, value: &Value) -> LispResult<emacs_value> {
    match value {
        Value::Nil => env.nil(),
        Value::T => env.t(),
        Value::Int(n) => env.int(*n),
        Value::Str(bytes) => env.string(bytes),
        Value::Symbol(name) => env.intern(name),
        Value::Vector(items) => {
            let items = items.iter().map(|item| to_lisp(env, item)).collect::<LispResult<Vec<_>>>()?;
            env.call("vector", &items)
        }
        Value::List(items) => {
            let items = items.iter().map(|item| to_lisp(env, item)).collect::<LispResult<Vec<_>>>()?;
            env.list(&items)
        }
        Value::Cons(car, cdr) => {
            let car = to_lisp(env, car)?;
            let cdr = to_lisp(env, cdr)?;
            env.call("cons", &[car, cdr])
        }
        Value::Host(_) => match global_of(value) {
            Some(global) => Ok(global.value()),
            None => Err(Failure::internal("a host object that is not a Lisp object")),
        },
    }
}

/// A Lisp value as data the core can read, within a [`Budget`] of nodes, string bytes and
/// depth: Lisp data may share structure or be circular (`#1=(a . #1#)`), and a tree copy
/// of it would never end; it is `(error "Value too large or circular: …")` instead.
pub(crate) fn from_lisp(env: &Env, value: emacs_value) -> LispResult<Value> {
    let types = Types::new(env)?;
    convert(env, &types, value, 0, &mut Budget::with_nodes(MAX_LISP_NODES))
}

/// The most elements one Lisp value converted for the core may hold. What the core reads
/// structurally in Emacs is small (an address has at most 130 elements); data it only keeps
/// (plists, unknown keywords, functions, buffers) stays a Lisp object and is not counted.
/// Each element costs several module calls, and each module call a value that lives until
/// the module function returns (checked against all of them under `--module-assertions`),
/// so this is far below the C host's budget.
pub(crate) const MAX_LISP_NODES: usize = 4096;

/// The type symbols `type-of` returns, interned once per conversion.
struct Types {
    symbol: emacs_value,
    integer: emacs_value,
    string: emacs_value,
    vector: emacs_value,
    cons: emacs_value,
}

impl Types {
    fn new(env: &Env) -> LispResult<Types> {
        Ok(Types {
            symbol: env.intern("symbol")?,
            integer: env.intern("integer")?,
            string: env.intern("string")?,
            vector: env.intern("vector")?,
            cons: env.intern("cons")?,
        })
    }
}

fn convert(
    env: &Env,
    types: &Types,
    value: emacs_value,
    depth: usize,
    budget: &mut Budget,
) -> LispResult<Value> {
    budget.node(depth)?;
    if !env.is_not_nil(value) {
        return Ok(Value::Nil);
    }
    let kind = env.type_of(value)?;
    if env.eq(kind, types.symbol) {
        if env.eq(value, env.t()?) {
            return Ok(Value::T);
        }
        let name = env.string_bytes(env.call("symbol-name", &[value])?)?;
        budget.bytes(name.len())?;
        return Ok(Value::Symbol(String::from_utf8_lossy(&name).into_owned()));
    }
    if env.eq(kind, types.integer) {
        return Ok(Value::Int(env.extract_int(value)?));
    }
    if env.eq(kind, types.string) {
        // Counted before copying: a string shared a thousand times is refused unread.
        budget.bytes(env.extract_int(env.call("string-bytes", &[value])?)?.max(0) as usize)?;
        return Ok(Value::string(env.string_bytes(value)?));
    }
    if env.eq(kind, types.vector) {
        let length = env.extract_int(env.call("length", &[value])?)?;
        let mut items = Vec::new();
        for index in 0..length {
            let item = env.call("aref", &[value, env.int(index)?])?;
            items.push(convert(env, types, item, depth + 1, budget)?);
        }
        return Ok(Value::vector(items));
    }
    if env.eq(kind, types.cons) {
        return convert_list(env, types, value, depth, budget);
    }
    object(env, value)
}

/// A list: its cells count against the budget one by one (a circular list runs it out),
/// its items one level deeper than the list.
fn convert_list(
    env: &Env,
    types: &Types,
    value: emacs_value,
    depth: usize,
    budget: &mut Budget,
) -> LispResult<Value> {
    let mut items = Vec::new();
    let mut rest = value;
    loop {
        if !env.is_not_nil(rest) {
            return Ok(Value::list(items));
        }
        if !env.eq(env.type_of(rest)?, types.cons) {
            // An improper tail: (a b . c) becomes (a . (b . c)).
            let mut tail = convert(env, types, rest, depth + 1, budget)?;
            while let Some(item) = items.pop() {
                tail = Value::cons(item, tail);
            }
            return Ok(tail);
        }
        if !items.is_empty() {
            budget.node(depth)?;
        }
        items.push(convert(env, types, env.call("car", &[rest])?, depth + 1, budget)?);
        rest = env.call("cdr", &[rest])?;
    }
}

/// A value known to be a list (nil or a cons), kept as itself.
pub(crate) fn list_object(env: &Env, value: emacs_value) -> LispResult<Value> {
    if !env.is_not_nil(value) {
        return Ok(Value::Nil);
    }
    Ok(Value::Host(GlobalRef::new_list(env, value)? as Arc<dyn crate::core::HostObject>))
}

/// A `:plist` argument: a proper list is kept as itself (its elements stay `eq`, a string
/// in it stays unibyte, and reading it costs nothing); anything else is converted, so that
/// the core signals what Emacs signals for it (`sequencep`, or `listp` for a dotted list).
pub(crate) fn plist_argument(env: &Env, value: emacs_value) -> LispResult<Value> {
    if env.is_not_nil(env.call("proper-list-p", &[value])?) {
        return list_object(env, value);
    }
    from_lisp(env, value)
}

/// A Lisp value kept as itself: nil and t stay symbols (the core gives them meaning as
/// filters), everything else becomes a global reference.
pub(crate) fn object(env: &Env, value: emacs_value) -> LispResult<Value> {
    if !env.is_not_nil(value) {
        return Ok(Value::Nil);
    }
    if env.eq(value, env.t()?) {
        return Ok(Value::T);
    }
    Ok(Value::Host(GlobalRef::new(env, value)? as Arc<dyn crate::core::HostObject>))
}
