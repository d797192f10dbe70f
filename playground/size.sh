#!/usr/bin/env bash
# The playground's transfer size: what a browser downloads to open the page (the wasm, the JS, the
# CSS and the HTML), before and after compression; the examples load only when picked.
set -euo pipefail
dist="$1"
files=("$dist/index.html" "$dist/playground.css" "$dist/playground.js" "$dist/pkg/pod_security_playground.js"
    "$dist/pkg/pod_security_playground_bg.wasm")
total=0
gzipped=0
for file in "${files[@]}"; do
    size=$(stat -c %s "$file")
    packed=$(gzip -9c "$file" | wc -c)
    printf '  %-48s %9d bytes, %8d gzipped\n' "${file#"$dist"/}" "$size" "$packed"
    total=$((total + size))
    gzipped=$((gzipped + packed))
done
printf 'playground page: %d bytes (%d KB) before compression, %d bytes gzipped\n' "$total" $((total / 1000)) "$gzipped"
