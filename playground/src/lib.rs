//! The browser playground's bindings: thin wasm-bindgen functions over [`evaluate`], which reads
//! manifests as `host-test check` does (`pod-security-manifests`) and decides with the policy's own
//! rules (`pod-security-rules`), so the page shows exactly the module's verdicts and messages.
//! Everything crosses the boundary as JSON text: one call per edit, no object graph to keep in sync.

mod cluster;
pub mod evaluate;

use wasm_bindgen::prelude::wasm_bindgen;

/// Evaluates `manifest` (multi-document YAML or JSON, or an AdmissionReview) with `settings` (YAML or
/// JSON; empty for the defaults) and `options` (JSON: `level`, `version`, `namespace`, `user`,
/// `groups`); the answer is [`evaluate::Evaluation`] as JSON.
#[wasm_bindgen]
pub fn evaluate(manifest: &str, settings: &str, options: &str) -> String {
    evaluate::to_json(&evaluate::evaluate(manifest, settings, options))
}

/// The manifest with what the secure defaults fill in written into its YAML (the settings'
/// `secureDefaults`), as JSON ([`evaluate::Fixed`]).
#[wasm_bindgen]
pub fn fix(manifest: &str, settings: &str, options: &str) -> String {
    evaluate::to_json(&evaluate::fix(manifest, settings, options))
}

/// Whether `settings` are valid, as the module's `validate_settings` says, as JSON
/// (`{"valid": false, "message": …, "line": …}`).
#[wasm_bindgen]
pub fn validate_settings(settings: &str) -> String {
    evaluate::to_json(&evaluate::validate_settings(settings))
}

/// The Pod Security versions the rules know, oldest first, then `latest`, as JSON.
#[wasm_bindgen]
pub fn versions() -> String {
    evaluate::to_json(&evaluate::versions())
}
