//! Manifests as teams write them: multi-document YAML and JSON, `List` kinds, the comments
//! `helm template` writes. Each document is split off at its markers and parsed on its own, so
//! memory is bounded by the largest document, and every object keeps the line it starts at.

use std::io::BufRead;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::yaml::{self, ParsedDocument};

/// Where something was found: a file (`-` for standard input) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u64,
}

/// A Kubernetes object read from the input.
#[derive(Debug, Clone)]
pub struct ManifestObject {
    pub location: Location,
    pub object: Value,
    /// The `# Source: chart/templates/x.yaml` comment `helm template` writes before each document.
    pub helm_source: Option<String>,
    /// Where the object is in its document, as a JSON pointer: `""`, or a `List`'s `/items/N`.
    pub pointer: String,
}

/// What a document could not be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ProblemKind {
    /// Not valid YAML or JSON, or a file or folder that cannot be read: exit code 2.
    Unreadable,
    /// Valid YAML, but not a Kubernetes object (no `apiVersion` or `kind`): exit code 2 too, since
    /// `kubectl apply` would refuse it and nothing in it was checked.
    NotAnObject,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub location: Location,
    pub kind: ProblemKind,
    pub message: String,
}

/// One item of the input, in input order.
#[derive(Debug, Clone)]
pub enum Item {
    Object(ManifestObject),
    Problem(Problem),
}

/// Splits a stream of YAML documents (JSON is YAML too) separated by `---` lines.
pub fn split_stream(
    file: &str,
    reader: impl BufRead,
    emit: &mut dyn FnMut(Result<RawDocument, Problem>),
) {
    let mut documents = DocumentSplitter::new(reader);
    loop {
        match documents.next_document() {
            Ok(Some(document)) => emit(Ok(document)),
            Ok(None) => return,
            Err(error) => {
                emit(Err(Problem {
                    location: Location {
                        file: file.to_string(),
                        line: documents.line,
                    },
                    kind: ProblemKind::Unreadable,
                    message: format!("cannot read: {error}"),
                }));
                return;
            }
        }
    }
}

/// A document's text and the line of the input it starts on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RawDocument {
    /// The 1-based input line of the document's first line of text.
    pub first_line: u64,
    pub text: String,
}

/// Splits a YAML stream into its documents at the markers YAML gives them: a line that starts with
/// `---` (the rest of the line belongs to the next document) or `...`. The YAML spec forbids
/// either at the start of a line inside a document, so the split needs no parser, and a document is
/// parsed only when it is whole.
pub struct DocumentSplitter<R> {
    reader: R,
    /// Lines read so far.
    line: u64,
    done: bool,
    buffer: String,
}

impl<R: BufRead> DocumentSplitter<R> {
    pub fn new(reader: R) -> Self {
        DocumentSplitter {
            reader,
            line: 0,
            done: false,
            buffer: String::new(),
        }
    }

    /// The next document, empty ones included; `None` at the end of the stream.
    pub fn next_document(&mut self) -> std::io::Result<Option<RawDocument>> {
        if self.done {
            return Ok(None);
        }
        let mut document = RawDocument {
            first_line: self.line + 1,
            text: String::new(),
        };
        loop {
            self.buffer.clear();
            if self.reader.read_line(&mut self.buffer)? == 0 {
                self.done = true;
                return Ok(Some(document));
            }
            self.line += 1;
            let mut line = self.buffer.trim_end_matches(['\n', '\r']);
            if self.line == 1 {
                line = line.strip_prefix('\u{feff}').unwrap_or(line);
            }
            if let Some(rest) = marker_rest(line, "---") {
                // `--- {…}` or `--- # comment`: the rest starts the next document, at this line.
                let next_text = if rest.trim().is_empty() {
                    String::new()
                } else {
                    format!("{}{rest}\n", " ".repeat(3))
                };
                let next_first = if next_text.is_empty() {
                    self.line + 1
                } else {
                    self.line
                };
                let finished = std::mem::replace(
                    &mut document,
                    RawDocument {
                        first_line: next_first,
                        text: next_text,
                    },
                );
                // `---` opening the stream (or following `...`) ends no document.
                if !finished.text.is_empty() {
                    return Ok(Some(finished));
                }
                continue;
            }
            if marker_rest(line, "...").is_some() {
                let finished = std::mem::replace(
                    &mut document,
                    RawDocument {
                        first_line: self.line + 1,
                        text: String::new(),
                    },
                );
                if !finished.text.is_empty() {
                    return Ok(Some(finished));
                }
                continue;
            }
            document.text.push_str(line);
            document.text.push('\n');
        }
    }
}

/// The rest of `line` after a document marker at its start, if it is one: the marker must be
/// followed by the end of the line or white space.
fn marker_rest<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(marker)?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

/// Whether a document holds nothing but comments and blank lines (`helm template` writes such
/// documents for templates that render nothing).
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim_start();
        line.is_empty() || line.starts_with('#')
    })
}

/// The template `helm template` names in a `# Source:` comment before the document's content.
fn helm_source(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .take_while(|line| line.is_empty() || line.starts_with('#'))
        .find_map(|line| line.strip_prefix("# Source:"))
        .map(|source| source.trim().to_string())
}

/// The items of one document: nothing for an empty one, its object, the objects of a `List`, or
/// the problem that makes it no object.
pub fn read_document(file: &str, document: &RawDocument, emit: &mut dyn FnMut(Item)) {
    if !is_blank(&document.text) {
        read_parsed_document(file, document, yaml::parse(&document.text), emit);
    }
}

/// [`read_document`] for a document its caller has parsed (with its lines, say).
pub fn read_parsed_document(
    file: &str,
    document: &RawDocument,
    parsed: Result<Option<ParsedDocument>, yaml::YamlError>,
    emit: &mut dyn FnMut(Item),
) {
    if is_blank(&document.text) {
        return;
    }
    let at = |line: u64| Location {
        file: file.to_string(),
        // Lines within the document count from 1; the document starts at `first_line`.
        line: document.first_line + line.max(1) - 1,
    };
    let parsed = match parsed {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return, // `null` or `~`: an empty document.
        Err(error) => {
            emit(Item::Problem(Problem {
                location: at(error.line),
                kind: ProblemKind::Unreadable,
                message: format!("not valid YAML: {}", error.message),
            }));
            return;
        }
    };
    let ParsedDocument {
        line,
        value,
        item_lines,
    } = parsed;
    let helm_source = helm_source(&document.text);
    let location = at(line);
    let Value::Object(fields) = value else {
        emit(not_an_object(location, "the document is not a mapping"));
        return;
    };
    let (Some(api_version), Some(kind)) = (
        string_field(&fields, "apiVersion"),
        string_field(&fields, "kind"),
    ) else {
        emit(not_an_object(location, "it has no apiVersion or no kind"));
        return;
    };
    if !is_list_kind(&kind) {
        emit(Item::Object(ManifestObject {
            location,
            object: Value::Object(fields),
            helm_source,
            pointer: String::new(),
        }));
        return;
    }
    let mut fields = fields;
    let items = match fields.remove("items") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            emit(not_an_object(
                location,
                &format!("the {kind}'s items are not a list"),
            ));
            return;
        }
    };
    // A typed list (`PodList`) may leave its items' apiVersion and kind out: they are the list's.
    let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
    for (index, item) in items.into_iter().enumerate() {
        let location = at(item_lines.get(index).copied().unwrap_or(line));
        let Value::Object(mut item) = item else {
            emit(not_an_object(
                location,
                &format!("{kind} item {index} is not a mapping"),
            ));
            continue;
        };
        if let Some(item_kind) = item_kind {
            item.entry("apiVersion")
                .or_insert_with(|| Value::String(api_version.clone()));
            item.entry("kind")
                .or_insert_with(|| Value::String(item_kind.to_string()));
        }
        if string_field(&item, "apiVersion").is_none() || string_field(&item, "kind").is_none() {
            emit(not_an_object(
                location,
                &format!("{kind} item {index} has no apiVersion or no kind"),
            ));
            continue;
        }
        emit(Item::Object(ManifestObject {
            location,
            object: Value::Object(item),
            helm_source: helm_source.clone(),
            pointer: format!("/items/{index}"),
        }));
    }
}

/// `List`, and the typed lists the API returns (`PodList`, `DeploymentList`, …).
pub fn is_list_kind(kind: &str) -> bool {
    kind.ends_with("List")
}

fn string_field(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

fn not_an_object(location: Location, why: &str) -> Item {
    Item::Problem(Problem {
        location,
        kind: ProblemKind::NotAnObject,
        message: format!("not a Kubernetes object: {why}"),
    })
}

#[cfg(test)]
mod tests;
