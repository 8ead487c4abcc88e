//! The walls between the top-level modules of `src/` (docs/ARCHITECTURE.md,
//! "Layers"): production code forms a one-way graph. This test reads every
//! source file, lists the `crate::` paths each top-level module names, and
//! fails on any cycle, naming the modules and the files that close it.
//!
//! Test code is left out: `#[cfg(test)]` items (unit tests, `testkit`) may
//! run the whole pipeline, as the tests under `tests/` do.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The source without comments, string and character literals (their
/// contents blanked), so that only code is scanned.
fn code_only(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            i += end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|&c| c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let open = 2 + hashes;
            let end = rest[open..]
                .find(&close)
                .map_or(rest.len(), |e| open + e + close.len());
            out.push_str("\"\"");
            i += end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if bytes[i] == b'\'' && rest.len() > 2 {
            // A char literal ('a', '\n', '\''), not a lifetime ('a).
            let len = if rest.as_bytes()[1] == b'\\' {
                rest[2..].find('\'').map(|e| e + 3)
            } else {
                rest[1..].chars().next().and_then(|c| {
                    let after = 1 + c.len_utf8();
                    (rest.as_bytes().get(after) == Some(&b'\'')).then_some(after + 1)
                })
            };
            match len {
                Some(len) => {
                    out.push_str("' '");
                    i += len;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().expect("a char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The index of the brace that closes the one at `open`.
fn closing_brace(code: &str, open: usize) -> usize {
    let mut depth = 0usize;
    for (i, b) in code.bytes().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// The code without `#[cfg(test)]` items (a `mod … { … }` block, or a
/// `mod …;` whose file is then test code too).
fn without_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let semicolon = item.find(';').unwrap_or(item.len());
        let brace = item.find('{').unwrap_or(item.len());
        let end = if semicolon < brace {
            semicolon + 1
        } else {
            closing_brace(item, brace) + 1
        };
        rest = &item[end.min(item.len())..];
    }
    out.push_str(rest);
    out
}

/// The identifiers a `crate::` path starts with: `crate::a::b` gives `a`,
/// `crate::{a::X, b}` gives `a` and `b`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        if at > 0 {
            let before = code.as_bytes()[at - 1];
            if before.is_ascii_alphanumeric() || before == b'_' || before == b'$' {
                continue; // `$crate::` (a macro's), `my_crate::`
            }
        }
        let rest = &code[at + "crate::".len()..];
        if rest.starts_with('{') {
            let close = closing_brace(rest, 0);
            let inner = &rest[1..close];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(ident(&inner[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            names.insert(ident(&inner[start..]));
        } else {
            names.insert(ident(rest));
        }
    }
    names.remove("");
    names
}

/// Edges between top-level modules: (from, to) → the files of `from` that
/// name `to`.
type Edges = BTreeMap<(String, String), BTreeSet<String>>;

fn module_edges(src: &Path) -> (BTreeSet<String>, Edges) {
    let files = rust_files(src);
    let top = |path: &Path| -> String {
        let rel = path.strip_prefix(src).expect("below src");
        let first = rel.components().next().expect("a component");
        let name = first.as_os_str().to_string_lossy();
        name.strip_suffix(".rs").unwrap_or(&name).to_string()
    };
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| top(f))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    // Files declared `#[cfg(test)] mod x;` (with or without `#[path]`).
    let mut test_files: BTreeSet<PathBuf> = BTreeSet::new();
    for file in &files {
        let code = code_only(&fs::read_to_string(file).expect("readable source"));
        let mut rest = code.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            let item = &rest[at..];
            let semicolon = item.find(';').unwrap_or(item.len());
            if item.find('{').is_none_or(|b| semicolon < b) {
                let decl = &item[..semicolon];
                let dir = file.parent().expect("a parent");
                let path = decl
                    .split("#[path = ")
                    .nth(1)
                    .and_then(|p| p.split(']').next())
                    .map(|p| p.trim().trim_matches('"').to_string());
                let module = decl.split("mod ").last().unwrap_or("").trim().to_string();
                let stem = file
                    .file_stem()
                    .expect("a name")
                    .to_string_lossy()
                    .to_string();
                let base = if ["mod", "lib", "main"].contains(&stem.as_str()) {
                    dir.to_path_buf()
                } else {
                    dir.join(stem)
                };
                match path {
                    Some(p) => {
                        test_files.insert(dir.join(p));
                    }
                    None => {
                        test_files.insert(base.join(format!("{module}.rs")));
                        test_files.insert(base.join(&module).join("mod.rs"));
                    }
                }
            }
            rest = &item["#[cfg(test)]".len()..];
        }
    }
    let mut edges = Edges::new();
    for file in &files {
        let from = top(file);
        if !modules.contains(&from) || test_files.iter().any(|t| file.starts_with(t) || t == file) {
            continue;
        }
        if test_files
            .iter()
            .any(|t| t.extension().is_none() && file.starts_with(t))
        {
            continue;
        }
        let code = without_test_items(&code_only(
            &fs::read_to_string(file).expect("readable source"),
        ));
        for to in crate_paths(&code) {
            if to != from && modules.contains(&to) {
                let shown = file
                    .strip_prefix(src)
                    .expect("below src")
                    .display()
                    .to_string();
                edges.entry((from.clone(), to)).or_default().insert(shown);
            }
        }
    }
    (modules, edges)
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(modules: &BTreeSet<String>, edges: &Edges) -> Vec<Vec<String>> {
    struct State<'a> {
        next: BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        counter: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.counter);
        s.low.insert(v, s.counter);
        s.counter += 1;
        s.stack.push(v);
        for w in s.next.get(v).cloned().unwrap_or_default() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        next: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        counter: 0,
        found: Vec::new(),
    };
    for (from, to) in edges.keys() {
        state
            .next
            .entry(from.as_str())
            .or_default()
            .push(to.as_str());
    }
    for m in modules {
        if !state.index.contains_key(m.as_str()) {
            visit(&mut state, m.as_str());
        }
    }
    state.found
}

/// Cycles of the graph in words: every edge inside each cycle with its files.
fn describe(cycles: &[Vec<String>], edges: &Edges) -> String {
    let mut text = String::new();
    for component in cycles {
        text.push_str(&format!("cycle through {}:\n", component.join(", ")));
        for ((from, to), files) in edges {
            if component.contains(from) && component.contains(to) {
                let files: Vec<&str> = files.iter().map(String::as_str).collect();
                text.push_str(&format!("  {from} -> {to}  ({})\n", files.join(", ")));
            }
        }
    }
    text
}

#[test]
fn the_top_level_modules_form_a_one_way_graph() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (modules, edges) = module_edges(&src);
    assert!(modules.len() > 5, "found the modules of src/: {modules:?}");
    let found = cycles(&modules, &edges);
    assert!(
        found.is_empty(),
        "the modules of src/ import each other in a circle (docs/ARCHITECTURE.md, \"Layers\"):\n{}",
        describe(&found, &edges)
    );
}

#[test]
fn the_scanner_sees_paths_and_skips_comments_strings_and_tests() {
    let code = code_only(
        "use crate::{config::{A, B}, error::Result};\n\
         // crate::report in a comment\n\
         let s = \"crate::run in a string\";\n\
         let c = '{';\n\
         fn f() { crate::time::today(); $crate::log::x(); }\n\
         #[cfg(test)]\n\
         mod tests { use crate::run::load; }\n",
    );
    let found = crate_paths(&without_test_items(&code));
    let expected: BTreeSet<String> = ["config", "error", "time"].map(String::from).into();
    assert_eq!(found, expected);
}

#[test]
fn a_cycle_is_found_and_named() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let mut edges = Edges::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        edges
            .entry((from.into(), to.into()))
            .or_default()
            .insert(format!("{from}.rs"));
    }
    let found = cycles(&modules, &edges);
    assert_eq!(found, vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    let text = describe(&found, &edges);
    assert!(text.contains("c -> a  (c.rs)"), "{text}");
    assert!(!text.contains("c -> d"), "{text}");
}
