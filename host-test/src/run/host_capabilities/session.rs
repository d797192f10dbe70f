//! kwctl's host-capabilities session files (`--record-host-capabilities-interactions` and
//! `--replay-host-capabilities-interactions`; kwctl's `callback_handler/proxy.rs`): a YAML list of
//! exchanges, each the request as a YAML document tagged with policy-evaluator's variant name and
//! the response, the payload as the JSON text the guest got, or the error message.
//!
//! ```yaml
//! - type: Exchange
//!   request: |
//!     !KubernetesGetResource
//!     api_version: v1
//!     kind: Namespace
//!     name: team-a
//!     namespace: null
//!     disable_cache: false
//!   response:
//!     type: Success
//!     payload: '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}}'
//! ```
//!
//! Replay answers strictly in order, as kwctl: each call takes the next exchange, whose request
//! must equal the call's.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::Value;

use super::KubernetesRequest;

/// One recorded call and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub request: KubernetesRequest,
    pub response: Result<String, String>,
}

impl Exchange {
    pub fn new(request: &KubernetesRequest, answer: &Result<Vec<u8>, String>) -> Self {
        Exchange {
            request: request.clone(),
            response: match answer {
                Ok(payload) => Ok(String::from_utf8_lossy(payload).into_owned()),
                Err(error) => Err(error.clone()),
            },
        }
    }
}

/// The exchanges of a session file still to be replayed.
pub struct Replay {
    exchanges: VecDeque<Exchange>,
}

impl Replay {
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the session {}", path.display()))?;
        let exchanges =
            read(&text).with_context(|| format!("cannot read the session {}", path.display()))?;
        Ok(Replay {
            exchanges: exchanges.into(),
        })
    }

    /// The next exchange's answer; the exchange is used up even when its request differs.
    pub fn answer(&mut self, request: &KubernetesRequest) -> Result<Vec<u8>, String> {
        let exchange = self
            .exchanges
            .pop_front()
            .ok_or("the list of recorded responses is empty")?;
        if exchange.request != *request {
            return Err(format!(
                "Replay error: unexpected request. Was expecting {:?}, got {:?} instead",
                exchange.request, request
            ));
        }
        exchange.response.map(String::into_bytes)
    }

    pub fn remaining(&self) -> usize {
        self.exchanges.len()
    }
}

/// Reads a session file's text.
pub fn read(text: &str) -> anyhow::Result<Vec<Exchange>> {
    let document: Value = crate::yaml::from_str(text)?;
    let Value::Array(entries) = document else {
        bail!("a session is a list of exchanges");
    };
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            read_exchange(entry).with_context(|| format!("exchange {}", index + 1))
        })
        .collect()
}

fn read_exchange(entry: &Value) -> anyhow::Result<Exchange> {
    let request = entry
        .get("request")
        .and_then(Value::as_str)
        .context("no request (a string holding the request as YAML)")?;
    let request = read_request(request)?;
    let response = entry.get("response").context("no response")?;
    let text = |field: &str| {
        response
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("a response of this type needs a string {field}"))
    };
    let response = match response.get("type").and_then(Value::as_str) {
        Some("Success") => Ok(text("payload")?),
        Some("Error") => Err(text("message")?),
        other => bail!("response type {other:?}: expected \"Success\" or \"Error\""),
    };
    Ok(Exchange { request, response })
}

/// `!KubernetesGetResource` and the fields as YAML, as serde_yaml writes policy-evaluator's enum.
fn read_request(text: &str) -> anyhow::Result<KubernetesRequest> {
    let text = text.trim_start();
    let (tag, fields) = text
        .strip_prefix('!')
        .and_then(|rest| rest.split_once(char::is_whitespace))
        .context("a request starts with its variant as a YAML tag (!KubernetesGetResource)")?;
    let fields: Value = crate::yaml::from_str(fields)?;
    let field = |name: &str| -> anyhow::Result<Option<String>> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => bail!("{name}: expected a string, found {other}"),
        }
    };
    let required = |name: &str| -> anyhow::Result<String> {
        field(name)?.with_context(|| format!("{tag} needs {name}"))
    };
    Ok(match tag {
        "KubernetesGetResource" => KubernetesRequest::KubernetesGetResource {
            api_version: required("api_version")?,
            kind: required("kind")?,
            name: required("name")?,
            namespace: field("namespace")?,
            disable_cache: fields
                .get("disable_cache")
                .and_then(Value::as_bool)
                .context("KubernetesGetResource needs disable_cache (true or false)")?,
        },
        "KubernetesListResourceNamespace" => KubernetesRequest::KubernetesListResourceNamespace {
            api_version: required("api_version")?,
            kind: required("kind")?,
            namespace: required("namespace")?,
            label_selector: field("label_selector")?,
            field_selector: field("field_selector")?,
        },
        "KubernetesListResourceAll" => KubernetesRequest::KubernetesListResourceAll {
            api_version: required("api_version")?,
            kind: required("kind")?,
            label_selector: field("label_selector")?,
            field_selector: field("field_selector")?,
        },
        other => bail!(
            "request {other}: host-test answers KubernetesGetResource, \
             KubernetesListResourceNamespace and KubernetesListResourceAll"
        ),
    })
}

/// Writes exchanges as kwctl writes them.
pub fn write(exchanges: &[Exchange]) -> String {
    let mut out = String::new();
    for exchange in exchanges {
        out.push_str("- type: Exchange\n  request: |\n");
        for line in request_lines(&exchange.request) {
            let _ = writeln!(out, "    {line}");
        }
        out.push_str("  response:\n");
        match &exchange.response {
            Ok(payload) => {
                let _ = writeln!(out, "    type: Success\n    payload: {}", quoted(payload));
            }
            Err(message) => {
                let _ = writeln!(out, "    type: Error\n    message: {}", quoted(message));
            }
        }
    }
    if exchanges.is_empty() {
        out.push_str("[]\n");
    }
    out
}

fn request_lines(request: &KubernetesRequest) -> Vec<String> {
    let text = |value: &str| scalar(Some(value));
    match request {
        KubernetesRequest::KubernetesGetResource {
            api_version,
            kind,
            name,
            namespace,
            disable_cache,
        } => vec![
            "!KubernetesGetResource".to_string(),
            format!("api_version: {}", text(api_version)),
            format!("kind: {}", text(kind)),
            format!("name: {}", text(name)),
            format!("namespace: {}", scalar(namespace.as_deref())),
            format!("disable_cache: {disable_cache}"),
        ],
        KubernetesRequest::KubernetesListResourceNamespace {
            api_version,
            kind,
            namespace,
            label_selector,
            field_selector,
        } => vec![
            "!KubernetesListResourceNamespace".to_string(),
            format!("api_version: {}", text(api_version)),
            format!("kind: {}", text(kind)),
            format!("namespace: {}", text(namespace)),
            format!("label_selector: {}", scalar(label_selector.as_deref())),
            format!("field_selector: {}", scalar(field_selector.as_deref())),
        ],
        KubernetesRequest::KubernetesListResourceAll {
            api_version,
            kind,
            label_selector,
            field_selector,
        } => vec![
            "!KubernetesListResourceAll".to_string(),
            format!("api_version: {}", text(api_version)),
            format!("kind: {}", text(kind)),
            format!("label_selector: {}", scalar(label_selector.as_deref())),
            format!("field_selector: {}", scalar(field_selector.as_deref())),
        ],
    }
}

/// A string as a plain YAML scalar when it reads back as the same string, else single-quoted.
fn scalar(value: Option<&str>) -> String {
    let Some(value) = value else {
        return "null".to_string();
    };
    let plain = value
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        value.to_string()
    } else {
        quoted(value)
    }
}

/// Single-quoted, or double-quoted with escapes when it holds line breaks or other control
/// characters (which a single-quoted scalar would fold).
fn quoted(value: &str) -> String {
    if value.chars().any(char::is_control) {
        return serde_json::Value::from(value).to_string();
    }
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests;
