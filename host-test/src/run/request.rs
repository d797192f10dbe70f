//! What kwctl 1.31 and policy-server 1.31 refuse before any policy sees a request, so the harness
//! refuses it too, or says that it would be refused.
//!
//! Both read the request into policy-evaluator's `AdmissionRequest` (`admission_request.rs`,
//! policy-evaluator 0.30.4), whose `uid`, `kind`, `resource`, `operation` and `userInfo` are
//! required. kwctl stops with `cannot build AdmissionRequest object from given input: missing field
//! `userInfo``; policy-server answers HTTP 422. policy-server also takes at most 2 MiB of request
//! body (axum's default body limit, which it does not change) and answers HTTP 413 to more; kwctl
//! has no such limit.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::run::evaluator::InApiOrder;

/// policy-server's largest request body, in bytes: axum's `DefaultBodyLimit`, 2 MiB. One byte more
/// is answered with HTTP 413 Payload Too Large.
pub const POLICY_SERVER_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// `request` as policy-evaluator reads it: an error in kwctl's words when kwctl and policy-server
/// refuse it.
pub fn check_shape(request: &Value) -> anyhow::Result<()> {
    EngineAdmissionRequest::deserialize(request)
        .map(drop)
        .map_err(|error| {
            anyhow::anyhow!("cannot build AdmissionRequest object from given input: {error}")
        })
}

/// The size of the body policy-server gets for `request`: the AdmissionReview around it, as
/// compact JSON, the way the API server sends it.
pub fn review_body_len(request: &Value) -> usize {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct AdmissionReview<'a> {
        api_version: &'static str,
        kind: &'static str,
        request: InApiOrder<'a>,
    }
    let review = AdmissionReview {
        api_version: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: InApiOrder(request),
    };
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, &review).expect("a JSON value always serializes");
    counter.0
}

/// Why policy-server would answer 413 instead of evaluating `request`; `None` when it would not.
pub fn body_too_large(request: &Value) -> Option<String> {
    let len = review_body_len(request);
    (len > POLICY_SERVER_BODY_LIMIT).then(|| {
        format!(
            "policy-server would refuse this request with HTTP 413 Payload Too Large: its \
             AdmissionReview is {len} bytes of JSON, over the {POLICY_SERVER_BODY_LIMIT}-byte (2 MiB) \
             body limit, so in a cluster the policy never sees it and the webhook's failurePolicy \
             decides"
        )
    })
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// policy-evaluator's `AdmissionRequest`: its fields, their types and which are required; read only
/// for whether it can be read, so its values are never used.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EngineAdmissionRequest {
    uid: String,
    kind: GroupVersionKind,
    resource: GroupVersionResource,
    sub_resource: Option<String>,
    request_kind: Option<GroupVersionKind>,
    request_resource: Option<GroupVersionResource>,
    request_sub_resource: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    operation: String,
    user_info: UserInfo,
    object: Option<IgnoredAny>,
    old_object: Option<IgnoredAny>,
    dry_run: Option<bool>,
    options: Option<IgnoredAny>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct GroupVersionKind {
    group: String,
    version: String,
    kind: String,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct GroupVersionResource {
    group: String,
    version: String,
    resource: String,
}

/// k8s-openapi's `authentication/v1` `UserInfo`: every field optional, so `{}` is a user.
#[allow(dead_code)]
#[derive(Deserialize)]
struct UserInfo {
    username: Option<String>,
    uid: Option<String>,
    groups: Option<Vec<String>>,
    extra: Option<BTreeMap<String, Vec<String>>>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request() -> Value {
        json!({
            "uid": "u",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": "CREATE",
            "userInfo": {},
            "object": {"metadata": {"annotations": {"a": ""}}},
        })
    }

    #[test]
    fn what_policy_evaluator_reads_is_accepted() {
        assert!(check_shape(&request()).is_ok());
        let mut full = request();
        full["userInfo"] = json!({"username": "system:serviceaccount:kubewarden:audit-scanner",
                                   "groups": ["system:serviceaccounts"], "extra": {"k": ["v"]}});
        full["oldObject"] = Value::Null;
        full["options"] = Value::Null;
        full["dryRun"] = json!(false);
        full["subResource"] = json!("status");
        full["somethingNew"] = json!(1);
        assert!(check_shape(&full).is_ok());
    }

    #[test]
    fn a_request_kwctl_refuses_is_refused_in_its_words() {
        let without = |field: &str| {
            let mut request = request();
            request.as_object_mut().unwrap().remove(field);
            request
        };
        let mut kind_as_text = request();
        kind_as_text["kind"] = json!("Pod");
        let mut null_user = request();
        null_user["userInfo"] = Value::Null;
        let mut group_as_text = request();
        group_as_text["userInfo"] = json!({"groups": "admins"});
        for (refused, message) in [
            (without("userInfo"), "missing field `userInfo`"),
            (without("uid"), "missing field `uid`"),
            (without("kind"), "missing field `kind`"),
            (without("resource"), "missing field `resource`"),
            (without("operation"), "missing field `operation`"),
            (kind_as_text, "invalid type: string \"Pod\""),
            (null_user, "invalid type: null"),
            (group_as_text, "invalid type: string \"admins\""),
        ] {
            let error = check_shape(&refused).unwrap_err().to_string();
            assert!(
                error.starts_with("cannot build AdmissionRequest object from given input: ")
                    && error.contains(message),
                "{error}"
            );
        }
        assert_eq!(
            check_shape(&without("userInfo")).unwrap_err().to_string(),
            "cannot build AdmissionRequest object from given input: missing field `userInfo`"
        );
    }

    /// A request whose AdmissionReview is exactly `len` bytes.
    fn request_of_body_len(len: usize) -> Value {
        let mut request = request();
        let base = review_body_len(&request);
        request["object"]["metadata"]["annotations"]["a"] = json!("x".repeat(len - base));
        assert_eq!(review_body_len(&request), len);
        request
    }

    #[test]
    fn the_body_limit_is_policy_servers() {
        let request = request();
        assert_eq!(
            review_body_len(&request),
            format!(
                r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}}"#,
                serde_json::to_string(&InApiOrder(&request)).unwrap()
            )
            .len()
        );
        assert_eq!(
            body_too_large(&request_of_body_len(POLICY_SERVER_BODY_LIMIT)),
            None
        );
        let refusal = body_too_large(&request_of_body_len(POLICY_SERVER_BODY_LIMIT + 1)).unwrap();
        assert!(
            refusal.contains("HTTP 413") && refusal.contains("2097153 bytes"),
            "{refusal}"
        );
    }
}
