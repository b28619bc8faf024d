//! A process's contact plist (`process-contact` with t).
//!
//! Most processes keep the plist given to `make-network-process`. An accepted connection's
//! plist is its server's with five entries replaced; it is only built when something asks
//! for it, so an idle connection holds a shared reference and two addresses instead of a
//! copy of the whole plist (about 2 KB of W4's 3.5 KB per idle connection before this).

use std::borrow::Cow;
use std::sync::Arc;

use super::address::Address;
use super::value::{Plist, Value};

/// A contact plist, whole or still to be built.
pub(crate) enum Contact {
    Plist(Arc<Plist>),
    /// An accepted connection's: its server's contact, the peer, and the local address
    /// when it is not the server's own `:local` (a server bound to a wildcard address).
    Accepted {
        server: Arc<Plist>,
        peer: Address,
        local: Option<Box<Address>>,
    },
}

impl Contact {
    /// The plist given to `make-network-process`, kept as given.
    pub(crate) fn new(plist: Plist) -> Contact {
        Contact::Plist(Arc::new(plist))
    }

    /// The contact of a connection `server` accepted from `peer`, on `local` (None: on the
    /// server's `:local` address).
    pub(crate) fn accepted(server: &Contact, peer: Address, local: Option<Address>) -> Contact {
        let server = match server {
            Contact::Plist(plist) => plist.clone(),
            accepted => Arc::new(accepted.plist().into_owned()),
        };
        Contact::Accepted { server, peer, local: local.map(Box::new) }
    }

    /// The whole plist.
    pub(crate) fn plist(&self) -> Cow<'_, Plist> {
        match self {
            Contact::Plist(plist) => Cow::Borrowed(plist),
            Contact::Accepted { server, peer, local } => {
                Cow::Owned(build_accepted(server, peer, local.as_deref()))
            }
        }
    }

    /// The first value under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Value> {
        self.plist().get(key).cloned()
    }

    /// The first value under `key`, or nil.
    pub(crate) fn get_or_nil(&self, key: &str) -> Value {
        self.get(key).unwrap_or(Value::Nil)
    }

    /// Whether `key` is present at all.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.plist().contains(key)
    }

    /// Replace the first value under `key`, or append the pair (see [`Plist::put`]).
    pub(crate) fn put(&mut self, key: &str, value: Value) {
        if let Contact::Accepted { .. } = self {
            *self = Contact::Plist(Arc::new(self.plist().into_owned()));
        }
        if let Contact::Plist(plist) = self {
            Arc::make_mut(plist).put(key, value);
        }
    }

    /// The plist as a flat Lisp list.
    pub(crate) fn to_value(&self) -> Value {
        self.plist().to_value()
    }
}

/// Emacs's `server_accept_connection`: the server's contact with `:server nil`, the peer's
/// `:host` and `:service` (or `:host t` for a local socket), `:remote` and `:local`.
fn build_accepted(server: &Plist, peer: &Address, local: Option<&Address>) -> Plist {
    let mut contact = server.clone();
    contact.put(":server", Value::Nil);
    match (peer, peer.host_text()) {
        (Address::Inet4 { port, .. } | Address::Inet6 { port, .. }, Some(text)) => {
            contact.put(":host", Value::string(text));
            contact.put(":service", Value::Int(*port as i64));
        }
        _ => contact.put(":host", Value::T),
    }
    contact.put(":remote", peer.to_value());
    // Without `local`, the server's own `:local` (already in place) is the right one.
    if let Some(local) = local {
        contact.put(":local", local.to_value());
    }
    contact
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Contact {
        Contact::new(Plist::from_pairs(vec![
            (Value::symbol(":name"), Value::string("srv")),
            (Value::symbol(":server"), Value::T),
            (Value::symbol(":service"), Value::Int(7000)),
        ]))
    }

    #[test]
    fn an_accepted_contact_is_the_servers_with_the_peer_filled_in() {
        let peer = Address::Inet4 { octets: [127, 0, 0, 1], port: 5000 };
        let local = Address::Inet4 { octets: [127, 0, 0, 1], port: 7000 };
        let contact = Contact::accepted(&server(), peer, Some(local));
        assert_eq!(
            contact.to_value().prin1(),
            "(:name \"srv\" :server nil :service 5000 :host \"127.0.0.1\" \
             :remote [127 0 0 1 5000] :local [127 0 0 1 7000])"
        );
    }

    #[test]
    fn a_connection_on_the_servers_own_address_takes_its_local_from_the_server() {
        let mut server = server();
        server.put(":local", Address::Inet4 { octets: [127, 0, 0, 1], port: 7000 }.to_value());
        let peer = Address::Inet4 { octets: [127, 0, 0, 1], port: 5000 };
        let contact = Contact::accepted(&server, peer, None);
        assert_eq!(contact.get_or_nil(":local").prin1(), "[127 0 0 1 7000]");
    }

    #[test]
    fn putting_into_an_accepted_contact_builds_it_first_and_leaves_the_server_alone() {
        let server = server();
        let peer = Address::Local(b"/tmp/s".to_vec());
        let mut contact = Contact::accepted(&server, peer, Some(Address::Local(Vec::new())));
        contact.put(":filter", Value::symbol("f"));
        assert_eq!(contact.get_or_nil(":host").prin1(), "t");
        assert_eq!(contact.get_or_nil(":filter").prin1(), "f");
        assert!(!server.contains(":filter"));
    }
}
