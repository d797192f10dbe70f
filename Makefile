# Two commands do all set-up on a fresh machine:
#   make run   builds the module and the harness and evaluates every example
#   make test  everything CI checks
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

WASM_TARGET := wasm32-wasip1
MODULE_BUILD := target/$(WASM_TARGET)/release/restricted_pod_policy.wasm
HOST_TEST := target/release/host-test
CORPUS ?= ../shared/psa-testdata
EXAMPLES := examples/admission-reviews

.PHONY: all policy harness run test fmt-check clippy unit-tests conformance wasm-target clean
.DELETE_ON_ERROR:

all: policy harness

wasm-target:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add '$(WASM_TARGET)'

# The module Kubewarden loads, at the repository root.
policy: wasm-target
	cargo build --locked --release --target $(WASM_TARGET) -p restricted-pod-policy
	cp $(MODULE_BUILD) policy.wasm
	@echo "policy.wasm: $$(stat -c %s policy.wasm) bytes"

harness:
	cargo build --locked --release -p host-test

run: policy harness
	$(HOST_TEST) run --format summary --policy policy.wasm --request $(EXAMPLES)

fmt-check:
	cargo fmt --all -- --check

clippy: wasm-target
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo clippy --locked --target $(WASM_TARGET) -p restricted-pod-policy -- -D warnings

# Unit tests, native conformance, and the end-to-end fixtures through the built module.
unit-tests: policy
	cargo test --locked --workspace

conformance: policy harness
	$(HOST_TEST) conformance --policy policy.wasm --corpus $(CORPUS)

test: fmt-check clippy unit-tests conformance

clean:
	cargo clean
	rm -f policy.wasm
