#!/usr/bin/env python3
"""Fails when a dependency of the harness is built twice: within its build, or again for its tests.

Usage: rebuilt-dependencies.py EARLIER.json < cargo's messages

EARLIER.json holds the harness build's `--message-format=json` messages; standard input holds the
tests' build's `--message-format=json-render-diagnostics` ones, which are passed on minus the JSON.
A dependency's files are named with cargo's hash of its features, profile and dependencies, so:
- two sets of files for one crate in the harness build are two builds of it, one for the macros and
  build scripts that run at build time and one for the harness;
- files of a dependency in the tests' build that are not the harness build's are a second build of
  it, whether or not cargo had it cached.
Either way every clean `make run` or `make test` pays for a second wasmtime or Cranelift crate. The
workspace's `Cargo.toml` says how it keeps one build of each.
"""

import json
import sys
from collections import defaultdict


def artifact(line):
    """The compiler-artifact message on this line of cargo's output, if it is one."""
    if not line.startswith("{"):
        return None
    message = json.loads(line)
    return message if message.get("reason") == "compiler-artifact" else None


def dependency(message):
    package = message["package_id"]
    return None if package.startswith("path+file://") else package.rsplit("#", 1)[-1]


HINT = (
    "\n`cargo tree -e features -i CRATE` shows who turns its features on; the workspace's "
    "Cargo.toml says how they are kept alike."
)

builds = defaultdict(set)
built_packages, built_files = set(), set()
with open(sys.argv[1], encoding="utf-8") as earlier:
    for message in filter(None, map(artifact, earlier)):
        if name := dependency(message):
            crate = (name, message["target"]["name"], tuple(message["target"]["kind"]))
            builds[crate].add(tuple(sorted(message["filenames"])))
            built_packages.add(name)
            built_files.update(message["filenames"])
twice = sorted({crate[0] for crate, files in builds.items() if len(files) > 1})

rebuilt = set()
for line in sys.stdin:
    if not line.startswith("{"):
        sys.stdout.write(line)
    elif (message := artifact(line)) and (name := dependency(message)) in built_packages:
        if not built_files.intersection(message["filenames"]):
            rebuilt.add(name)

if twice:
    print(
        "error: the harness's build builds these dependencies twice: " + ", ".join(twice) + HINT,
        file=sys.stderr,
    )
if rebuilt:
    print(
        "error: the tests' build needs a second build of these dependencies: "
        + ", ".join(sorted(rebuilt))
        + HINT,
        file=sys.stderr,
    )
sys.exit(1 if twice or rebuilt else 0)
