//! The manifest read as `host-test check` reads it, document by document, with the line of every
//! field of each document for the editor's marks.

use pod_security_manifests::documents::{
    Item, ManifestObject, RawDocument, read_parsed_document, split_stream,
};
use pod_security_manifests::yaml::{self, lines::FieldLines, lines::line_of};

use super::LineMessage;

/// One document of the manifest: its objects, what is wrong in it, and the line of each field.
pub(super) struct Document {
    pub(super) first_line: u64,
    pub(super) text: String,
    pub(super) objects: Vec<ManifestObject>,
    pub(super) problems: Vec<(u64, String)>,
    pub(super) lines: FieldLines,
}

impl Document {
    /// The input line of a pointer within the document.
    pub(super) fn line(&self, pointer: &str) -> Option<u64> {
        line_of(&self.lines, pointer).map(|line| line.max(1) + self.first_line - 1)
    }
}

pub(super) fn read_manifest(text: &str) -> (Vec<Document>, Vec<LineMessage>) {
    let mut raw: Vec<RawDocument> = Vec::new();
    let mut problems = Vec::new();
    split_stream(
        "manifest",
        text.as_bytes(),
        &mut |document| match document {
            Ok(document) => raw.push(document),
            Err(problem) => problems.push(LineMessage {
                line: problem.location.line,
                message: problem.message,
            }),
        },
    );
    let documents = raw
        .into_iter()
        .map(|document| {
            let mut objects = Vec::new();
            let mut document_problems = Vec::new();
            // One pass gives the value and the line of every field.
            let (parsed, lines) = match yaml::lines::parse_with_lines(&document.text) {
                Ok((parsed, lines)) => (Ok(parsed), lines),
                Err(error) => (Err(error), FieldLines::new()),
            };
            read_parsed_document("manifest", &document, parsed, &mut |item| match item {
                Item::Object(object) => objects.push(object),
                Item::Problem(problem) => {
                    document_problems.push((problem.location.line, problem.message))
                }
            });
            Document {
                first_line: document.first_line,
                text: document.text,
                problems: document_problems,
                lines,
                objects,
            }
        })
        .collect();
    (documents, problems)
}
