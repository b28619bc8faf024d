//! Lisp values ↔ core [`Value`]s.
//!
//! Data the core reads (keywords, hosts, services, addresses, coding systems, plists) is
//! converted structurally. Anything the core only stores and hands back (functions,
//! buffers, markers, floats, records) becomes a [`GlobalRef`], so Lisp gets the very same
//! object back: an interpreted closure copied cell by cell would lose its shared state.

use std::sync::Arc;

use super::env::Env;
use super::error::{Failure, LispResult};
use super::global::{global_of, GlobalRef};
use super::sys::emacs_value;
use crate::core::Value;

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

/// A Lisp value as data the core can read.
pub(crate) fn from_lisp(env: &Env, value: emacs_value) -> LispResult<Value> {
    if !env.is_not_nil(value) {
        return Ok(Value::Nil);
    }
    let kind = env.type_of(value)?;
    let is = |name: &str| -> LispResult<bool> { Ok(env.eq(kind, env.intern(name)?)) };
    if is("symbol")? {
        if env.eq(value, env.t()?) {
            return Ok(Value::T);
        }
        let name = env.call("symbol-name", &[value])?;
        return Ok(Value::Symbol(String::from_utf8_lossy(&env.string_bytes(name)?).into_owned()));
    }
    if is("integer")? {
        return Ok(Value::Int(env.extract_int(value)?));
    }
    if is("string")? {
        return Ok(Value::string(env.string_bytes(value)?));
    }
    if is("vector")? {
        let length = env.extract_int(env.call("length", &[value])?)?;
        let mut items = Vec::with_capacity(length.max(0) as usize);
        for index in 0..length {
            let item = env.call("aref", &[value, env.int(index)?])?;
            items.push(from_lisp(env, item)?);
        }
        return Ok(Value::vector(items));
    }
    if is("cons")? {
        return list_from_lisp(env, value);
    }
    object(env, value)
}

fn list_from_lisp(env: &Env, value: emacs_value) -> LispResult<Value> {
    let cons = env.intern("cons")?;
    let mut items = Vec::new();
    let mut rest = value;
    loop {
        if !env.is_not_nil(rest) {
            return Ok(Value::list(items));
        }
        if !env.eq(env.type_of(rest)?, cons) {
            // An improper tail: (a b . c) becomes (a . (b . c)).
            let mut tail = from_lisp(env, rest)?;
            while let Some(item) = items.pop() {
                tail = Value::cons(item, tail);
            }
            return Ok(tail);
        }
        items.push(from_lisp(env, env.call("car", &[rest])?)?);
        rest = env.call("cdr", &[rest])?;
    }
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
