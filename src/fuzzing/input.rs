//! Turning fuzzer bytes into choices, and into Lisp-shaped values as a C host would build
//! them: a [`Node`] says what to build, including the malformed shapes C can express (a
//! NULL pointer with a length, an unknown kind, a CONS of three), and [`well_formed`] says
//! whether the decoder must accept it.

use crate::ffi::value::{NETPROC_VALUE_CONS, NETPROC_VALUE_LIST, NETPROC_VALUE_STRING, NETPROC_VALUE_SYMBOL};
use crate::ffi::value::{
    NETPROC_VALUE_FILTER, NETPROC_VALUE_LOG, NETPROC_VALUE_SENTINEL, NETPROC_VALUE_VECTOR,
};

/// The decoder's nesting limit (`MAX_VALUE_DEPTH` in core/budget.rs): a value deeper than this is
/// refused. Kept here as the model's own number, so a change there shows up as a finding.
pub(crate) const DECODER_MAX_DEPTH: usize = 64;

/// Fuzzer bytes read front to back; once they run out every read gives zero, so any input
/// is a complete description.
pub(crate) struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    pub(crate) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    /// A number below `limit` (at most 256 choices are told apart).
    pub(crate) fn below(&mut self, limit: usize) -> usize {
        if limit <= 1 {
            0
        } else {
            self.byte() as usize % limit
        }
    }

    pub(crate) fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// Up to `max` bytes, as many as the next byte says.
    pub(crate) fn bytes(&mut self, max: usize) -> &'a [u8] {
        let wanted = self.below(max + 1).min(self.data.len());
        let (taken, rest) = self.data.split_at(wanted);
        self.data = rest;
        taken
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    /// An integer, biased toward the edges address and option parsing care about.
    pub(crate) fn integer(&mut self) -> i64 {
        const EDGES: &[i64] = &[
            0,
            1,
            -1,
            2,
            10,
            127,
            255,
            256,
            -256,
            65535,
            65536,
            -65536,
            i32::MAX as i64,
            i32::MIN as i64,
            u32::MAX as i64,
            (1 << 32) + 2,
            i64::MAX,
            i64::MIN,
        ];
        match self.byte() {
            pick @ 0..=127 => EDGES[pick as usize % EDGES.len()],
            128..=191 => self.byte() as i64,
            192..=223 => self.u16() as i64,
            _ => {
                let mut raw = [0u8; 8];
                raw.iter_mut().for_each(|b| *b = self.byte());
                i64::from_le_bytes(raw)
            }
        }
    }
}

/// Which host function a FILTER, SENTINEL or LOG value carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FunctionKind {
    Filter,
    Sentinel,
    Log,
}

impl FunctionKind {
    pub(crate) fn value_kind(self) -> u32 {
        match self {
            FunctionKind::Filter => NETPROC_VALUE_FILTER,
            FunctionKind::Sentinel => NETPROC_VALUE_SENTINEL,
            FunctionKind::Log => NETPROC_VALUE_LOG,
        }
    }
}

/// A value as a C host could build it, legal or not.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Nil,
    T,
    Int(i64),
    Str(Vec<u8>),
    /// A SYMBOL: the name's bytes, which the decoder insists are UTF-8.
    Sym(Vec<u8>),
    Vector(Vec<Node>),
    List(Vec<Node>),
    /// A CONS with these items; legal only with exactly two.
    Cons(Vec<Node>),
    Pointer(usize),
    /// A function value; `null` leaves its function pointer NULL (refused).
    Function {
        kind: FunctionKind,
        null: bool,
        userdata: usize,
    },
    /// A kind number that is none of the NETPROC_VALUE_* constants.
    Unknown(u32),
    /// STRING or SYMBOL with `bytes` NULL and a nonzero `length`.
    NullBytes {
        kind: u32,
        length: usize,
    },
    /// VECTOR, LIST or CONS with `items` NULL and a nonzero `count`.
    NullItems {
        kind: u32,
        count: usize,
    },
    /// `depth` LISTs of one element each, around `inner`: the nesting limit's edge.
    Deep {
        depth: usize,
        inner: Box<Node>,
    },
}

/// Names worth meeting as SYMBOLs: what :type, :family, :coding and friends look for.
const SYMBOLS: &[&str] = &[
    "nil",
    "t",
    "local",
    "ipv4",
    "ipv6",
    "datagram",
    "seqpacket",
    "utf-8",
    "binary",
    "undecided-dos",
    "iso-2022-jp",
    "utf-16",
    "raw-text-mac",
    "no-conversion",
    ":name",
    ":keepalive",
    "bogus",
];

/// Strings worth meeting: hosts, services, buffer names, paths.
const STRINGS: &[&str] =
    &["127.0.0.1", "::1", "localhost", "80", "0", " 1", "65536", "", "x", "café", "/tmp/s"];

/// Build a node from the input. `malformed` allows the shapes the decoder must refuse.
pub(crate) fn node(input: &mut Input<'_>, depth: usize, malformed: bool) -> Node {
    let tag = input.byte();
    // Past a few levels only leaves, so a value stays small; Deep reaches the limit.
    let tag = if depth >= 5 { tag % 5 } else { tag % 16 };
    match tag {
        0 => Node::Nil,
        1 => Node::T,
        2 => Node::Int(input.integer()),
        3 => Node::Str(input.bytes(40).to_vec()),
        4 => {
            if input.flag() {
                Node::Sym(SYMBOLS[input.below(SYMBOLS.len())].as_bytes().to_vec())
            } else if malformed {
                Node::Sym(input.bytes(12).to_vec())
            } else {
                Node::Sym(String::from_utf8_lossy(input.bytes(12)).into_owned().into_bytes())
            }
        }
        5 => Node::Vector(children(input, depth, malformed)),
        6 => Node::List(children(input, depth, malformed)),
        7 => Node::Cons(vec![node(input, depth + 1, malformed), node(input, depth + 1, malformed)]),
        8 => Node::Pointer(input.u16() as usize * 8),
        9 => {
            let kind = [FunctionKind::Filter, FunctionKind::Sentinel, FunctionKind::Log][input.below(3)];
            let null = malformed && input.byte() == 0xFF;
            Node::Function { kind, null, userdata: input.byte() as usize }
        }
        10 => address_vector(input),
        11 => Node::Str(STRINGS[input.below(STRINGS.len())].as_bytes().to_vec()),
        12 => family_cons(input),
        13 if malformed => match input.below(4) {
            0 => Node::Unknown(match input.byte() {
                0 => u32::MAX,
                other => 11 + other as u32,
            }),
            1 => Node::NullBytes {
                kind: if input.flag() { NETPROC_VALUE_STRING } else { NETPROC_VALUE_SYMBOL },
                length: 1 + input.byte() as usize,
            },
            2 => Node::NullItems {
                kind: [NETPROC_VALUE_VECTOR, NETPROC_VALUE_LIST, NETPROC_VALUE_CONS][input.below(3)],
                count: 1 + input.byte() as usize,
            },
            _ => {
                // A CONS of anything but two (its items really there: that much is legal).
                let count = [0, 1, 3, 4][input.below(4)];
                Node::Cons((0..count).map(|_| node(input, depth + 1, malformed)).collect())
            }
        },
        14 if malformed => Node::Deep {
            depth: DECODER_MAX_DEPTH - 4 + input.below(8),
            inner: Box::new(node(input, DECODER_MAX_DEPTH, malformed)),
        },
        _ => Node::Vector(Vec::new()),
    }
}

fn children(input: &mut Input<'_>, depth: usize, malformed: bool) -> Vec<Node> {
    let count = input.below(6);
    (0..count).map(|_| node(input, depth + 1, malformed)).collect()
}

/// A VECTOR shaped like an address (4, 5, 8 or 9 integers, now and then one that is not).
fn address_vector(input: &mut Input<'_>) -> Node {
    let len = [4, 5, 8, 9, 3, 0][input.below(6)];
    let items = (0..len)
        .map(|_| match input.byte() {
            0 => Node::Str(b"1".to_vec()),
            1..=100 => Node::Int(input.integer()),
            _ => Node::Int(input.byte() as i64),
        })
        .collect();
    Node::Vector(items)
}

/// `(FAMILY . [BYTES…])`, the raw-address form.
fn family_cons(input: &mut Input<'_>) -> Node {
    let family = match input.below(5) {
        0 => libc::AF_INET as i64,
        1 => libc::AF_INET6 as i64,
        2 => libc::AF_UNIX as i64,
        _ => input.integer(),
    };
    let len = input.below(40);
    let bytes = (0..len).map(|_| Node::Int(input.byte() as i64)).collect();
    Node::Cons(vec![Node::Int(family), Node::Vector(bytes)])
}

/// Whether the decoder must accept `node` found at `depth` (the top level is 0), exactly as
/// ffi/value.rs from_c reads it.
pub(crate) fn well_formed(node: &Node, depth: usize) -> bool {
    if depth > DECODER_MAX_DEPTH {
        return false;
    }
    match node {
        Node::Nil | Node::T | Node::Int(_) | Node::Str(_) | Node::Pointer(_) => true,
        Node::Sym(name) => std::str::from_utf8(name).is_ok(),
        Node::Vector(items) | Node::List(items) => items.iter().all(|item| well_formed(item, depth + 1)),
        Node::Cons(items) => items.len() == 2 && items.iter().all(|item| well_formed(item, depth + 1)),
        Node::Function { null, .. } => !null,
        Node::Unknown(_) | Node::NullBytes { .. } | Node::NullItems { .. } => false,
        Node::Deep { depth: levels, inner } => well_formed(inner, depth + levels),
    }
}
