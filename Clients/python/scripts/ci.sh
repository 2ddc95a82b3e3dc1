#!/usr/bin/env bash
# The Python client's CI step: a fresh virtual environment with the package and pytest from
# PyPI, the generated-code check, then the tests against the logbookd and logbook that
# `swift build` put in .build/debug (or $LOGBOOKD / $LOGBOOK_CLI). Run after the Swift build.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT

echo "== python client: generated code is up to date"
"$here/scripts/generate.sh" --check

echo "== python client: install"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$here[test]"

echo "== python client: tests"
cd "$here"
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests
