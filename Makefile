# Two commands do all set-up on a fresh machine:
#   make run   builds the module and the harness and evaluates every example
#   make test  everything CI checks
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

WASM_TARGET := wasm32-wasip1
MODULE_BUILD := target/$(WASM_TARGET)/module/restricted_pod_policy.wasm
# The harness builds with the dev profile, quick to build (Cargo.toml says why).
HOST_TEST := target/debug/host-test
CORPUS ?= ../shared/psa-testdata
EXAMPLES := examples/admission-reviews

# Debian's binaryen 108 needs the features rustc's wasm32-wasip1 output uses spelled out.
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int

.PHONY: binaryen fuzz all module policy harness run test fmt-check clippy unit-tests conformance wasm-target clean \
	registry-server harness-tests artifacthub artifacthub-check bench playground browser-target wasm-bindgen-cli \
	browser playground-serve
.DELETE_ON_ERROR:

all: policy

wasm-target:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add '$(WASM_TARGET)'

# The module, at the repository root: policy.wasm as built (and shrunk by wasm-opt when binaryen is
# installed), and annotated-policy.wasm, the one to push, carrying metadata.yml and the README.
# wasm-opt, from Debian's binaryen; without it (no apt, no root) the module is left as cargo built it.
binaryen:
	@command -v wasm-opt >/dev/null || (apt-get update -qq && apt-get install -y -qq binaryen) \
		|| echo "binaryen could not be installed: the module will not be shrunk by wasm-opt"

# policy.wasm alone: as cargo builds it, shrunk by wasm-opt when binaryen is there.
module: wasm-target binaryen
	cargo build --locked --profile module --target $(WASM_TARGET) -p restricted-pod-policy
	cp $(MODULE_BUILD) policy.wasm
	@echo "policy.wasm: $$(stat -c %s policy.wasm) bytes from cargo"
	@if command -v wasm-opt >/dev/null; then \
		wasm-opt $(WASM_OPT_FLAGS) policy.wasm -o policy.wasm; \
		echo "policy.wasm: $$(stat -c %s policy.wasm) bytes after wasm-opt -Oz"; \
	else \
		echo "wasm-opt not found (apt-get install binaryen): policy.wasm left as cargo built it"; \
	fi

harness:
	cargo build --locked -p host-test

# The module, then the harness, one after the other: side by side they contended for the two cores
# and ended later (docs/performance.md).
policy: module harness
	$(HOST_TEST) annotate --metadata metadata.yml --usage README.md policy.wasm -o annotated-policy.wasm
	@echo "annotated-policy.wasm: $$(stat -c %s annotated-policy.wasm) bytes"

# The annotated module, granted what its metadata asks for (as kwctl run --allow-context-aware), in
# the cluster examples/cluster/namespaces.yaml describes.
run: policy
	$(HOST_TEST) run --format summary --policy annotated-policy.wasm --allow-context-aware \
		--cluster-state examples/cluster/namespaces.yaml --request $(EXAMPLES)

# The browser playground (playground/): the rules built for the browser with wasm-bindgen, and the
# static page, in playground/dist. `make playground-serve` serves it on http://localhost:8000.
BROWSER_TARGET := wasm32-unknown-unknown
PLAYGROUND := playground/dist
# Must equal the wasm-bindgen crate's version in playground/Cargo.toml.
WASM_BINDGEN_VERSION := 0.2.130

browser-target:
	@rustup target list --installed | grep -qx '$(BROWSER_TARGET)' || rustup target add '$(BROWSER_TARGET)'

# A debug build: far quicker to build, and it still handles the page's wasm in about a second.
wasm-bindgen-cli:
	@wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen $(WASM_BINDGEN_VERSION)' \
		|| cargo install --debug --version '=$(WASM_BINDGEN_VERSION)' wasm-bindgen-cli

# No wasm-opt here: Debian's binaryen 108 breaks wasm-bindgen's externref table (the page fails
# with "WebAssembly.Table.set(): Argument 1 is invalid"); it only stripped the name section, which
# wasm-bindgen removes itself.
playground: browser-target wasm-bindgen-cli
	cargo build --locked --profile playground --target $(BROWSER_TARGET) -p pod-security-playground
	rm -rf $(PLAYGROUND) && mkdir -p $(PLAYGROUND)/pkg
	wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
		--out-dir $(PLAYGROUND)/pkg target/$(BROWSER_TARGET)/playground/pod_security_playground.wasm
	cp playground/web/index.html playground/web/playground.css playground/web/playground.js $(PLAYGROUND)/
	sed "s/@BUILD@/$$(cat $(PLAYGROUND)/pkg/* $(PLAYGROUND)/*.* | sha256sum | cut -c1-16)/" playground/web/sw.js \
		> $(PLAYGROUND)/sw.js
	playground/examples.sh $(PLAYGROUND)/examples
	@playground/size.sh $(PLAYGROUND)

playground-serve: playground
	python3 -m http.server --directory $(PLAYGROUND) 8000

fmt-check:
	cargo fmt --all -- --check

# Native, the module for wasm32, the playground for the browser, and the benchmark (behind a
# feature, so checked here or it rots).
clippy: wasm-target browser-target
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo clippy --locked --target $(WASM_TARGET) -p restricted-pod-policy -- -D warnings
	cargo clippy --locked --target $(BROWSER_TARGET) -p pod-security-playground -- -D warnings
	cargo clippy --locked -p host-test --features bench --all-targets -- -D warnings

# The browser the playground's test drives: Debian's chromium and its chromedriver.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

# The registry the push/pull tests start on loopback.
registry-server:
	@command -v docker-registry >/dev/null || (apt-get update && apt-get install -y docker-registry)

# Unit tests, native conformance, the end-to-end fixtures through the built module, and push/pull
# through a real registry. The harness's tests include the playground in headless chromium.
unit-tests: policy harness-tests registry-server playground browser
	cargo test --locked --workspace --exclude host-test
	cargo test --locked -p host-test

# Builds the harness's tests on what `make harness` built, and fails when that compiles any of its
# dependencies again, or when the harness's build compiled one twice (Cargo.toml says why it would).
harness-tests: harness
	cargo build --locked -p host-test --message-format=json > target/harness-build.json
	cargo test --locked -p host-test --no-run --message-format=json-render-diagnostics \
		| tools/rebuilt-dependencies.py target/harness-build.json

conformance: policy
	$(HOST_TEST) conformance --policy policy.wasm --corpus $(CORPUS)

ARTIFACTHUB := $(HOST_TEST) scaffold artifacthub --metadata metadata.yml --questions questions-ui.yml \
	-o artifacthub-pkg.yml

# Regenerates artifacthub-pkg.yml from metadata.yml and questions-ui.yml, keeping its createdAt
# (pass CREATED_AT=2026-12-01T00:00:00Z to date a new release).
artifacthub: harness
	$(ARTIFACTHUB) $(if $(CREATED_AT),--created-at $(CREATED_AT))

# Fails when the committed artifacthub-pkg.yml is not what metadata.yml and questions-ui.yml make.
artifacthub-check: harness
	$(ARTIFACTHUB) --check

test: fmt-check clippy unit-tests conformance artifacthub-check

clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm
	rm -rf $(PLAYGROUND)

# Fuzzing (not part of `make test`): each target for FUZZ_SECONDS, on nightly with libFuzzer. The
# committed seeds in fuzz/corpus/ are read; what the run discovers goes to fuzz/target/corpus/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := validate_payload validate_pod settings

fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && for target in $(FUZZ_TARGETS); do \
	  mkdir -p target/corpus/$$target corpus/$$target; \
	  cargo +nightly fuzz run $$target target/corpus/$$target corpus/$$target -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 | tee target/$$target.log | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+== ERROR|SUMMARY)'; \
	done

# Benchmarks (not part of `make test`): `host-test bench` over benches/ writes BENCHMARKS.md, then the
# start-up of `host-test run` without and with the compiled-module cache, and its throughput over
# BENCH_REQUESTS requests in one process and in one process per core, are appended to it; last, the
# Criterion suite (host-test/benches/validate.rs) prints the per-request measures with statistics.
BENCH_ITERATIONS ?= 2000
BENCH_REQUESTS ?= 2000
BENCH_CACHE := target/bench-cache
BENCH_TYPICAL := benches/01-typical-restricted-pod.json
CHECK_OBJECTS ?= 10000
CHECK_CORPUS := target/check-corpus

# The native side of the comparison is built with the module's profile, so both sides are optimised alike.
BENCH_HOST_TEST := target/module/host-test
# `host-test run` as policy-server runs the policy: granted its namespace lookups, answered from a file.
BENCH_RUN := $(BENCH_HOST_TEST) run --policy annotated-policy.wasm --allow-context-aware --cluster-state benches/cluster/namespaces.yaml

bench: policy
	cargo build --locked --profile module -p host-test --features bench
	$(BENCH_HOST_TEST) bench --policy policy.wasm --requests benches --iterations $(BENCH_ITERATIONS) -o BENCHMARKS.md
	@ms() { local s=$$(date +%s%N); "$$@" >/dev/null 2>&1; echo $$(( ($$(date +%s%N) - s) / 1000000 )); }; \
	run=($(BENCH_RUN) --request $(BENCH_TYPICAL)); \
	rm -rf $(BENCH_CACHE); \
	first=$$(XDG_CACHE_HOME=$$PWD/$(BENCH_CACHE) ms "$${run[@]}"); \
	repeated=(); for i in 1 2 3 4 5; do repeated+=($$(XDG_CACHE_HOME=$$PWD/$(BENCH_CACHE) ms "$${run[@]}")); done; \
	nocache=$$(ms "$${run[@]}" --no-cache); \
	median=$$(printf '%s\n' "$${repeated[@]}" | sort -n | sed -n 3p); \
	requests=(); for i in $$(seq $(BENCH_REQUESTS)); do requests+=(--request $(BENCH_TYPICAL)); done; \
	export XDG_CACHE_HOME=$$PWD/$(BENCH_CACHE); \
	one=$$(ms $(BENCH_RUN) "$${requests[@]}"); \
	cores=$$(nproc); s=$$(date +%s%N); \
	for c in $$(seq $$cores); do $(BENCH_RUN) "$${requests[@]}" >/dev/null 2>&1 & done; wait; \
	all=$$(( ($$(date +%s%N) - s) / 1000000 )); \
	{ echo; echo "## Start-up and throughput of \`host-test run\`"; echo; \
	  echo "Generated by \`make bench\` (wall-clock, one typical pod, $$(date -u '+%Y-%m-%d %H:%M UTC'))."; echo; \
	  echo "| measure | value |"; echo "|---|---:|"; \
	  echo "| first run, empty cache (compiles, stores) | $$first ms |"; \
	  echo "| repeated run, cache hit (median of 5: $${repeated[*]}) | $$median ms |"; \
	  echo "| repeated / first | $$(( median * 100 / first )) % |"; \
	  echo "| \`--no-cache\` run | $$nocache ms |"; \
	  echo "| $(BENCH_REQUESTS) requests, one process | $$one ms, $$(( $(BENCH_REQUESTS) * 1000 / one )) requests/s |"; \
	  echo "| $(BENCH_REQUESTS) requests × $$cores processes (nproc) at once | $$all ms, $$(( $(BENCH_REQUESTS) * cores * 1000 / all )) requests/s |"; \
	} >> BENCHMARKS.md; \
	tail -n 12 BENCHMARKS.md
	@# check: objects per second on a generated corpus (YAML parsing included), its start-up with
	@# a cached module, its peak memory, and the same objects through run as AdmissionReviews.
	$(BENCH_HOST_TEST) bench-corpus --objects $(CHECK_OBJECTS) -o $(CHECK_CORPUS) | tee $(CHECK_CORPUS).out
	@export XDG_CACHE_HOME=$$PWD/$(BENCH_CACHE); \
	ms() { local s=$$(date +%s%N); "$$@" >/dev/null 2>/tmp/host-test-bench.err; echo $$(( ($$(date +%s%N) - s) / 1000000 )); }; \
	$(BENCH_HOST_TEST) check --policy policy.wasm test_data/manifests/helm/redis.yaml >/dev/null 2>&1; \
	startup=(); for i in 1 2 3 4 5; do startup+=($$(ms $(BENCH_HOST_TEST) check --policy policy.wasm test_data/manifests/helm/redis.yaml)); done; \
	startup_median=$$(printf '%s\n' "$${startup[@]}" | sort -n | sed -n 3p); \
	runs=(); for i in 1 2 3; do runs+=($$(ms $(BENCH_HOST_TEST) check --policy policy.wasm --format json $(CHECK_CORPUS)/manifests.yaml)); done; \
	check_ms=$$(printf '%s\n' "$${runs[@]}" | sort -n | sed -n 2p); \
	peak=$$(grep -o 'peak memory [0-9]* MiB' /tmp/host-test-bench.err || echo 'peak memory unknown'); \
	run_ms=$$(ms $(BENCH_RUN) --request $(CHECK_CORPUS)/reviews); \
	{ echo; echo "## \`host-test check\` on $(CHECK_OBJECTS) generated objects"; echo; \
	  echo "Generated by \`make bench\` ($$(date -u '+%Y-%m-%d %H:%M UTC'), $$(nproc) cores; wall-clock, median)."; echo; \
	  echo "| measure | value |"; echo "|---|---:|"; \
	  echo "| check, $(CHECK_OBJECTS) objects in one multi-document YAML stream (runs: $${runs[*]} ms) | $$check_ms ms, $$(( $(CHECK_OBJECTS) * 1000 / check_ms )) objects/s |"; \
	  echo "| check, $$peak of the last run | |"; \
	  echo "| check start-up, one small file, cached module (median of 5: $${startup[*]}) | $$startup_median ms |"; \
	  echo "| run, the same evaluated objects as AdmissionReviews (one file each, fresh instances) | $$run_ms ms |"; \
	  echo "| $$(grep '^reading YAML' $(CHECK_CORPUS).out) | |"; \
	} >> BENCHMARKS.md; \
	tail -n 10 BENCHMARKS.md
	@# The Criterion suite: the same per-request measures, with confidence intervals and the change
	@# since the previous run (kept in target/criterion).
	cargo bench --locked --profile bench-suite -p host-test --features bench --bench validate
