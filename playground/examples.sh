#!/usr/bin/env bash
# Copies the manifests and settings the playground offers one click away into DIR, with the index
# the page reads (DIR/index.json): the repository's examples and end-to-end fixtures, as they are.
set -euo pipefail
out="$1"
cd "$(dirname "$0")/.."
mkdir -p "$out"

# group|file, in the order the page lists them.
manifests() {
    for f in examples/admission-reviews/*.json examples/cluster/*.yaml; do echo "examples|$f"; done
    for f in test_data/fix/chart.yaml $(find test_data/manifests -type f \( -name '*.yaml' -o -name '*.json' \) | sort); do
        echo "test_data: manifests|$f"
    done
    for f in test_data/requests/{check,controller,debug,ns-labels,namespace,runtime,exempt}-*.json; do
        echo "test_data: requests|$f"
    done
}
settings() {
    for f in examples/cluster-admission-policy.yaml examples/cluster-admission-policy-monitor.yaml \
        examples/admission-policy-team-a.yaml; do
        echo "examples|$f"
    done
}

entries() {
    local first=1
    while IFS='|' read -r group file; do
        mkdir -p "$out/$(dirname "$file")"
        cp "$file" "$out/$file"
        [[ $first == 1 ]] || printf ',\n'
        first=0
        printf '    {"group": "%s", "name": "%s", "file": "%s"}' "$group" "$(basename "$file")" "$file"
    done
}

{
    printf '{\n  "manifests": [\n'
    manifests | entries
    printf '\n  ],\n  "settings": [\n'
    settings | entries
    printf '\n  ]\n}\n'
} > "$out/index.json"
echo "playground examples: $(find "$out" -type f ! -name index.json | wc -l) files in $out"
