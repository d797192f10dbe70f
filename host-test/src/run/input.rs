//! Reading admission requests and settings from JSON or YAML files, as kwctl takes them.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::run::request::check_shape;

/// Parses `text` as JSON, or else as YAML (which most JSON also is, but JSON errors read better).
pub fn parse_document(text: &str) -> anyhow::Result<Value> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(json_error) => crate::yaml::from_str(text)
            .with_context(|| format!("neither JSON ({json_error}) nor YAML")),
    }
}

/// The path that names standard input, as in kwctl's `--request-path -`.
pub const STANDARD_INPUT: &str = "-";

/// Reads and parses a JSON or YAML file, or standard input for [`STANDARD_INPUT`].
pub fn read_document(path: &Path) -> anyhow::Result<Value> {
    let text = if path == Path::new(STANDARD_INPUT) {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    parse_document(&text).with_context(|| format!("cannot parse {}", path.display()))
}

/// The AdmissionRequest in `document`: the `request` of an AdmissionReview, or the document itself
/// when it is a bare AdmissionRequest.
pub fn admission_request(document: Value) -> anyhow::Result<Value> {
    let Value::Object(mut fields) = document else {
        bail!("not an AdmissionReview or AdmissionRequest: the document is not an object");
    };
    if let Some(request) = fields.remove("request") {
        if !request.is_object() {
            bail!("the AdmissionReview's request is not an object");
        }
        return Ok(request);
    }
    // An AdmissionRequest's `kind` is a {group, version, kind} object; a bare Pod's is a string.
    let has_request_kind = fields.get("kind").is_some_and(Value::is_object);
    if has_request_kind || fields.contains_key("uid") || fields.contains_key("operation") {
        return Ok(Value::Object(fields));
    }
    bail!("not an AdmissionReview or AdmissionRequest: it has no request, uid, kind or operation")
}

/// The request files `path` names: the file itself (`-` is standard input), or every
/// `*.json`/`*.yaml`/`*.yml` file in the directory, sorted by name.
pub fn request_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .with_context(|| format!("cannot list the directory {}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let file = entry
            .with_context(|| format!("cannot list the directory {}", path.display()))?
            .path();
        let is_document = file
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| matches!(extension, "json" | "yaml" | "yml"));
        if is_document && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads the AdmissionRequest in a JSON or YAML file, and refuses it when kwctl and policy-server
/// would (see [`crate::run::request`]).
pub fn read_admission_request(path: &Path) -> anyhow::Result<Value> {
    let context = || format!("cannot take an admission request from {}", path.display());
    let request = admission_request(read_document(path)?).with_context(context)?;
    check_shape(&request)
        .context("kwctl and policy-server refuse it (policy-server with HTTP 422)")
        .with_context(context)?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_yaml_documents_parse_to_the_same_value() {
        let from_json = parse_document(r#"{"uid": "1", "kind": {"kind": "Pod"}}"#).unwrap();
        let from_yaml = parse_document("uid: '1'\nkind:\n  kind: Pod\n").unwrap();
        assert_eq!(from_json, from_yaml);
        assert!(parse_document("{ not: [json").is_err());
    }

    #[test]
    fn the_request_of_an_admission_review_is_taken() {
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "1", "operation": "CREATE"}});
        assert_eq!(
            admission_request(review).unwrap(),
            json!({"uid": "1", "operation": "CREATE"})
        );
    }

    #[test]
    fn a_bare_admission_request_is_taken_as_it_is() {
        let request = json!({"uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"}});
        assert_eq!(admission_request(request.clone()).unwrap(), request);
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(admission_request(json!({"apiVersion": "v1", "kind": "Pod"})).is_err());
        assert!(admission_request(json!([1, 2])).is_err());
        assert!(admission_request(json!({"request": "x"})).is_err());
    }
}
