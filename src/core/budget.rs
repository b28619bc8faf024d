//! The budget for converting a host's value into a core [`super::value::Value`].

use super::error::Error;

/// How much of a host's value netproc converts, at most (README, "Values"). A host value
/// is read as a tree, so shared structure is expanded: a list whose two items are the same
/// list, 64 levels deep, stands for 2^64 nodes, and a list that contains itself for
/// infinitely many. Counting every node, every string byte and the nesting depth makes
/// such a value a clear error after bounded work instead of exhausted time, memory or
/// stack.
#[derive(Debug)]
pub struct Budget {
    nodes_left: usize,
    bytes_left: usize,
    max_nodes: usize,
}

/// The most values (atoms, strings, vectors, lists, conses) one host value may hold.
pub const MAX_VALUE_NODES: usize = 1 << 20;
/// The most string and symbol bytes one host value may hold, all strings together.
pub const MAX_VALUE_BYTES: usize = 256 << 20;
/// The deepest nesting of one host value: the top level is 0, its items 1, and so on.
pub const MAX_VALUE_DEPTH: usize = 64;

impl Default for Budget {
    fn default() -> Budget {
        Budget::with_nodes(MAX_VALUE_NODES)
    }
}

impl Budget {
    /// A budget of `nodes` elements (and the usual bytes and depth).
    pub fn with_nodes(nodes: usize) -> Budget {
        Budget { nodes_left: nodes, bytes_left: MAX_VALUE_BYTES, max_nodes: nodes }
    }

    /// Count one node found at `depth`.
    pub fn node(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_VALUE_DEPTH {
            return Err(too_large(&format!("nested more than {MAX_VALUE_DEPTH} levels")));
        }
        if self.nodes_left == 0 {
            return Err(too_large(&format!("more than {} elements", self.max_nodes)));
        }
        self.nodes_left -= 1;
        Ok(())
    }

    /// Count `length` bytes of a string or symbol name.
    pub fn bytes(&mut self, length: usize) -> Result<(), Error> {
        if length > self.bytes_left {
            return Err(too_large(&format!("more than {MAX_VALUE_BYTES} bytes of strings")));
        }
        self.bytes_left -= length;
        Ok(())
    }
}

/// `(error "Value too large or circular: WHY")`.
fn too_large(why: &str) -> Error {
    Error::msg(format!("Value too large or circular: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_nodes_bytes_and_depth() {
        let mut budget = Budget::default();
        assert!(budget.node(MAX_VALUE_DEPTH).is_ok());
        let deep = budget.node(MAX_VALUE_DEPTH + 1).unwrap_err();
        assert_eq!(deep.message(), "Value too large or circular: nested more than 64 levels");
        for _ in 1..MAX_VALUE_NODES {
            budget.node(1).unwrap();
        }
        let many = budget.node(1).unwrap_err();
        assert_eq!(many.message(), "Value too large or circular: more than 1048576 elements");
        assert!(budget.bytes(MAX_VALUE_BYTES).is_ok());
        assert!(budget.bytes(1).is_err());
    }
}
