//! The real policy module (`make policy` builds it at the workspace root), loaded by the library.

mod common;

use std::time::Duration;

use common::{psa_corpus, real_policy_module};
use host_test::conformance::{apply_api_server_defaults, enforce_settings, pod_create_request};
use host_test::run::input::read_document;
use host_test::{PolicyEvaluator, WapcModule};

fn real_module() -> WapcModule {
    real_policy_module(Duration::from_secs(2))
}

#[test]
fn the_real_policy_speaks_protocol_v1() {
    assert_eq!(
        real_module().call("protocol_version", b"").unwrap(),
        br#""v1""#
    );
}

#[test]
fn the_real_policy_allows_the_minimal_pods_of_every_level() {
    let module = real_module();
    for level in ["baseline", "restricted"] {
        let evaluator =
            PolicyEvaluator::new(module.clone(), enforce_settings(level, "v1.37")).unwrap();
        let mut pod =
            read_document(&psa_corpus().join(level).join("v1.37/pass/base.yaml")).unwrap();
        apply_api_server_defaults(&mut pod);
        let response = evaluator.validate(&pod_create_request(pod, "base"));
        assert!(response.allowed, "{level}: {response:?}");
        assert_eq!(response.uid, "base");
    }
}
