#!/usr/bin/env python3
"""Fails when a cargo build uses a second build of a dependency that an earlier build had built.

Usage: rebuilt-dependencies.py EARLIER.json < cargo's messages

EARLIER.json holds an earlier build's `--message-format=json` messages; standard input holds
the later build's `--message-format=json-render-diagnostics` ones, which are passed on minus the
JSON. A dependency of the later build whose files (named with cargo's hash of its features,
profile and dependencies) are not the earlier build's is a second build of it, whether or not
cargo had it cached. `make test` builds the harness's tests right after the harness: a second
build there means a test-only dependency changed something host-test/Cargo.toml does not name,
and every clean `make test` pays for a second wasmtime.
"""

import json
import sys


def artifact(line):
    """The compiler-artifact message on this line of cargo's output, if it is one."""
    if not line.startswith("{"):
        return None
    message = json.loads(line)
    return message if message.get("reason") == "compiler-artifact" else None


def dependency(message):
    package = message["package_id"]
    return None if package.startswith("path+file://") else package.rsplit("#", 1)[-1]


built_packages, built_files = set(), set()
with open(sys.argv[1], encoding="utf-8") as earlier:
    for message in filter(None, map(artifact, earlier)):
        if dependency(message):
            built_packages.add(dependency(message))
            built_files.update(message["filenames"])

rebuilt = set()
for line in sys.stdin:
    if not line.startswith("{"):
        sys.stdout.write(line)
    elif (message := artifact(line)) and dependency(message) in built_packages:
        if not built_files.intersection(message["filenames"]):
            rebuilt.add(dependency(message))

if rebuilt:
    print(
        "error: the tests' build needs a second build of these dependencies: "
        + ", ".join(sorted(rebuilt))
        + "\nName what the test-only dependencies change in host-test/Cargo.toml "
        "(`cargo tree -e features -i CRATE` shows who turns a feature on).",
        file=sys.stderr,
    )
    sys.exit(1)
