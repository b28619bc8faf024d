//! Lisp-shaped values: what keyword arguments, contact plists, plists and error data hold.
//!
//! The core never interprets host objects (buffers, functions); it keeps them as opaque
//! [`HostRef`]s that the boundary layer (C or Emacs) created and knows how to use.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A value owned by the host: a buffer, a filter function, a pointer. Opaque to the core.
pub trait HostObject: Send + Sync + fmt::Debug {
    /// For the boundary layer to get its own type back.
    fn as_any(&self) -> &dyn Any;
    /// How the object prints inside a contact plist or an error message.
    fn describe(&self) -> String;
    /// Identity, as Lisp's `eq` sees it.
    fn same(&self, other: &dyn HostObject) -> bool;
    /// Whether the object is a list (a cons) of the host's own, kept as itself (the Emacs
    /// module keeps a process's plist so, for `eq` values and no copy per read). The core
    /// accepts it where a list is wanted.
    fn is_list(&self) -> bool {
        false
    }
    /// Which of a process's functions the object is, if it is a typed function of the
    /// host's (a C host's FILTER, SENTINEL or LOG); None for anything else, a buffer or a
    /// Lisp object among them.
    fn function_role(&self) -> Option<FunctionRole> {
        None
    }
}

/// The functions a process holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionRole {
    /// `:filter`.
    Filter,
    /// `:sentinel`.
    Sentinel,
    /// `:log`.
    Log,
}

impl FunctionRole {
    /// The role a keyword's value plays, if it names a function.
    pub fn of_keyword(key: &str) -> Option<FunctionRole> {
        match key {
            ":filter" => Some(FunctionRole::Filter),
            // A drain function is called as a sentinel is (with "drain\n").
            ":sentinel" | ":drain" => Some(FunctionRole::Sentinel),
            ":log" => Some(FunctionRole::Log),
            _ => None,
        }
    }
}

/// A shared reference to a host object.
pub type HostRef = Arc<dyn HostObject>;

/// A Lisp value, as far as network processes need one.
///
/// Strings, vectors, lists and conses hold their contents behind an [`Arc`], so a clone
/// costs a reference count, never a copy: values are never changed in place (a setter
/// replaces the whole value), so sharing is invisible. This is what lets every connection
/// a server accepts share the server's `:plist` and contact plist, where Emacs's
/// `server_accept_connection` copies only the list's spine (`Fcopy_sequence`) and shares
/// the elements; a deep copy per accept would cost 10 GiB for 10,000 connections to a
/// server holding a 1 MiB plist.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `nil`, also the empty list.
    #[default]
    Nil,
    /// `t`.
    T,
    /// A fixnum.
    Int(i64),
    /// A string, as bytes.
    Str(Arc<[u8]>),
    /// A symbol by name; keywords keep their colon (`:name`).
    Symbol(String),
    /// A vector, e.g. an address `[127 0 0 1 80]`.
    Vector(Arc<[Value]>),
    /// A proper list.
    List(Arc<[Value]>),
    /// A cons cell whose cdr is not a list, e.g. `(DECODING . ENCODING)`.
    Cons(Arc<Value>, Arc<Value>),
    /// Something only the host understands.
    Host(HostRef),
}

impl Value {
    /// The role of a typed host function this value is, if it is one.
    pub fn function_role(&self) -> Option<FunctionRole> {
        match self {
            Value::Host(object) => object.function_role(),
            _ => None,
        }
    }

    /// Whether the value may be stored as a process's ROLE function. A host whose
    /// functions are typed (`typed` true: C) may store nil (the default), t (a filter that
    /// reads nothing) or its function of that role; a host whose values are Lisp objects
    /// may store anything, as Emacs checks nothing until it calls.
    pub(crate) fn fits_function(&self, role: FunctionRole, typed: bool) -> bool {
        !typed
            || self.is_nil()
            || (role == FunctionRole::Filter && self.is_symbol("t"))
            || self.function_role() == Some(role)
    }

    /// A symbol value.
    pub fn symbol(name: &str) -> Value {
        Value::Symbol(name.to_owned())
    }

    /// A string value from text.
    pub fn string(text: impl AsRef<[u8]>) -> Value {
        Value::Str(Arc::from(text.as_ref()))
    }

    /// A proper list of `items`.
    pub fn list(items: impl Into<Arc<[Value]>>) -> Value {
        Value::List(items.into())
    }

    /// A vector of `items`.
    pub fn vector(items: impl Into<Arc<[Value]>>) -> Value {
        Value::Vector(items.into())
    }

    /// The cons cell `(CAR . CDR)`, for a CDR that is not a list.
    pub fn cons(car: Value, cdr: Value) -> Value {
        Value::Cons(Arc::new(car), Arc::new(cdr))
    }

    /// Lisp truth: everything but nil (and the empty list).
    pub fn is_non_nil(&self) -> bool {
        !self.is_nil()
    }

    /// Whether this is a list, as `listp` says: nil, a list, a cons, or a host's list.
    pub fn is_list(&self) -> bool {
        match self {
            Value::Nil | Value::List(_) | Value::Cons(..) => true,
            Value::Host(object) => object.is_list(),
            _ => false,
        }
    }

    /// Whether this is nil or an empty list.
    pub fn is_nil(&self) -> bool {
        match self {
            Value::Nil => true,
            Value::List(items) => items.is_empty(),
            _ => false,
        }
    }

    /// The symbol's name, if this is a symbol (nil and t count as symbols).
    pub fn as_symbol(&self) -> Option<&str> {
        match self {
            Value::Symbol(name) => Some(name),
            Value::Nil => Some("nil"),
            Value::T => Some("t"),
            _ => None,
        }
    }

    /// Whether this is the symbol `name`.
    pub fn is_symbol(&self, name: &str) -> bool {
        self.as_symbol() == Some(name)
    }

    /// Lisp `eq`-like identity, extended to compare strings and numbers by value, which is
    /// what plist lookups on keywords need.
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Host(a), Value::Host(b)) => a.same(b.as_ref()),
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => match (self.as_symbol(), other.as_symbol()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    /// The printed representation, as `prin1` writes it.
    pub fn prin1(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, true);
        out
    }

    /// The printed representation, as `princ` writes it (strings without quotes).
    pub fn princ(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, false);
        out
    }
}

fn write_value(out: &mut String, value: &Value, escape: bool) {
    match value {
        // An empty list is nil, and Lisp prints it so.
        Value::Nil => out.push_str("nil"),
        Value::List(items) if items.is_empty() => out.push_str("nil"),
        Value::T => out.push('t'),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Str(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            if escape {
                out.push('"');
                for ch in text.chars() {
                    if ch == '"' || ch == '\\' {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push('"');
            } else {
                out.push_str(&text);
            }
        }
        Value::Symbol(name) => out.push_str(name),
        Value::Vector(items) => write_sequence(out, '[', items, ']', escape),
        Value::List(items) => write_sequence(out, '(', items, ')', escape),
        Value::Cons(car, cdr) => {
            out.push('(');
            write_value(out, car, escape);
            out.push_str(" . ");
            write_value(out, cdr, escape);
            out.push(')');
        }
        Value::Host(object) => out.push_str(&object.describe()),
    }
}

fn write_sequence(out: &mut String, open: char, items: &[Value], close: char, escape: bool) {
    out.push(open);
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        write_value(out, item, escape);
    }
    out.push(close);
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prin1())
    }
}

/// A property list kept in order, as Emacs keeps a contact plist: lookups take the first
/// match, updates replace in place, new keys go at the end, and nothing is ever removed.
#[derive(Clone, Debug, Default)]
pub struct Plist {
    entries: Vec<(Value, Value)>,
}

impl Plist {
    /// A plist from key/value pairs, kept exactly as given (duplicates included).
    pub fn from_pairs(entries: Vec<(Value, Value)>) -> Plist {
        Plist { entries }
    }

    /// The first value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k.is_symbol(key)).map(|(_, v)| v)
    }

    /// The first value under `key`, or nil.
    pub fn get_or_nil(&self, key: &str) -> Value {
        self.get(key).cloned().unwrap_or(Value::Nil)
    }

    /// Whether `key` is present at all (even with a nil value).
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Replace the first value under `key`, or append the pair.
    pub fn put(&mut self, key: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k.is_symbol(key)) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((Value::symbol(key), value)),
        }
    }

    /// The pairs in order.
    pub fn pairs(&self) -> &[(Value, Value)] {
        &self.entries
    }

    /// The plist as a flat Lisp list `(K1 V1 K2 V2 …)`.
    pub fn to_value(&self) -> Value {
        let mut items = Vec::with_capacity(self.entries.len() * 2);
        for (key, value) in &self.entries {
            items.push(key.clone());
            items.push(value.clone());
        }
        Value::List(items.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_lisp() {
        let value = Value::list(vec![
            Value::symbol(":name"),
            Value::string("a \"b\""),
            Value::vector(vec![Value::Int(127), Value::Int(0)]),
            Value::cons(Value::Int(1), Value::Nil),
        ]);
        assert_eq!(value.prin1(), "(:name \"a \\\"b\\\"\" [127 0] (1 . nil))");
        assert_eq!(Value::string("x").princ(), "x");
        assert_eq!(Value::list(Vec::new()).prin1(), "nil");
    }

    #[test]
    fn clones_share_strings_lists_and_conses() {
        let big = Value::string(vec![b'x'; 1 << 20]);
        let list = Value::list(vec![Value::symbol(":big"), big.clone()]);
        let pair = Value::cons(list.clone(), Value::Int(1));
        let copy = pair.clone();
        let (Value::Cons(car, _), Value::Cons(car2, _)) = (&pair, &copy) else { unreachable!() };
        assert!(Arc::ptr_eq(car, car2));
        let (Value::List(items), Value::Str(bytes)) = (car.as_ref(), &big) else { unreachable!() };
        let Value::Str(inner) = &items[1] else { unreachable!() };
        assert!(Arc::ptr_eq(inner, bytes));
        // A plist's pairs share their values too.
        let plist = Plist::from_pairs(vec![(Value::symbol(":plist"), list)]);
        let Value::List(flat) = plist.clone().to_value() else { unreachable!() };
        let (Value::List(a), Value::List(b)) = (&flat[1], plist.get(":plist").unwrap()) else {
            unreachable!()
        };
        assert!(Arc::ptr_eq(a, b));
    }

    #[test]
    fn plist_first_match_wins_and_put_replaces_in_place() {
        let mut plist = Plist::from_pairs(vec![
            (Value::symbol(":a"), Value::Int(1)),
            (Value::symbol(":a"), Value::Int(2)),
        ]);
        assert_eq!(plist.get(":a").map(Value::prin1), Some("1".into()));
        plist.put(":a", Value::Int(3));
        plist.put(":b", Value::T);
        assert_eq!(plist.to_value().prin1(), "(:a 3 :a 2 :b t)");
    }
}
