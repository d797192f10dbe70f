#!/usr/bin/env bash
# Check a Helm chart as it would be installed, with its values for production. The exit code is
# the check's: 0 nothing denied, 1 something denied, 2 unreadable input.
set -euo pipefail
POLICY=${POLICY:-registry://ghcr.io/restricted-pod-policy/policies/restricted-pod-policy:v0.1.0}
helm template web ./chart --namespace web --values values-prod.yaml | host-test check --policy "$POLICY" --stdin-name chart/rendered.yaml -
