//! The JSON report: `schemaVersion` 1, documented in docs/checking-manifests.md. Fields are only
//! ever added within a schema version.

use serde::Serialize;

use super::ReportContext;
use crate::check::{Outcome, Summary};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    schema_version: u32,
    policy: Policy<'a>,
    summary: Summary,
    results: &'a [Outcome],
}

#[derive(Serialize)]
struct Policy<'a> {
    name: &'a str,
    version: Option<&'a str>,
}

pub fn render(outcomes: &[Outcome], context: &ReportContext) -> String {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        policy: Policy {
            name: &context.policy_name,
            version: context.policy_version.as_deref(),
        },
        summary: Summary::of(outcomes),
        results: outcomes,
    };
    let mut text = serde_json::to_string_pretty(&report).expect("a report always serializes");
    text.push('\n');
    text
}
