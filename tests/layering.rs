//! The layers import in one direction only: `domain` <- `engine` <- front ends (`tui`, `cli`),
//! which never import each other. This reads every source file and fails on an import that runs
//! the other way, naming the file and line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each top-level module of the crate may import (besides itself).
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("engine", &["domain"]),
    ("present", &["domain", "engine"]),
    ("config", &["present"]),
    ("fixtures", &["domain", "engine"]),
    ("sandbox", &["domain"]),
    ("startup", &["config", "domain", "engine", "sandbox"]),
    ("logging", &[]),
    (
        "tui",
        &[
            "config", "domain", "engine", "fixtures", "logging", "present", "startup",
        ],
    ),
    (
        "cli",
        &[
            "config", "domain", "engine", "fixtures", "logging", "present", "sandbox", "startup",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::x` paths in code (comments left out), with their line numbers.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `$crate::` in a macro names this crate's root too; a bare `crate::` (in a string)
            // names no module.
            if !name.is_empty() {
                found.push((i + 1, name));
            }
            rest = tail;
        }
    }
    found
}

#[test]
fn no_import_runs_against_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    let mut seen_layers = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .expect("a top-level name");
        if top == "lib" || top == "main" {
            continue;
        }
        let Some((_, allowed)) = ALLOWED.iter().find(|(l, _)| *l == top) else {
            problems.push(format!(
                "{}: module `{top}` has no layer rule",
                rel.display()
            ));
            continue;
        };
        seen_layers.insert(top.clone());
        let text = std::fs::read_to_string(file).expect("read source");
        for (line, name) in crate_paths(&text) {
            if name != top && !allowed.contains(&name.as_str()) {
                problems.push(format!(
                    "{}:{line}: `{top}` imports `crate::{name}` (allowed: {})",
                    rel.display(),
                    allowed.join(", ")
                ));
            }
        }
    }
    assert!(
        seen_layers.contains("domain") && seen_layers.contains("tui"),
        "the scan found no layers: {seen_layers:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scan_sees_a_wrong_import() {
    let text = "use crate::tui::panes::Access;\n// crate::cli in a comment is fine\n";
    assert_eq!(crate_paths(text), vec![(1, "tui".to_string())]);
}
