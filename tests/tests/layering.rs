//! The runtime crate's modules form layers: a module imports only from the layers
//! below it. The layers are the table under "## Layers" in ARCHITECTURE.md (lowest
//! first); this test reads every `crate::` path in `telemetry/src` and fails on an
//! import that points up or sideways into a later row, on a module missing from the
//! table, and on a row naming a module that does not exist.
//!
//! `cargo test -p telemetry-tests --test layering -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_owned()
}

/// The layer table: module names in order, lowest layer first. Rows are
/// `| module | owns | may import |`; the module cell holds one name in backticks.
fn layers() -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).unwrap();
    let section = text
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a '## Layers' section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cell = l.split('|').nth(1).unwrap().trim();
            cell.trim_matches('`').to_owned()
        })
        .collect()
}

/// The top-level module a source file belongs to (`pipeline/spool.rs` -> `pipeline`,
/// `private/` -> `__private`), or `None` for `lib.rs` (the root re-exports everything).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative
        .components()
        .next()?
        .as_os_str()
        .to_str()?
        .to_owned();
    let name = first.trim_end_matches(".rs").to_owned();
    match name.as_str() {
        "lib" => None,
        "private" => Some("__private".to_owned()),
        _ => Some(name),
    }
}

/// Source without comments, string literals and `$crate::` paths (a macro's output
/// names, not imports).
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if source[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if source[i..].starts_with("/*") {
            i = source[i..]
                .find("*/")
                .map_or(bytes.len(), |end| i + end + 2);
        } else if bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if source[i..].starts_with("$crate::") {
            i += "$crate::".len();
        } else {
            let c = source[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every first segment after `crate::`, including inside `use crate::{a, b::c}`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for item in split_top_level(&group[..end]) {
                if let Some(name) = first_ident(item.trim()) {
                    found.insert(name);
                }
            }
        } else if let Some(name) = first_ident(rest) {
            found.insert(name);
        }
    }
    found
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

fn split_top_level(s: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&s[start..]);
    items
}

fn first_ident(s: &str) -> Option<String> {
    let ident: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty() && ident != "self").then_some(ident)
}

/// module -> the crate modules it references.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = workspace().join("telemetry/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(module) = module_of(relative) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        let refs = crate_references(&code);
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(refs.into_iter().filter(|r| *r != module));
    }
    // Only references to modules count (`crate::SafeValue`, a root re-export, is
    // resolved to the module that defines it by the compiler, not by us: re-exports
    // from the root are not used inside the crate; see the check below).
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for refs in graph.values_mut() {
        refs.retain(|r| modules.contains(r) || r.chars().next().is_some_and(char::is_uppercase));
    }
    graph
}

#[test]
fn imports_point_down_the_layers() {
    let graph = graph();
    for (module, refs) in &graph {
        println!(
            "{module} -> {}",
            refs.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let layers = layers();
    assert!(!layers.is_empty(), "the layer table is empty");
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut problems = Vec::new();
    for module in graph.keys() {
        if !rank.contains_key(module.as_str()) {
            problems.push(format!(
                "module `{module}` is missing from the layer table in ARCHITECTURE.md"
            ));
        }
    }
    for module in &layers {
        if !graph.contains_key(module) {
            problems.push(format!(
                "the layer table names `{module}`, which is not a module of telemetry/src"
            ));
        }
    }
    for (module, refs) in &graph {
        let Some(&own) = rank.get(module.as_str()) else {
            continue;
        };
        for r in refs {
            if r.chars().next().is_some_and(char::is_uppercase) {
                problems.push(format!(
                    "`{module}` names `crate::{r}` (a root re-export): import it from the module that defines it"
                ));
                continue;
            }
            if let Some(&theirs) = rank.get(r.as_str())
                && theirs >= own
            {
                problems.push(format!(
                    "`{module}` imports `{r}`, which is not below it in the layer table"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_reader_finds_grouped_and_nested_imports() {
    let code = code_only(
        "use crate::{a, b::{c, d}, e::F as G};\nfn f() { crate::h::i(); }\n\
         // crate::comment\nlet s = \"crate::string\"; $crate::__private::x!();",
    );
    let refs: Vec<String> = crate_references(&code).into_iter().collect();
    assert_eq!(refs, ["a", "b", "e", "h"]);
}
