//! The `validate` entry point on arbitrary bytes: every input ends in a verdict, and anything that
//! is not a readable request is rejected.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    let verdict = restricted_pod_policy::verdict_for(payload, &restricted_pod_policy::Unlabelled);
    if verdict.allowed {
        assert!(
            verdict.message.is_none() && verdict.code.is_none(),
            "{verdict:?}"
        );
    } else {
        assert!(
            verdict.message.as_deref().is_some_and(|m| !m.is_empty()),
            "{verdict:?}"
        );
        assert!(matches!(verdict.code, Some(400 | 403 | 422)), "{verdict:?}");
    }
});
