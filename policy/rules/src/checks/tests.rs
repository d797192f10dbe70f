use std::collections::BTreeSet;
use std::path::Path;

use super::*;

fn ids(level: Level, version: Version) -> Vec<&'static str> {
    checks_for(LevelVersion { level, version })
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// What PSA's `validateChecks` holds its registry to: unique IDs, at least one variant each,
/// versions strictly increasing, and overrides only by restricted checks of existing baseline ones.
#[test]
fn the_registry_is_valid() {
    let mut seen = BTreeSet::new();
    for check in REGISTRY {
        assert!(seen.insert(check.id), "{} is registered twice", check.id);
        assert!(
            matches!(check.level, Level::Baseline | Level::Restricted),
            "{}: only baseline and restricted checks exist",
            check.id
        );
        assert!(!check.versions.is_empty(), "{} has no variant", check.id);
        for pair in check.versions.windows(2) {
            assert!(
                pair[0].minimum_minor < pair[1].minimum_minor,
                "{}: variants must start at strictly increasing versions",
                check.id
            );
        }
        for variant in check.versions {
            for overridden in variant.overrides {
                assert_eq!(
                    check.level,
                    Level::Restricted,
                    "{}: only restricted checks override",
                    check.id
                );
                let target = REGISTRY.iter().find(|other| other.id == *overridden);
                assert!(
                    target.is_some_and(|other| other.level == Level::Baseline),
                    "{} overrides {overridden:?}, which is no baseline check",
                    check.id
                );
            }
        }
    }
}

#[test]
fn the_registry_is_in_reference_order() {
    for level in [Level::Baseline, Level::Restricted] {
        let ids: Vec<_> = REGISTRY
            .iter()
            .filter(|c| c.level == level)
            .map(|c| c.id)
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "{level} checks must be in byte order");
    }
    let first_restricted = REGISTRY
        .iter()
        .position(|c| c.level == Level::Restricted)
        .unwrap();
    assert!(
        REGISTRY[first_restricted..]
            .iter()
            .all(|c| c.level == Level::Restricted)
    );
}

#[test]
fn the_newest_version_is_the_highest_any_variant_starts_at() {
    let highest = REGISTRY
        .iter()
        .filter_map(|check| check.versions.last())
        .map(|variant| variant.minimum_minor)
        .max()
        .unwrap();
    assert_eq!(newest_minor(), highest);
    assert_eq!(effective_minor(Version::Latest), highest);
    assert_eq!(effective_minor(Version::V1(highest + 5)), highest);
    assert_eq!(effective_minor(Version::V1(25)), 25);
}

/// The list at restricted:latest, as the reference writes it (PSA's order).
fn reference_restricted_latest() -> Vec<String> {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/PSS-REFERENCE.md");
    let text = std::fs::read_to_string(&reference)
        .unwrap_or_else(|error| panic!("{}: {error}", reference.display()));
    let start = text
        .find("At restricted:latest:")
        .expect("the reference lists restricted:latest");
    let list = &text[start + "At restricted:latest:".len()..];
    let list = &list[..list.find('.').unwrap()];
    list.split(',').map(|id| id.trim().to_string()).collect()
}

#[test]
fn restricted_latest_runs_psa_s_list() {
    let reference = reference_restricted_latest();
    assert_eq!(reference.len(), 15, "{reference:?}");
    assert_eq!(ids(Level::Restricted, Version::Latest), reference);
}

#[test]
fn overrides_start_with_their_variant() {
    let v1_0 = ids(Level::Restricted, Version::V1(0));
    assert!(v1_0.contains(&"capabilities_baseline"));
    assert!(v1_0.contains(&"seccompProfile_baseline"));
    assert!(!v1_0.contains(&"hostPathVolumes"));
    assert!(!v1_0.contains(&"allowPrivilegeEscalation"));
    assert!(!v1_0.contains(&"runAsUser"));
    let v1_22 = ids(Level::Restricted, Version::V1(22));
    assert!(!v1_22.contains(&"capabilities_baseline"));
    assert!(!v1_22.contains(&"seccompProfile_baseline"));
    assert!(v1_22.contains(&"procMount"));
    assert!(!ids(Level::Restricted, Version::V1(35)).contains(&"procMount"));
}

#[test]
fn baseline_has_no_restricted_checks_and_privileged_none() {
    let baseline = ids(Level::Baseline, Version::Latest);
    assert_eq!(baseline.len(), 12);
    assert!(baseline.contains(&"hostPathVolumes"));
    assert!(ids(Level::Baseline, Version::V1(33)).len() == 11);
    assert!(ids(Level::Privileged, Version::Latest).is_empty());
}

/// The pod view keeps only the annotations the checks declare: a check that reads one it did not
/// declare finds it missing (and [`crate::pod::Annotations`] asserts in tests that it is declared).
#[test]
fn the_pod_view_keeps_exactly_the_declared_annotations() {
    let declared: BTreeSet<&str> = REGISTRY
        .iter()
        .flat_map(|check| check.annotations.iter().copied())
        .collect();
    let kept: BTreeSet<&str> = crate::pod::READ_ANNOTATIONS.iter().copied().collect();
    assert_eq!(kept, declared);
}

#[test]
fn aggregate_omits_empty_details() {
    let failures = [
        Forbidden::new("a", "x"),
        Forbidden::new("b", ""),
        Forbidden::new("c", "y"),
    ];
    assert_eq!(aggregate(&failures), "a (x), b, c (y)");
}

#[test]
fn every_check_says_where_its_fields_are() {
    for check in REGISTRY {
        assert!(
            !check.fields.is_empty() || !check.annotations.is_empty(),
            "{} reads no field",
            check.id
        );
        for field in check.fields {
            // Relative to the pod or pod template, in the tables' notation: dotted keys, `{a,b}`
            // alternatives, `[*]` for a list's items.
            assert!(field.starts_with("spec."), "{}: {field}", check.id);
            for segment in field.split('.') {
                let keys = segment.trim_end_matches("[*]");
                let keys = keys
                    .strip_prefix('{')
                    .and_then(|keys| keys.strip_suffix('}'))
                    .unwrap_or(keys);
                assert!(
                    keys.split(',').all(
                        |key| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric())
                    ),
                    "{}: {field}",
                    check.id
                );
            }
        }
    }
}
