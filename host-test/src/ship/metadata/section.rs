//! The `io.kubewarden.metadata` custom section: where policy-server reads a module's metadata,
//! and what `kwctl annotate` writes.

use std::borrow::Cow;

use anyhow::{Context as _, bail, ensure};
use wasmparser::{Encoding, Parser, Payload};

use super::{ExecutionMode, Metadata, PROTOCOL_VERSION_V1};

/// The custom section policy-server reads the metadata from.
pub const METADATA_SECTION: &str = "io.kubewarden.metadata";

/// The metadata embedded in `wasm`, read as policy-server reads it (policy-evaluator's
/// `Metadata::from_contents`): keys it does not know are ignored and the rules are not checked
/// (they are kwctl's and the controller's business, not the evaluation's), but a kubewarden-wapc
/// module must speak protocol v1. `None` when the module carries no metadata section.
pub fn read_embedded_metadata(wasm: &[u8]) -> anyhow::Result<Option<Metadata>> {
    let mut found = None;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.context("the module is not valid WebAssembly")?;
        if let Payload::CustomSection(section) = payload
            && section.name() == METADATA_SECTION
        {
            ensure!(
                found.is_none(),
                "the module has more than one {METADATA_SECTION} section"
            );
            let metadata: Metadata = serde_json::from_slice(section.data())
                .with_context(|| format!("the {METADATA_SECTION} section is malformed"))?;
            if metadata.execution_mode == ExecutionMode::KubewardenWapc {
                match metadata.protocol_version.as_deref() {
                    Some(PROTOCOL_VERSION_V1) => {}
                    Some(other) => bail!(
                        "the {METADATA_SECTION} section is malformed: protocolVersion {other:?} \
                         is not one kubewarden-wapc knows (v1)"
                    ),
                    None => bail!(
                        "the {METADATA_SECTION} section is malformed: protocolVersion is missing"
                    ),
                }
            }
            found = Some(metadata);
        }
    }
    Ok(found)
}

/// `wasm` with `metadata` as its only `io.kubewarden.metadata` section, the last one; every other
/// section is copied byte for byte.
pub fn with_metadata_section(wasm: &[u8], metadata: &Metadata) -> anyhow::Result<Vec<u8>> {
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.context("the module is not valid WebAssembly")?;
        match &payload {
            Payload::Version { encoding, .. } if *encoding != Encoding::Module => {
                bail!("the module is a WebAssembly component; Kubewarden runs core modules")
            }
            Payload::CustomSection(section) if section.name() == METADATA_SECTION => continue,
            _ => {}
        }
        // Sections come whole; the function bodies inside the code section are not sections.
        if let Some((id, range)) = payload.as_section() {
            module.section(&wasm_encoder::RawSection {
                id,
                data: &wasm[range],
            });
        }
    }
    module.section(&wasm_encoder::CustomSection {
        name: Cow::Borrowed(METADATA_SECTION),
        data: Cow::Owned(metadata.to_section_json().into_bytes()),
    });
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::json;

    use super::*;

    fn pod_rule() -> serde_json::Value {
        json!({"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
               "operations": ["CREATE"]})
    }

    fn parse(value: serde_json::Value) -> anyhow::Result<Metadata> {
        let metadata: Metadata = serde_json::from_value(value)?;
        metadata.validate()?;
        Ok(metadata)
    }

    fn empty_module_with_custom_section(name: &str, data: &[u8]) -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        module.section(&wasm_encoder::CustomSection {
            name: Cow::Borrowed(name),
            data: Cow::Borrowed(data),
        });
        module.finish()
    }

    #[test]
    fn the_section_is_replaced_and_read_back() {
        let mut metadata = parse(json!({"rules": [pod_rule()], "mutating": false})).unwrap();
        metadata.protocol_version = Some("v1".into());
        let stale = empty_module_with_custom_section(METADATA_SECTION, b"{\"stale\":true}");
        let annotated = with_metadata_section(&stale, &metadata).unwrap();
        let sections: Vec<String> = Parser::new(0)
            .parse_all(&annotated)
            .filter_map(|payload| match payload.unwrap() {
                Payload::CustomSection(section) => Some(section.name().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(sections, [METADATA_SECTION]);
        assert_eq!(read_embedded_metadata(&annotated).unwrap(), Some(metadata));
        assert_eq!(
            read_embedded_metadata(&wasm_encoder::Module::new().finish()).unwrap(),
            None
        );
    }

    #[test]
    fn a_malformed_section_is_refused() {
        for data in [
            &b"not json"[..],
            br#"{"rules":"pods","mutating":false,"protocolVersion":"v1"}"#,
            br#"{"rules":[{"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"operations":["CREATE"]}],"mutating":false}"#,
            br#"{"rules":[],"mutating":false,"protocolVersion":"v2"}"#,
        ] {
            let wasm = empty_module_with_custom_section(METADATA_SECTION, data);
            let error = format!("{:#}", read_embedded_metadata(&wasm).unwrap_err());
            assert!(
                error.contains("io.kubewarden.metadata section is malformed"),
                "{error}"
            );
        }
    }

    #[test]
    fn what_policy_server_reads_is_read() {
        // No rules, and a key this harness does not know (newer kwctl writes hostCapabilities).
        let data = br#"{"protocolVersion":"v1","rules":[],"mutating":false,"hostCapabilities":[]}"#;
        let wasm = empty_module_with_custom_section(METADATA_SECTION, data);
        let metadata = read_embedded_metadata(&wasm).unwrap().unwrap();
        assert!(metadata.rules.is_empty());
        // Other execution modes have no waPC protocol version.
        let data = br#"{"rules":[],"mutating":false,"executionMode":"opa"}"#;
        let wasm = empty_module_with_custom_section(METADATA_SECTION, data);
        assert!(read_embedded_metadata(&wasm).unwrap().is_some());
    }

    /// `annotate` lets the annotated module use its input's cache entry: this proves the two compile
    /// to the same bytes, names, traps and data included, with the engine the harness runs.
    #[test]
    fn wasmtime_compiles_a_module_and_its_annotated_copy_alike() {
        let wasm = wat::parse_str(
            r#"(module
                 (memory (export "memory") 1)
                 (data (i32.const 8) "policy")
                 (func $guest_call (export "__guest_call") (param i32 i32) (result i32)
                   local.get 0
                   if unreachable end
                   i32.const 1)
                 (func $helper (result i32) i32.const 42))"#,
        )
        .unwrap();
        let metadata = parse(json!({"rules": [pod_rule()], "mutating": false,
                                    "protocolVersion": "v1"}))
        .unwrap();
        let annotated = with_metadata_section(&wasm, &metadata).unwrap();
        assert!(annotated.starts_with(&wasm) && annotated.len() > wasm.len());
        let runtime = crate::WapcRuntime::new().unwrap();
        let compiled = |bytes: &[u8]| {
            wasmtime::Module::new(runtime.engine(), bytes)
                .unwrap()
                .serialize()
                .unwrap()
        };
        assert!(compiled(&wasm) == compiled(&annotated));
    }
}
