//! Settings validation on arbitrary bytes: never a panic, and settings that validate always evaluate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pod_security_rules::{Settings, validate_json};

const PRIVILEGED_POD: &[u8] = br#"{"uid": "f", "kind": {"kind": "Pod"}, "operation": "CREATE", "namespace": "n",
    "userInfo": {"username": "u"}, "object": {"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}}"#;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(settings) = Settings::from_json(bytes) {
        let verdict = validate_json(PRIVILEGED_POD, &settings);
        // Only privileged level or an exemption lets a privileged container through.
        let relaxed = settings.enforce.level == pod_security_rules::Level::Privileged
            || settings.exemptions.namespaces.iter().any(|n| n == "n")
            || settings.exemptions.usernames.iter().any(|u| u == "u");
        assert_eq!(verdict.allowed, relaxed, "{settings:?}: {verdict:?}");
    }
});
