//! The README's layout table matches the tree: every path it names exists, and every folder of the
//! rules crate and of the harness has a row, so a newcomer reading the table finds every room.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Not `common::workspace_file`: `mod common` links the harness and wasmtime, which this test does
/// not need.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The paths in the first column of the table under `| path | what it is |`. A name without a
/// folder of its own (`settings/`, `strict.rs`) after the first in its row lives beside the first.
fn layout_paths(readme: &str) -> Vec<String> {
    let rows = readme
        .lines()
        .skip_while(|line| !line.starts_with("| path | what it is |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'));
    let mut paths = Vec::new();
    for row in rows {
        let first_cell = row.split('|').nth(1).expect("a table row has cells");
        let names: Vec<&str> = first_cell.split('`').skip(1).step_by(2).collect();
        let Some((first, rest)) = names.split_first() else {
            panic!("a layout row without a path: {row}");
        };
        let folder = Path::new(first.trim_end_matches('/'))
            .parent()
            .unwrap_or(Path::new(""));
        paths.push(first.to_string());
        for name in rest {
            if name.trim_end_matches('/').contains('/') {
                paths.push(name.to_string());
            } else {
                paths.push(folder.join(name).to_string_lossy().into_owned());
            }
        }
    }
    paths
}

#[test]
fn every_path_in_the_layout_table_exists_and_every_source_folder_has_a_row() {
    let root = workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let paths = layout_paths(&readme);
    assert!(
        paths.len() > 20,
        "the layout table was not found in README.md: {paths:?}"
    );

    let missing: Vec<&String> = paths.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "README.md's layout table names paths that do not exist: {missing:?}"
    );

    let listed: BTreeSet<&str> = paths.iter().map(|p| p.trim_end_matches('/')).collect();
    let mut unlisted = Vec::new();
    for source in ["policy/rules/src", "host-test/src"] {
        for entry in std::fs::read_dir(root.join(source)).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                let folder = format!("{source}/{}", entry.file_name().to_string_lossy());
                if !listed.contains(folder.as_str()) {
                    unlisted.push(folder);
                }
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "folders without a row in README.md's layout table: {unlisted:?}"
    );
}

#[test]
fn a_name_after_the_first_in_a_row_lives_beside_it() {
    let readme = "| path | what it is |\n|---|---|\n\
        | `a/b/c.rs`, `d/`, `e/f.rs` | x |\n| `g/` | y |\n\nafter\n| `h` | z |\n";
    assert_eq!(layout_paths(readme), ["a/b/c.rs", "a/b/d/", "e/f.rs", "g/"]);
}
