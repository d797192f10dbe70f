//! What `kwctl annotate` does: the module's protocol version and the usage text recorded in the
//! metadata, and the metadata embedded in the module.

use anyhow::Context as _;

use crate::WapcModule;
use crate::ship::metadata::{ExecutionMode, Metadata, with_metadata_section};

/// The annotation `annotate --usage` fills with the usage document.
pub const USAGE_ANNOTATION: &str = "io.kubewarden.policy.usage";

/// What `kwctl annotate` does: asks the module its protocol version, records it and the usage
/// text in `metadata`, validates the result, and embeds it in the module.
pub fn annotate(
    module: &WapcModule,
    wasm: &[u8],
    mut metadata: Metadata,
    usage: Option<String>,
) -> anyhow::Result<Vec<u8>> {
    if metadata.execution_mode == ExecutionMode::KubewardenWapc {
        let answer = module
            .call("protocol_version", b"")
            .map_err(anyhow::Error::from)
            .context("the module's protocol_version failed")?;
        let version: String = serde_json::from_slice(&answer).with_context(|| {
            format!(
                "protocol_version answered {:?}, not a JSON string",
                String::from_utf8_lossy(&answer)
            )
        })?;
        metadata.protocol_version = Some(version);
    }
    if let Some(usage) = usage {
        metadata
            .annotations
            .get_or_insert_default()
            .insert(USAGE_ANNOTATION.to_string(), usage);
    }
    metadata.validate()?;
    with_metadata_section(wasm, &metadata)
}
