//! `--fix` and `--in-place`: the fixes `pod_security_manifests::fixes` places, written to files.

pub use pod_security_manifests::fixes::{Insertion, apply, dotted, insertions};

/// Where `--fix` writes.
pub enum FixTarget<'p> {
    /// The inputs themselves (`--in-place`).
    InPlace,
    /// Copies under a folder, at the inputs' paths (`--fix DIR`).
    Folder(&'p std::path::Path),
}

/// What `--fix` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FixSummary {
    pub objects_fixed: usize,
    pub files_written: usize,
    /// `file:line` of objects with a fix that could not be written into their text.
    pub not_placed: Vec<String>,
}

/// The fixes of one input placed in its text: each object's line and insertions (lines counted in
/// the whole file, from 0).
pub struct PlacedFixes {
    pub input: usize,
    pub text: String,
    pub objects: Vec<(u64, Vec<Insertion>)>,
}

/// Places the fixes of `outcomes` in the text of the inputs they came from; the objects whose fix
/// cannot be placed are named `file:line`.
pub fn place_fixes(
    outcomes: &[super::Outcome],
    inputs: &[super::manifests::Input],
) -> anyhow::Result<(Vec<PlacedFixes>, Vec<String>)> {
    use super::manifests::{DocumentSplitter, Input};
    use anyhow::Context as _;

    let mut placed = Vec::new();
    let mut not_placed = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let name = input.name();
        let fixes: Vec<(u64, &serde_json::Value)> = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                super::Outcome::Checked {
                    location,
                    fix: Some(fix),
                    ..
                } if location.file == name => Some((location.line, fix)),
                _ => None,
            })
            .collect();
        if fixes.is_empty() {
            continue;
        }
        let text = match input {
            Input::File(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {} again to fix it", path.display()))?,
            Input::Text(_, text) => text.to_string(),
            Input::Stdin(_) => anyhow::bail!("standard input was not kept: it cannot be fixed"),
        };
        let mut splitter = DocumentSplitter::new(std::io::Cursor::new(text.as_bytes()));
        let mut objects = Vec::new();
        while let Some(document) = splitter.next_document()? {
            let first = document.first_line;
            let last = first + document.text.lines().count() as u64;
            let here: Vec<&(u64, &serde_json::Value)> = fixes
                .iter()
                .filter(|(line, _)| (first..last).contains(line))
                .collect();
            let [(line, patch)] = here.as_slice() else {
                // Several objects in one document (a List): their items are not placed.
                not_placed.extend(here.iter().map(|(line, _)| format!("{name}:{line}")));
                continue;
            };
            match patched_document(&document.text, patch) {
                Some(insertions) => objects.push((
                    *line,
                    insertions
                        .into_iter()
                        .map(|insertion| Insertion {
                            after: insertion.after + first as usize - 1,
                            text: insertion.text,
                        })
                        .collect(),
                )),
                None => not_placed.push(format!("{name}:{line}")),
            }
        }
        if !objects.is_empty() {
            placed.push(PlacedFixes {
                input: index,
                text,
                objects,
            });
        }
    }
    Ok((placed, not_placed))
}

/// Writes placed fixes: each fixed object's YAML gets the lines its fix adds, and nothing else in
/// the file changes (comments, key order, the other documents).
pub fn write_fixes(
    placed: &[PlacedFixes],
    not_placed: Vec<String>,
    inputs: &[super::manifests::Input],
    target: FixTarget,
) -> anyhow::Result<FixSummary> {
    use super::manifests::Input;
    use anyhow::Context as _;

    let mut summary = FixSummary {
        not_placed,
        ..FixSummary::default()
    };
    for file in placed {
        let input = &inputs[file.input];
        let all: Vec<Insertion> = file
            .objects
            .iter()
            .flat_map(|(_, insertions)| insertions.iter().cloned())
            .collect();
        let fixed = apply(&file.text, &all);
        let path = match (&target, input) {
            (FixTarget::InPlace, Input::File(path)) => path.clone(),
            (FixTarget::InPlace, _) => {
                anyhow::bail!("--in-place cannot fix standard input; use --fix DIR")
            }
            (FixTarget::Folder(folder), Input::File(path)) => folder.join(relative(path)),
            (FixTarget::Folder(folder), _) => folder.join(input.name()),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, fixed).with_context(|| format!("cannot write {}", path.display()))?;
        summary.objects_fixed += file.objects.len();
        summary.files_written += 1;
    }
    Ok(summary)
}

/// The insertions for one document, checked against the patch applied to the object it holds.
fn patched_document(document: &str, patch: &serde_json::Value) -> Option<Vec<Insertion>> {
    let mut expected = crate::yaml::parse(document).ok()??.value;
    let operations: json_patch::Patch = serde_json::from_value(patch.clone()).ok()?;
    json_patch::patch(&mut expected, &operations).ok()?;
    pod_security_manifests::fixes::fixed_document(document, patch, &expected)
}

/// A path as given, without its root or `..`, to place a copy under a folder.
fn relative(path: &std::path::Path) -> std::path::PathBuf {
    path.components()
        .filter(|component| matches!(component, std::path::Component::Normal(_)))
        .collect()
}
