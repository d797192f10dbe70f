//! Reading manifests as teams have them: files and folders (recursively) and standard input,
//! split into documents and objects by `pod_security_manifests::documents`.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

pub use pod_security_manifests::documents::*;

/// Where manifests come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, with the file name reports give it.
    Stdin(String),
    File(PathBuf),
    /// Text already read (standard input, when it must be read twice), with its name.
    Text(String, std::sync::Arc<str>),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Stdin(name) | Input::Text(name, _) => name.clone(),
            Input::File(path) => path.display().to_string(),
        }
    }
}

/// The inputs the arguments name: `-` is standard input, a file is itself, a folder is every
/// `*.yaml`, `*.yml` and `*.json` below it, by name. A folder reached twice (a symlink loop) and
/// anything unreadable are reported as problems; the rest is still read.
pub fn inputs(arguments: &[PathBuf], stdin_name: &str) -> (Vec<Input>, Vec<Problem>) {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    for argument in arguments {
        if argument.as_os_str() == "-" {
            inputs.push(Input::Stdin(stdin_name.to_string()));
        } else if argument.is_dir() {
            let mut visited = BTreeSet::new();
            walk(argument, &mut visited, &mut inputs, &mut problems);
        } else {
            // Files named on the command line are read whatever their extension; a missing one is
            // reported when it is opened.
            inputs.push(Input::File(argument.clone()));
        }
    }
    (inputs, problems)
}

fn is_manifest_file(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| matches!(extension, "yaml" | "yml" | "json"))
}

fn walk(
    folder: &Path,
    visited: &mut BTreeSet<PathBuf>,
    inputs: &mut Vec<Input>,
    problems: &mut Vec<Problem>,
) {
    let problem = |message: String| Problem {
        location: Location {
            file: folder.display().to_string(),
            line: 0,
        },
        kind: ProblemKind::Unreadable,
        message,
    };
    match folder.canonicalize() {
        Ok(real) if !visited.insert(real.clone()) => {
            problems.push(problem(format!(
                "symlink loop: {} was already read as {}",
                folder.display(),
                real.display()
            )));
            return;
        }
        Ok(_) => {}
        Err(error) => {
            problems.push(problem(format!("cannot read the folder: {error}")));
            return;
        }
    }
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(problem(format!("cannot read the folder: {error}")));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(error) => problems.push(problem(format!("cannot list the folder: {error}"))),
        }
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, visited, inputs, problems);
        } else if is_manifest_file(&path) {
            // A broken symlink is reported when it cannot be opened.
            inputs.push(Input::File(path));
        }
    }
}

/// Splits `input` into its documents, handing each to `emit` as soon as it is whole (or the
/// problem that stopped the reading). Parsing is left to [`read_document`], so that workers can
/// parse while this reads on.
pub fn split_input(input: &Input, emit: &mut dyn FnMut(Result<RawDocument, Problem>)) {
    let name = input.name();
    let reader: Box<dyn Read> = match input {
        Input::Stdin(_) => Box::new(std::io::stdin().lock()),
        Input::Text(_, text) => Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        Input::File(path) => match File::open(path) {
            Ok(file) => Box::new(file),
            Err(error) => {
                emit(Err(Problem {
                    location: Location {
                        file: name,
                        line: 0,
                    },
                    kind: ProblemKind::Unreadable,
                    message: format!("cannot read the file: {error}"),
                }));
                return;
            }
        },
    };
    split_stream(&name, BufReader::new(reader), emit);
}

#[cfg(test)]
mod tests;
