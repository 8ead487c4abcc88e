//! The documentation stands on its own: every `docs/FILE.md` or
//! `docs/FILE.md#anchor` that the code, the tests or the documents cite
//! names a file of the repository and a heading in it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file with one of `extensions` below `dir`.
fn files(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, extensions, out);
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
}

/// A heading's anchor as GitHub writes it: lower case, spaces to `-`,
/// punctuation other than `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            let heading = line.trim_start_matches('#');
            let heading = heading.replace('`', "");
            found.insert(anchor(&heading));
        }
    }
    found
}

/// `docs/NAME.md` and `docs/NAME.md#anchor` cited in `text`; in a document
/// of docs/ also `(NAME.md#anchor)` links to a sibling.
fn citations(text: &str, in_docs: bool) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices(".md") {
        // The file name: letters, digits, `_` and `-` before `.md`.
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let name = &text[start..at];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        let in_docs_dir = text[..start].ends_with("docs/");
        let sibling = in_docs && start > 0 && bytes[start - 1] == b'(';
        if !in_docs_dir && !sibling {
            continue;
        }
        let rest = &text[at + 3..];
        let anchor = rest.strip_prefix('#').map(|r| {
            r.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        });
        found.push((format!("{name}.md"), anchor.filter(|a| !a.is_empty())));
    }
    found
}

#[test]
fn every_cited_document_and_heading_exists() {
    let root = repo();
    let mut sources = Vec::new();
    for dir in ["src", "tests", "bench", "docs"] {
        files(
            &root.join(dir),
            &["rs", "md", "sh", "py", "yaml"],
            &mut sources,
        );
    }
    sources.push(root.join("README.md"));
    sources.push(root.join(".ci/run"));
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in sources
        .iter()
        .filter(|p| !p.ends_with("tests/doc_links.rs"))
    {
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let in_docs = path.parent() == Some(&root.join("docs"));
        for (name, wanted) in citations(&text, in_docs) {
            checked += 1;
            let shown = path.strip_prefix(&root).unwrap_or(path).display();
            let Ok(doc) = fs::read_to_string(root.join("docs").join(&name)) else {
                problems.push(format!("{shown}: docs/{name} does not exist"));
                continue;
            };
            if let Some(wanted) = wanted {
                if !anchors(&doc).contains(&wanted) {
                    problems.push(format!("{shown}: docs/{name} has no heading #{wanted}"));
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(checked > 100, "found only {checked} citations");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_anchor_rule_is_githubs() {
    assert_eq!(anchor("Counts per account"), "counts-per-account");
    assert_eq!(anchor("churn_rate"), "churn_rate");
    assert_eq!(
        anchor("Cochran–Mantel–Haenszel cross-check"),
        "cochranmantelhaenszel-cross-check"
    );
    assert_eq!(anchor("_manifest.json"), "_manifestjson");
    let found = citations(
        "see docs/METRICS.md#churn_rate and docs/OPERATING.md.",
        false,
    );
    assert_eq!(
        found,
        [
            ("METRICS.md".to_string(), Some("churn_rate".to_string())),
            ("OPERATING.md".to_string(), None)
        ]
    );
}
