//! restrictedVolumes (restricted): only volume types that cannot reach node or network storage
//! directly. Replaces hostPathVolumes at restricted.
//!
//! | versions | restricted fields | allowed values |
//! |---|---|---|
//! | v1.0+ | `spec.volumes[*]`: every source but the allowed ones | `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`, `image`, `persistentVolumeClaim`, `projected`, `secret` |

use super::format::{join_quote, pluralize};
use super::{Check, CheckResult, Forbidden, VersionedCheck};
use crate::level::Level;
use crate::pod::{ObjectMeta, PodSpec, Volume};
use std::collections::BTreeSet;

pub static CHECK: Check = Check {
    id: "restrictedVolumes",
    level: Level::Restricted,
    annotations: &[],
    fields: &["spec.volumes[*]"],
    versions: &[VersionedCheck {
        minimum_minor: 0,
        check: v1_0,
        overrides: &["hostPathVolumes"],
    }],
};

const ALLOWED: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The restricted sources, in the order the reference tests for them to name a bad volume.
const RESTRICTED: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_type(volume: &Volume) -> Option<&'static str> {
    let has = |source: &str| volume.sources.iter().any(|s| s == source);
    if ALLOWED.iter().any(|source| has(source)) {
        return None;
    }
    Some(
        RESTRICTED
            .iter()
            .copied()
            .find(|source| has(source))
            .unwrap_or("unknown"),
    )
}

fn v1_0(_: &ObjectMeta, spec: &PodSpec) -> CheckResult {
    let mut bad_volumes = Vec::new();
    let mut bad_types = BTreeSet::new();
    for volume in &spec.volumes {
        if let Some(kind) = restricted_type(volume) {
            bad_volumes.push(volume.name.as_str());
            bad_types.insert(kind);
        }
    }
    if bad_volumes.is_empty() {
        return Ok(());
    }
    let bad_types: Vec<&str> = bad_types.into_iter().collect();
    Err(Forbidden::new(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad_volumes.len()),
            join_quote(&bad_volumes),
            pluralize("uses", "use", bad_volumes.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                bad_types.len()
            ),
            join_quote(&bad_types)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::run;
    use serde_json::json;

    #[test]
    fn allows_every_allowed_type() {
        let volumes: Vec<_> = ALLOWED.iter().map(|t| json!({"name": t, *t: {}})).collect();
        assert_eq!(run(v1_0, json!({"spec": {"volumes": volumes}})), Ok(()));
    }

    #[test]
    fn names_each_restricted_type() {
        for kind in RESTRICTED {
            let pod = json!({"spec": {"volumes": [{"name": "v", *kind: {}}]}});
            let expected = format!("volume \"v\" uses restricted volume type \"{kind}\"");
            assert_eq!(
                run(v1_0, pod),
                Err(Forbidden::new("restricted volume types", expected))
            );
        }
    }

    #[test]
    fn a_volume_without_a_known_source_is_unknown() {
        let pod = json!({"spec": {"volumes": [{"name": "a"}, {"name": "b", "futureSource": {}}, {"name": "c", "nfs": {}, "emptyDir": null}]}});
        assert_eq!(
            run(v1_0, pod),
            Err(Forbidden::new(
                "restricted volume types",
                "volumes \"a\", \"b\", \"c\" use restricted volume types \"nfs\", \"unknown\""
            ))
        );
    }
}
