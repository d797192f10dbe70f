//! The `validate` payload, encoded as policy-server encodes it.

use serde::Serialize;
use serde_json::Value;

/// What `validate` receives, encoded as policy-server encodes it.
#[derive(Serialize)]
pub struct ValidationRequest<'a> {
    pub request: InApiOrder<'a>,
    pub settings: &'a Value,
}

impl<'a> ValidationRequest<'a> {
    pub fn new(request: &'a Value, settings: &'a Value) -> Self {
        ValidationRequest {
            request: InApiOrder(request),
            settings,
        }
    }
}

/// An AdmissionRequest with its fields in the order of the API's type, as the API server and
/// policy-server write them (`kind` and `resource` before `object`), whatever order the file had;
/// fields the type does not know follow, by name.
pub struct InApiOrder<'a>(pub &'a Value);

/// The fields of `admission.k8s.io/v1` AdmissionRequest, in declaration order.
const ADMISSION_REQUEST_FIELDS: [&str; 15] = [
    "uid",
    "kind",
    "resource",
    "subResource",
    "requestKind",
    "requestResource",
    "requestSubResource",
    "name",
    "namespace",
    "operation",
    "userInfo",
    "object",
    "oldObject",
    "dryRun",
    "options",
];

impl Serialize for InApiOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let Value::Object(fields) = self.0 else {
            return self.0.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for name in ADMISSION_REQUEST_FIELDS {
            if let Some(value) = fields.get(name) {
                map.serialize_entry(name, value)?;
            }
        }
        for (name, value) in fields {
            if !ADMISSION_REQUEST_FIELDS.contains(&name.as_str()) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_are_sent_in_the_api_field_order() {
        let request =
            json!({"zeta": 1, "object": {"kind": "Pod"}, "uid": "u", "resource": {}, "kind": {}});
        let settings = json!({});
        let payload = serde_json::to_string(&ValidationRequest::new(&request, &settings)).unwrap();
        assert_eq!(
            payload,
            r#"{"request":{"uid":"u","kind":{},"resource":{},"object":{"kind":"Pod"},"zeta":1},"settings":{}}"#
        );
    }
}
