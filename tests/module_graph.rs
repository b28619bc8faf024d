//! No import cycles inside a layer (src/core, src/ffi, src/emacs): `make lint` runs this.
//!
//! A module depends on another when it names it in a `use` (`use super::x`,
//! `use crate::core::x`, `super::x::…` paths in code count too). Within one layer the
//! dependencies must form a DAG, so that each module can be read, tested and changed with
//! only the modules below it in mind. Submodules (`core/coding/…`) count as their parent.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The modules of `layer` (file stems of src/<layer>/*.rs and directories), with the set
/// of sibling modules each one refers to.
fn graph(layer: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer);
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(&root).expect("layer directory") {
        let path = entry.expect("directory entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        if name == "mod" {
            continue;
        }
        let mut text = String::new();
        collect_text(&path, &mut text);
        modules.insert(name, text);
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .into_iter()
        .map(|(name, text)| {
            let deps = names
                .iter()
                .filter(|other| **other != name && refers_to(&text, layer, other))
                .cloned()
                .collect();
            (name, deps)
        })
        .collect()
}

/// The text of a module file, or of every file under a module directory, without
/// comments (doc comments may name other modules freely).
fn collect_text(path: &Path, out: &mut String) {
    if path.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(path).expect("module directory").flatten().collect();
        entries.sort_by_key(|entry| entry.path());
        for entry in entries {
            collect_text(&entry.path(), out);
        }
    } else if path.extension().is_some_and(|ext| ext == "rs") {
        let text = fs::read_to_string(path).expect("module source");
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            out.push_str(code);
            out.push('\n');
        }
    }
}

/// Whether module text names sibling `other` of `layer` as a path.
fn refers_to(text: &str, layer: &str, other: &str) -> bool {
    let forms = [
        format!("super::{other}::"),
        format!("super::{other}}}"),
        format!("super::{other};"),
        format!("super::{other},"),
        format!("crate::{layer}::{other}::"),
        format!("crate::{layer}::{other};"),
        format!("crate::{layer}::{other}}}"),
        format!("crate::{layer}::{other},"),
    ];
    // `use super::{a, b::C}` groups: look inside braces that follow `super::`.
    let grouped = text.match_indices("super::{").any(|(at, _)| {
        let rest = &text[at + "super::{".len()..];
        let group = &rest[..rest.find('}').unwrap_or(rest.len())];
        group.split(',').any(|item| {
            let item = item.trim();
            item == other || item.starts_with(&format!("{other}::"))
        })
    });
    grouped || forms.iter().any(|form| text.contains(form.as_str()))
}

/// Every cycle's modules, as found by a depth-first search (empty when the graph is a DAG).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        marks.insert(node.to_string(), Mark::Open);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::New => visit(next, graph, marks, path, found),
                Mark::Open => {
                    let start = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    found.push(cycle);
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut found = Vec::new();
    for node in graph.keys() {
        if marks.get(node.as_str()).copied().unwrap_or(Mark::New) == Mark::New {
            visit(node, graph, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found
}

fn check(layer: &str) {
    let found = cycles(&graph(layer));
    let shown: Vec<String> = found.iter().map(|cycle| cycle.join(" → ")).collect();
    assert!(shown.is_empty(), "import cycles in src/{layer}:\n  {}", shown.join("\n  "));
}

#[test]
fn the_finder_sees_a_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    graph.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c", "a"]]);
    graph.get_mut("c").unwrap().clear();
    assert!(cycles(&graph).is_empty());
}

#[test]
fn the_reader_sees_uses() {
    assert!(refers_to("use super::{context::Core, inbox::Arrival};", "core", "inbox"));
    assert!(refers_to("use super::context::Core;", "core", "context"));
    assert!(refers_to("let x = crate::core::value::Value::Nil;", "core", "value"));
    assert!(!refers_to("use super::contexts::Core;", "core", "context"));
}

#[test]
fn no_cycles_in_core() {
    check("core");
}

#[test]
fn no_cycles_in_ffi() {
    check("ffi");
}

#[test]
fn no_cycles_in_emacs() {
    check("emacs");
}
