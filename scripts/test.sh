#!/usr/bin/env bash
# The whole test suite: system packages, generated-code freshness, build, all tests
# (unit tests and end-to-end tests against the real logbookd and logbook binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/install-deps.sh --test

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

echo "== a throwaway PostgreSQL 15 for the PostgreSQL store's tests"
postgres_dir=$(mktemp -d /tmp/logbook-test-postgres.XXXXXX)
chmod 755 "$postgres_dir"
export LOGBOOK_TEST_POSTGRES
LOGBOOK_TEST_POSTGRES=$(scripts/postgres.sh start "$postgres_dir")
trap 'scripts/postgres.sh stop "$postgres_dir" || true; rm -rf "$postgres_dir"' EXIT

echo "== tests"
# The log engine's fault suites (a hundred kill -9 restarts, injected I/O errors) run on
# their own afterwards: beside the rest they load the machine enough to starve the tests
# whose workers share this process's two Swift concurrency threads.
# The suites of daemons sharing PostgreSQL (three at once, on one host and in network
# namespaces, and PostgreSQL restarting) also run on their own, after the rest: beside it
# they loaded the machine enough to slow other suites' daemons past their bounds.
# The unit suites first, on their own: the client's reconnection tests and the timers of the
# in-process ones waited over 30 s for a thread beside the end-to-end suites' daemons starting.
swift test --skip-build --skip 'EndToEndTests\.'
echo "== end-to-end tests"
swift test --skip-build --filter 'EndToEndTests\.' --skip LogEngineFaultTests --skip 'EndToEndTests\.Postgres'

echo "== daemons sharing one PostgreSQL: on one host, as three hosts, and PostgreSQL restarting"
swift test --skip-build --filter 'EndToEndTests\.Postgres'

echo "== end-to-end suites again, each daemon on a PostgreSQL database of its own"
# The suites that are about the log, groups and views rather than one engine's files, in
# two runs: all at once, the views' CLI tests (which block test threads on processes) and
# the group workers' starved each other's clients past their ack timeouts.
LOGBOOK_TEST_STORE=postgres swift test --skip-build \
  --filter 'EndToEndTests\.(ReadCallTests|SubscriptionTests|RobustnessTests|SwiftClientTests|SubscribeClientTests|GroupTests|GroupCLITests|GroupWorkerTests)'
LOGBOOK_TEST_STORE=postgres swift test --skip-build --filter 'EndToEndTests\.(ViewClientTests|ViewCLITests|ExampleWorkerTests|MetricsTests|ExportImportTests|BackupTests|StreamLifecycleClientTests)'

echo "== log engine fault tests"
swift test --skip-build --filter LogEngineFaultTests

echo "== storage tests on the SQLite engine (the run above used the log engine)"
LOGBOOK_TEST_ENGINE=sqlite swift test --skip-build --filter LogbookStorageTests

echo "== python client"
Clients/python/scripts/ci.sh

echo "== fuzz: the committed corpus replayed, then a short libFuzzer run of each target"
for target in frames connection; do
  LOGBOOK_FUZZ_TARGET=$target .build/debug/logbook-fuzz "Tests/Fuzz/corpus/$target"
done
scripts/fuzz.sh 25
