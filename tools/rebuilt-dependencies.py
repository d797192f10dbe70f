#!/usr/bin/env python3
"""Fails when a cargo build compiled again a dependency that an earlier build had built.

Usage: rebuilt-dependencies.py EARLIER.json < cargo's messages

EARLIER.json holds an earlier build's `--message-format=json` messages; standard input holds
the later build's `--message-format=json-render-diagnostics` ones, which are passed on minus the
JSON. `make test` builds the harness's tests right after the harness: a dependency compiled again
there means a test-only dependency turned on a feature that host-test/Cargo.toml does not name,
and every clean `make test` pays for a second wasmtime.
"""

import json
import sys


def artifacts(lines):
    for line in lines:
        if line.startswith("{"):
            message = json.loads(line)
            if message.get("reason") == "compiler-artifact":
                yield message


def dependency(message):
    package = message["package_id"]
    return None if package.startswith("path+file://") else package.rsplit("#", 1)[-1]


with open(sys.argv[1], encoding="utf-8") as earlier:
    built = {dependency(message) for message in artifacts(earlier)} - {None}

rebuilt = set()
for line in sys.stdin:
    if not line.startswith("{"):
        sys.stdout.write(line)
        continue
    for message in artifacts([line]):
        if not message["fresh"] and dependency(message) in built:
            rebuilt.add(dependency(message))

if rebuilt:
    print(
        "error: the tests' build compiled these dependencies again: "
        + ", ".join(sorted(rebuilt))
        + "\nName the features the test-only dependencies turn on in host-test/Cargo.toml "
        "(`cargo tree -e features -i CRATE` shows who turns them on).",
        file=sys.stderr,
    )
    sys.exit(1)
