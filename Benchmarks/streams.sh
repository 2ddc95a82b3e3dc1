#!/usr/bin/env bash
# What a stream costs: appends one event to each of STREAMS (default 1,000,000) distinct
# streams on a release logbookd of each engine (--sync normal: this measures memory and
# start-up, not fsync), then reports the daemon's resident memory, kills it with SIGKILL
# and times the restart until it answers a ping.
#
#   Benchmarks/streams.sh            SCRATCH=DIR: swift build's scratch path
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
streams=${STREAMS:-1000000}
scratch=${SCRATCH:-.build}
swift build -c release --scratch-path "$scratch" --product logbookd >/dev/null
swift build -c release --scratch-path "$scratch" --product logbook >/dev/null
bin=$scratch/release
work=$(mktemp -d /tmp/lbstreams.XXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

start() { # engine → pid; waits until the daemon answers
  "$bin/logbookd" --socket "$work/$1.sock" --data "$work/$1" --engine "$1" --sync normal --log-level warning &
  echo $! > "$work/$1.pid"
  LOGBOOK_SOCKET="$work/$1.sock" "$bin/logbook" ping --wait 600 >/dev/null
}

echo "| engine | streams | append events/s | daemon RSS after | start after kill -9 | RSS after the start |"
echo "| --- | --- | --- | --- | --- | --- |"
for engine in log sqlite; do
  start "$engine"
  pid=$(cat "$work/$engine.pid")
  rate=$(LOGBOOK_SOCKET="$work/$engine.sock" "$bin/logbook" bench append --clients 16 --events "$streams" \
    --batch 1 --size 100 --distinct-streams --json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["events_per_second"]))')
  rss=$(rss_mib "$pid")
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  began=$(date +%s.%N)
  start "$engine"
  ready=$(date +%s.%N)
  pid=$(cat "$work/$engine.pid")
  printf '| %s | %s | %s | %s MiB | %.2f s | %s MiB |\n' "$engine" "$streams" "$rate" "$rss" \
    "$(python3 -c "print($ready - $began)")" "$(rss_mib "$pid")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
