#!/usr/bin/env bash
# Check a kustomize overlay as `kubectl apply -k` would send it, and fail on warnings too (the
# audit and warn levels of the settings file).
set -euo pipefail
POLICY=${POLICY:-registry://ghcr.io/restricted-pod-policy/policies/restricted-pod-policy:v0.1.0}
kustomize build overlays/prod | host-test check --policy "$POLICY" --settings-path pod-security.yaml --fail-on warn --stdin-name overlays/prod/rendered.yaml -
