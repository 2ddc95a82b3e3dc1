#!/usr/bin/env bash
# The whole test suite: system packages, generated-code freshness, build, all tests
# (unit tests and end-to-end tests against the real logbookd and logbook binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/install-deps.sh

echo "== generated code is up to date"
scripts/generate.sh
generated=(Sources/CLogbookProto Sources/LogbookWire/Generated Clients/python/logbook_client/_pb)
if ! git diff --exit-code --stat -- "${generated[@]}" \
   || [ -n "$(git status --porcelain -- "${generated[@]}")" ]; then
  echo "generated code differs from Protos/: run scripts/generate.sh and commit the result" >&2
  exit 1
fi

echo "== build"
swift build --build-tests

echo "== tests"
swift test --skip-build

echo "== storage tests on the SQLite engine (the run above used the log engine)"
LOGBOOK_TEST_ENGINE=sqlite swift test --skip-build --filter LogbookStorageTests

echo "== python client"
Clients/python/scripts/ci.sh
