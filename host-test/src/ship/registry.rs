//! Policies in OCI registries, stored the way `kwctl push` stores them: one wasm layer, an empty
//! wasm config, and the metadata's annotations on the manifest.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OciImageManifest, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::ship::metadata::{Metadata, read_embedded_metadata};

/// How a policy's location names a registry, as in Kubewarden's `module:` field.
pub const REGISTRY_SCHEME: &str = "registry://";

/// The annotation OCI tools read a manifest's source repository from.
const OCI_SOURCE: &str = "org.opencontainers.image.source";
const POLICY_SOURCE: &str = "io.kubewarden.policy.source";

/// What a registry holds for a policy: the digests a client can check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    /// The image manifest's digest (`sha256:…`).
    pub manifest_digest: String,
    /// The wasm layer's digest: the module's sha256.
    pub layer_digest: String,
}

/// Whether `location` is a `registry://` reference rather than a file.
pub fn is_registry_location(location: &str) -> bool {
    location.starts_with(REGISTRY_SCHEME)
}

/// `registry://HOST/REPO:TAG` (or `@sha256:…`) as an OCI reference.
pub fn parse_reference(location: &str) -> anyhow::Result<Reference> {
    let Some(reference) = location.strip_prefix(REGISTRY_SCHEME) else {
        bail!("{location:?} is not a registry location: expected registry://HOST/REPOSITORY:TAG");
    };
    let parsed: Reference = reference
        .parse()
        .with_context(|| format!("{location:?} is not a valid OCI reference"))?;
    // Without an explicit host the reference would silently mean Docker Hub.
    ensure!(
        reference.starts_with(parsed.registry()),
        "{location:?} names no registry host: expected registry://HOST/REPOSITORY:TAG"
    );
    Ok(parsed)
}

/// The manifest annotations `kwctl push` writes: every single-line metadata annotation, and the
/// policy source again under the OCI key.
pub fn manifest_annotations(metadata: &Metadata) -> BTreeMap<String, String> {
    let mut annotations = metadata.single_line_annotations();
    if let Some(source) = metadata.annotation(POLICY_SOURCE) {
        annotations.insert(OCI_SOURCE.to_string(), source.to_string());
    }
    annotations
}

/// The environment variable holding the registry password, kept off the command line.
pub const PASSWORD_VARIABLE: &str = "REGISTRY_PASSWORD";

/// Basic authentication when a username is given (the password then being required), else none.
pub fn registry_auth(
    username: Option<&str>,
    password: Option<String>,
) -> anyhow::Result<RegistryAuth> {
    match (username, password) {
        (None, _) => Ok(RegistryAuth::Anonymous),
        (Some(username), Some(password)) => Ok(RegistryAuth::Basic(username.into(), password)),
        (Some(username), None) => {
            bail!(
                "--username {username} needs the password in the environment variable {PASSWORD_VARIABLE}"
            )
        }
    }
}

/// An OCI client talking HTTPS, or plain HTTP when `insecure`.
pub struct RegistryClient {
    client: Client,
    auth: RegistryAuth,
    runtime: tokio::runtime::Runtime,
}

/// Installs ring as the process's TLS provider, which every registry client needs before it is
/// built; later calls find it installed.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl RegistryClient {
    pub fn new(insecure: bool, auth: RegistryAuth) -> anyhow::Result<Self> {
        let protocol = if insecure {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        };
        install_tls_provider();
        // A registry that stops answering fails the command instead of hanging it.
        let client = Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Self {
            client,
            auth,
            runtime,
        })
    }

    /// Pushes an annotated module; a module without metadata is refused, as `kwctl push` does.
    pub fn push(&self, wasm: &[u8], location: &str) -> anyhow::Result<StoredPolicy> {
        let reference = parse_reference(location)?;
        let metadata = read_embedded_metadata(wasm)?.context(
            "the module has no io.kubewarden.metadata section: annotate it first (host-test annotate)",
        )?;
        let layers = [ImageLayer::new(
            wasm.to_vec(),
            WASM_LAYER_MEDIA_TYPE.to_string(),
            None,
        )];
        let config = Config::new(b"{}".to_vec(), WASM_CONFIG_MEDIA_TYPE.to_string(), None);
        let manifest =
            OciImageManifest::build(&layers, &config, Some(manifest_annotations(&metadata)));
        self.runtime
            .block_on(async {
                self.client
                    .push(&reference, &layers, config, &self.auth, Some(manifest))
                    .await?;
                self.client
                    .fetch_manifest_digest(&reference, &self.auth)
                    .await
            })
            .map(|manifest_digest| StoredPolicy {
                manifest_digest,
                layer_digest: layers[0].sha256_digest(),
            })
            .with_context(|| format!("cannot push to {location}"))
    }

    /// Pulls a policy module, checking it is one wasm layer whose content matches its digest.
    pub fn pull(&self, location: &str) -> anyhow::Result<(Vec<u8>, StoredPolicy)> {
        let reference = parse_reference(location)?;
        let image = self
            .runtime
            .block_on(
                self.client
                    .pull(&reference, &self.auth, vec![WASM_LAYER_MEDIA_TYPE]),
            )
            .with_context(|| format!("cannot pull {location}"))?;
        let manifest = image
            .manifest
            .with_context(|| format!("{location}: the registry sent no image manifest"))?;
        let [layer] = <[ImageLayer; 1]>::try_from(image.layers).map_err(|layers| {
            anyhow::anyhow!(
                "{location}: expected one wasm layer, found {}",
                layers.len()
            )
        })?;
        let layer_digest = layer.sha256_digest();
        ensure!(
            manifest.layers[0].digest == layer_digest,
            "{location}: the layer's content has digest {layer_digest}, the manifest says {}",
            manifest.layers[0].digest
        );
        let manifest_digest = image
            .digest
            .with_context(|| format!("{location}: the registry sent no manifest digest"))?;
        Ok((
            layer.data.to_vec(),
            StoredPolicy {
                manifest_digest,
                layer_digest,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_locations_need_the_scheme_and_a_host() {
        let reference = parse_reference("registry://127.0.0.1:5000/policies/psa:v0.1.0").unwrap();
        assert_eq!(reference.registry(), "127.0.0.1:5000");
        assert_eq!(reference.repository(), "policies/psa");
        assert_eq!(reference.tag(), Some("v0.1.0"));
        let reference = parse_reference("registry://ghcr.io/org/policy:v1").unwrap();
        assert_eq!(reference.registry(), "ghcr.io");
        for refused in [
            "ghcr.io/org/policy:v1",
            "https://ghcr.io/org/policy:v1",
            "registry://policy:v1",
            "registry://ghcr.io/Org/policy:v1",
        ] {
            assert!(parse_reference(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_username_needs_a_password() {
        assert_eq!(registry_auth(None, None).unwrap(), RegistryAuth::Anonymous);
        assert_eq!(
            registry_auth(Some("ci"), Some("secret".into())).unwrap(),
            RegistryAuth::Basic("ci".into(), "secret".into())
        );
        let error = registry_auth(Some("ci"), None).unwrap_err().to_string();
        assert!(error.contains(PASSWORD_VARIABLE), "{error}");
    }

    #[test]
    fn the_manifest_carries_single_line_annotations_and_the_oci_source() {
        let metadata: Metadata = crate::yaml::from_str(
            "rules: [{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: [CREATE]}]\n\
             mutating: false\n\
             annotations:\n  io.kubewarden.policy.source: https://github.com/o/p\n  \
             io.kubewarden.policy.usage: \"two\\nlines\"\n  io.kubewarden.policy.title: p\n",
        )
        .unwrap();
        assert_eq!(
            manifest_annotations(&metadata),
            BTreeMap::from([
                (
                    "io.kubewarden.policy.source".to_string(),
                    "https://github.com/o/p".to_string()
                ),
                ("io.kubewarden.policy.title".to_string(), "p".to_string()),
                (
                    "org.opencontainers.image.source".to_string(),
                    "https://github.com/o/p".to_string()
                ),
            ])
        );
    }
}
