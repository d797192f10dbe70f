//! `host-test check`'s fixes: what `secureDefaults` would add to each denied object, written into
//! the manifests (`--fix DIR`, `--in-place`) and carried in SARIF's `fixes`.

mod common;

use common::{assert_valid_sarif, check, json_report, path_str, workspace_file};
use serde_json::{Value, json};

/// `--fix` writes each denied object's fix into its manifest, keeping comments, key order and the
/// other documents (compared with `test_data/fix/chart.fixed.yaml`); the result passes, except
/// what no default can fix, which is left as written.
#[test]
fn fixes_are_written_into_the_manifests_as_they_are() {
    let chart = workspace_file("test_data/fix/chart.yaml");
    let expected =
        std::fs::read_to_string(workspace_file("test_data/fix/chart.fixed.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("chart.yaml");
    std::fs::copy(&chart, &copy).unwrap();

    let report = json_report(&check(&[path_str(&copy), "--format", "json", "--in-place"]));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), expected);
    // The report shows each fix as the JSON patch the policy would send.
    let deployment = &report["results"][1];
    assert_eq!(deployment["verdict"], "denied");
    assert_eq!(
        deployment["fix"][0],
        json!({"op": "add", "path": "/spec/template/spec/containers/0/securityContext",
               "value": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}})
    );
    assert!(
        report["results"][3].get("fix").is_none(),
        "the privileged pod has no fix"
    );

    let fixed = json_report(&check(&[path_str(&copy), "--format", "json"]));
    let verdicts: Vec<&str> = fixed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["verdict"].as_str().unwrap_or("skipped"))
        .collect();
    assert_eq!(verdicts, ["skipped", "allowed", "allowed", "denied"]);

    let folder = dir.path().join("fixed");
    check(&[path_str(&chart), "--fix", path_str(&folder)]);
    // At the input's path, without its root or `..` parts.
    let relative: std::path::PathBuf = chart
        .components()
        .filter(|part| matches!(part, std::path::Component::Normal(_)))
        .collect();
    let written = folder.join(relative);
    assert_eq!(std::fs::read_to_string(written).unwrap(), expected);
    assert_eq!(
        std::fs::read_to_string(&chart).unwrap(),
        std::fs::read_to_string(workspace_file("test_data/fix/chart.yaml")).unwrap(),
        "the input is untouched"
    );
}

/// In SARIF each denial that has a fix carries it in `fixes`, as insertions where the lines go, and
/// the report is valid SARIF 2.1.0; applying the insertions gives the `--fix` output.
#[test]
fn sarif_results_carry_their_fixes() {
    let chart = workspace_file("test_data/fix/chart.yaml");
    let sarif = json_report(&check(&[path_str(&chart), "--format", "sarif"]));
    assert_valid_sarif(&sarif);

    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let with_fixes: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("fixes").is_some())
        .collect();
    assert!(!with_fixes.is_empty());
    assert!(
        results
            .iter()
            .filter(|r| r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("shop-debug"))
            .all(|r| r.get("fixes").is_none()),
        "the privileged pod has no fix"
    );
    // One result per object is enough to apply each object's fix once.
    let mut inserts: Vec<(u64, String)> = Vec::new();
    for result in &with_fixes {
        for replacement in result["fixes"][0]["artifactChanges"][0]["replacements"]
            .as_array()
            .unwrap()
        {
            let line = replacement["deletedRegion"]["startLine"].as_u64().unwrap();
            assert_eq!(replacement["deletedRegion"]["startColumn"], 1);
            let insert = (
                line,
                replacement["insertedContent"]["text"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
            if !inserts.contains(&insert) {
                inserts.push(insert);
            }
        }
    }
    let original = std::fs::read_to_string(&chart).unwrap();
    let mut fixed = String::new();
    for (index, line) in original.split_inclusive('\n').enumerate() {
        for (_, text) in inserts.iter().filter(|(at, _)| *at == index as u64 + 1) {
            fixed.push_str(text);
        }
        fixed.push_str(line);
    }
    assert_eq!(
        fixed,
        std::fs::read_to_string(workspace_file("test_data/fix/chart.fixed.yaml")).unwrap()
    );
}
