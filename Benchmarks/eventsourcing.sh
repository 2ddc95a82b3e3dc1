#!/usr/bin/env bash
# The `eventsourcing` library's performance cases on three recorders, in one run: Logbook's
# persistence module against a release logbookd (log engine, --sync full), UmaDB (its
# wheel carries the server) and the library's in-process SQLite recorder (a file in a temp
# directory). Installs both into a throwaway virtual environment from PyPI.
#
#   Benchmarks/eventsourcing.sh [RUNS]      (default 9)    SCRATCH=DIR: swift build's scratch path
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
runs=${1:-9}
scratch=${SCRATCH:-.build}
swift build -c release --scratch-path "$scratch" --product logbookd >/dev/null
bin=$scratch/release

work=$(mktemp -d /tmp/lbes.XXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "./Clients/python[test]" umadb eventsourcing-umadb

"$bin/logbookd" --socket "$work/logbook.sock" --data "$work/logbook" --sync full --log-level warning &
"$work/venv/bin/umadb" --listen 127.0.0.1:50787 --db-path "$work/uma.db" >/dev/null 2>&1 &
for _ in $(seq 100); do [ -S "$work/logbook.sock" ] && break; sleep 0.1; done
sleep 1

"$work/venv/bin/python" Benchmarks/es_cases.py "$work/logbook.sock" http://127.0.0.1:50787 "$work/es.sqlite" "$runs"
