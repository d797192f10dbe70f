//! The fixes written into the manifest's own YAML, by the code `host-test check --fix` uses.

use pod_security_manifests::{fixes, yaml};
use serde::Serialize;
use serde_json::{Value, json};

use super::document::Document;
use super::{LineMessage, ObjectResult, evaluate_documents};

/// The manifest with what the secure defaults fill in written into its own YAML text, as
/// `host-test check --fix` writes it: the lines to add, nothing else changed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fixed {
    pub manifest: String,
    /// The lines of the objects fixed.
    pub fixed: Vec<u64>,
    /// The lines of objects with defaults that cannot be written into their text (flow style,
    /// JSON, an AdmissionReview): their fields are listed on the page instead.
    pub not_placed: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<LineMessage>,
}

pub fn fix(manifest: &str, settings: &str, options: &str) -> Fixed {
    let (evaluation, documents) = evaluate_documents(manifest, settings, options);
    let mut lines: Vec<String> = manifest.split_inclusive('\n').map(str::to_string).collect();
    let (mut fixed, mut not_placed) = (Vec::new(), Vec::new());
    // From the last document up, so that the earlier ones keep their line numbers.
    for (index, document) in documents.iter().enumerate().rev() {
        let objects: Vec<&ObjectResult> = evaluation
            .objects
            .iter()
            .filter(|object| object.document == index && object.mutated.is_some())
            .collect();
        if objects.is_empty() {
            continue;
        }
        let object_lines = objects.iter().map(|object| object.line);
        match fixed_text(document, &objects, &lines) {
            Some(text) => {
                let start = document.first_line as usize - 1;
                let end = start + document.text.lines().count();
                lines.splice(start..end, text.split_inclusive('\n').map(str::to_string));
                fixed.extend(object_lines);
            }
            None => not_placed.extend(object_lines),
        }
    }
    fixed.sort_unstable();
    not_placed.sort_unstable();
    Fixed {
        manifest: lines.concat(),
        fixed,
        not_placed,
        settings_error: evaluation.settings_error,
    }
}

/// The document's text with its objects' defaults written in, or `None` when they cannot be placed
/// (or its text is not the input's lines as they are: CRLF, a `--- {…}` marker line).
fn fixed_text(document: &Document, objects: &[&ObjectResult], lines: &[String]) -> Option<String> {
    let start = document.first_line as usize - 1;
    let original = lines.get(start..start + document.text.lines().count())?;
    if original.concat().trim_end_matches('\n') != document.text.trim_end_matches('\n') {
        return None;
    }
    let mut expected = yaml::parse(&document.text).ok()??.value;
    let mut patch = Vec::new();
    for object in objects {
        for field in &object.defaulted {
            patch.push(json!({"op": "add", "path": format!("{}{}", object.pointer, field.pointer), "value": field.value}));
        }
        *expected.pointer_mut(&object.pointer)? = object.mutated.clone()?;
    }
    let insertions = fixes::fixed_document(&document.text, &Value::Array(patch), &expected)?;
    let mut text = fixes::apply(&document.text, &insertions);
    if !original.last()?.ends_with('\n') {
        text.truncate(text.trim_end_matches('\n').len());
    }
    Some(text)
}
