#!/usr/bin/env bash
# The Python client's CI step: a fresh virtual environment with the package and its test
# extra from PyPI, the generated-code check (protoc and protoc-gen-mypy: Debian's
# protobuf-compiler and mypy-protobuf), mypy --strict over the package, then the tests
# against the logbookd and logbook that `swift build` put in .build/debug (or $LOGBOOKD /
# $LOGBOOK_CLI). Run after the Swift build.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT

echo "== python client: generated code is up to date"
"$here/scripts/generate.sh" --check

echo "== python client: install"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$here[test]"

cd "$here"
echo "== python client: mypy --strict"
"$venv/bin/python" -m mypy --strict logbook_client

echo "== python client: tests"
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests
