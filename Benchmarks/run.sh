#!/usr/bin/env bash
# Runs the issue's benchmark rows against release logbookd daemons (--sync full), one on
# the log engine and one on the SQLite engine, and the same workloads against Redis 7
# Streams (XADD, appendfsync always) in the same run, several times each, and prints
# medians. Append rows also give each daemon's CPU per event (utime + stime from
# /proc/PID/stat over the workload) and, for the log engine, its log writer thread's
# (/proc/PID/task/TID/stat of the thread named logbook-log). Needs root for apt.
#
#   Benchmarks/run.sh [RUNS]      (default 3)
#   ONLY=append|query|groups Benchmarks/run.sh   one part only; SCRATCH=DIR: swift build's scratch path
#   BIN=DIR Benchmarks/run.sh               the logbookd and logbook already built in DIR (no build)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
runs=${1:-3}
events=${EVENTS:-50000}

command -v redis-server >/dev/null || { apt-get update && apt-get install -y redis-server redis-tools; }
scratch=${SCRATCH:-.build}
only=${ONLY:-all}
bin=${BIN:-}
if [ -z "$bin" ]; then
  swift build -c release --scratch-path "$scratch" --product logbookd >/dev/null
  swift build -c release --scratch-path "$scratch" --product logbook >/dev/null
  bin=$scratch/release
fi

work=$(mktemp -d /tmp/lbbench.XXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT

declare -A daemon
for engine in log sqlite; do
  "$bin/logbookd" --socket "$work/$engine.sock" --data "$work/$engine-data" --engine "$engine" --sync full \
    --log-level warning &
  daemon[$engine]=$!
  for _ in $(seq 100); do [ -S "$work/$engine.sock" ] && break; sleep 0.1; done
done
export LOGBOOK_SOCKET="$work/log.sock"

redis-server --port 0 --unixsocket "$work/redis.sock" --dir "$work" --appendonly yes \
  --appendfsync always --save '' --daemonize no >/dev/null &
for _ in $(seq 100); do [ -S "$work/redis.sock" ] && break; sleep 0.1; done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# utime + stime in clock ticks of a process, or of its thread named $2.
ticks() {
  local stat=/proc/$1/stat
  if [ -n "${2:-}" ]; then
    for task in /proc/$1/task/*; do
      [ "$(cat "$task/comm")" = "$2" ] && stat=$task/stat
    done
  fi
  awk '{print $14 + $15}' "$stat"
}
hz=$(getconf CLK_TCK)

# The append rows: for each engine events/s, p99 and daemon µs CPU per event; Redis the same.
append_row() { # name, logbook bench args, redis-benchmark args, events
  local name=$1 lbargs=$2 rargs=$3 count=$4
  local -A rate cpu
  local writer=() rd=() rdcpu=() pid before after wbefore wafter out
  local redis_pid; redis_pid=$(pgrep -f "redis-server.*$work" | head -1)
  for _ in $(seq "$runs"); do
    for engine in log sqlite; do
      pid=${daemon[$engine]}
      before=$(ticks "$pid")
      [ "$engine" = log ] && wbefore=$(ticks "$pid" logbook-log)
      out=$(LOGBOOK_SOCKET="$work/$engine.sock" "$bin/logbook" bench $lbargs --json)
      after=$(ticks "$pid")
      rate[$engine]+="$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events_per_second"])') "
      cpu[$engine]+="$(python3 -c "print(($after - $before) * 1e6 / $hz / $count)") "
      if [ "$engine" = log ]; then
        wafter=$(ticks "$pid" logbook-log)
        writer+=("$(python3 -c "print(($wafter - $wbefore) * 1e6 / $hz / $count)")")
      fi
    done
    before=$(ticks "$redis_pid")
    csv=$(redis-benchmark -s "$work/redis.sock" $rargs --csv XADD bench '*' f "$payload" | tail -1)
    after=$(ticks "$redis_pid")
    rd+=("$(echo "$csv" | python3 -c 'import csv,sys; print(list(csv.reader(sys.stdin))[0][1])')")
    rdcpu+=("$(python3 -c "print(($after - $before) * 1e6 / $hz / $count)")")
  done
  local logm sqlm rdm
  logm=$(printf '%s\n' ${rate[log]} | median)
  sqlm=$(printf '%s\n' ${rate[sqlite]} | median)
  rdm=$(printf '%s\n' "${rd[@]}" | median)
  printf '| %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f |\n' "$name" \
    "$logm" "$sqlm" "$rdm" "$(python3 -c "print($logm/$rdm)")" "$(python3 -c "print($sqlm/$rdm)")" \
    "$(printf '%s\n' ${cpu[log]} | median)" "$(printf '%s\n' "${writer[@]}" | median)" \
    "$(printf '%s\n' ${cpu[sqlite]} | median)" "$(printf '%s\n' "${rdcpu[@]}" | median)"
}

row() { # name, logbook bench args, redis-benchmark args ("" for none), redis command (default XADD)
  local name=$1 lbargs=$2 rargs=$3 lb=() lbp99=() rd=() rdp99=()
  local rcmd=("${@:4}")
  [ ${#rcmd[@]} -gt 0 ] || rcmd=(XADD bench '*' f "$payload")
  for _ in $(seq "$runs"); do
    out=$("$bin/logbook" bench $lbargs --json)
    lb+=("$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events_per_second"])')")
    lbp99+=("$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_us"])')")
    if [ -n "$rargs" ]; then
      csv=$(redis-benchmark -s "$work/redis.sock" $rargs --csv "${rcmd[@]}" | tail -1)
      rd+=("$(echo "$csv" | python3 -c 'import csv,sys; print(list(csv.reader(sys.stdin))[0][1])')")
      rdp99+=("$(echo "$csv" | python3 -c 'import csv,sys; print(float(list(csv.reader(sys.stdin))[0][6]) * 1000)')")
    fi
  done
  local lbm p99m rdm rdp99m ratio
  lbm=$(printf '%s\n' "${lb[@]}" | median)
  p99m=$(printf '%s\n' "${lbp99[@]}" | median)
  if [ -n "$rargs" ]; then
    rdm=$(printf '%s\n' "${rd[@]}" | median)
    rdp99m=$(printf '%s\n' "${rdp99[@]}" | median)
    ratio=$(python3 -c "print(f'{$lbm/$rdm:.2f}')")
    printf '| %s | %.0f | %.0f | %.0f | %.0f | %s |\n' "$name" "$lbm" "$p99m" "$rdm" "$rdp99m" "$ratio"
  else
    printf '| %s | %.0f | %.0f | - | - | - |\n' "$name" "$lbm" "$p99m"
  fi
}

payload=$(head -c 200 /dev/zero | tr '\0' x)
if [ "$only" = all ] || [ "$only" = append ]; then
echo "| workload (medians of $runs) | log engine events/s | SQLite engine events/s | Redis XADD/s | log ÷ Redis | SQLite ÷ Redis | log daemon CPU µs/event | log writer thread µs/event | SQLite daemon CPU µs/event | Redis CPU µs/event |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
append_row "append, 1 client" "append --clients 1 --events $((events / 10)) --size 200" "-c 1 -n $((events / 10))" $((events / 10))
append_row "append, 50 clients" "append --clients 50 --events $events --size 200" "-c 50 -n $events" "$events"
append_row "append, 50 clients x 16 events" "append --clients 50 --events $((events * 4)) --batch 16 --size 200" "-c 50 -n $((events * 4)) -P 16" $((events * 4))
echo
echo "| workload | logbook events/s (median of $runs) | logbook p99 µs | redis | redis p99 µs | ratio |"
echo "| --- | --- | --- | --- | --- | --- |"
row "read 1M events (log engine)" "read --clients 1 --events 1000000 --size 200" ""

# $all in calls of 500 against XRANGE COUNT 500 over Redis's stream of the append rows
# (redis-benchmark counts calls: each brings 500 entries).
lb=(); rd=()
for _ in $(seq "$runs"); do
  out=$("$bin/logbook" bench read --clients 4 --events 200000 --size 200 --json)
  lb+=("$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events_per_second"])')")
  csv=$(redis-benchmark -s "$work/redis.sock" -c 4 -n 2000 --csv XRANGE bench - + COUNT 500 | tail -1)
  rd+=("$(echo "$csv" | python3 -c 'import csv,sys; print(float(list(csv.reader(sys.stdin))[0][1]) * 500)')")
done
lbm=$(printf '%s\n' "${lb[@]}" | median); rdm=$(printf '%s\n' "${rd[@]}" | median)
printf '| read $all, 4 clients, 500 per call (log engine) | %.0f | - | %.0f (XRANGE COUNT 500) | - | %.2f |\n' \
  "$lbm" "$rdm" "$(python3 -c "print($lbm/$rdm)")"
fi

if [ "$only" = all ] || [ "$only" = groups ]; then
# A group draining a backlog: 100,000 events appended first, then delivered and acked by
# 1 and 4 consumers of a round-robin group (log engine). The peer is a Redis stream drained
# by a consumer group, XREADGROUP COUNT 100 then XACK, driven from Python (redis-py with
# hiredis, in a virtual environment made on first use). CPU per event is the server's over
# the whole workload, backlog appends included.
venv=${BENCH_VENV:-/tmp/logbook-bench-venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q redis hiredis; }
redis_pid=$(pgrep -f "redis-server.*$work" | head -1)
echo
echo "| group drain (medians of $runs) | logbook events/s | logbook daemon CPU µs/event | Redis events/s | Redis CPU µs/event | ratio |"
echo "| --- | --- | --- | --- | --- | --- |"
for consumers in 1 4; do
  lb=(); lbcpu=(); rd=(); rdcpu=()
  for _ in $(seq "$runs"); do
    before=$(ticks "${daemon[log]}")
    out=$("$bin/logbook" bench drain --clients "$consumers" --events 100000 --json)
    after=$(ticks "${daemon[log]}")
    lb+=("$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events_per_second"])')")
    lbcpu+=("$(python3 -c "print(($after - $before) * 1e6 / $hz / 100000)")")
    before=$(ticks "$redis_pid")
    out=$("$venv/bin/python" Benchmarks/redis_drain.py "$work/redis.sock" 100000 "$consumers")
    after=$(ticks "$redis_pid")
    rd+=("$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events_per_second"])')")
    rdcpu+=("$(python3 -c "print(($after - $before) * 1e6 / $hz / 100000)")")
  done
  lbm=$(printf '%s\n' "${lb[@]}" | median); rdm=$(printf '%s\n' "${rd[@]}" | median)
  printf '| %s consumer(s) | %.0f | %.1f | %.0f | %.1f | %.2f |\n' "$consumers" "$lbm" \
    "$(printf '%s\n' "${lbcpu[@]}" | median)" "$rdm" "$(printf '%s\n' "${rdcpu[@]}" | median)" "$(python3 -c "print($lbm/$rdm)")"
done
fi
[ "$only" = all ] || [ "$only" = query ] || exit 0

# The read side (issue 4): a view of 100,000 documents written by a worker through its acks,
# queried for one document by key and by an indexed predicate ($.n = N). The peer for a
# lookup by key is Redis GET of a 200-byte value (Redis has no secondary index to compare
# the predicate with). Then the time from an append to the query that sees it in the view
# (min_position), with one worker.
docs=${DOCS:-100000}
redis-cli -s "$work/redis.sock" SET doc "$payload" >/dev/null
echo
echo "| workload | logbook queries/s (median of $runs) | logbook p99 µs | redis GET/s | redis p99 µs | ratio |"
echo "| --- | --- | --- | --- | --- | --- |"
row "query by key, 1 client, $docs docs" "query --clients 1 --docs $docs --queries 20000 --by key" "-c 1 -n 20000" GET doc
row "query by key, 16 clients, $docs docs" "query --clients 16 --docs $docs --queries 100000 --by key" "-c 16 -n 100000" GET doc
row "query by indexed predicate, 1 client, $docs docs" "query --clients 1 --docs $docs --queries 20000 --by predicate" ""
row "query by indexed predicate, 16 clients, $docs docs" "query --clients 16 --docs $docs --queries 100000 --by predicate" ""
echo
echo "append → visible in a view (1 worker), median of $runs runs:"
for _ in $(seq "$runs"); do
  "$bin/logbook" bench visible --events 2000 --json
done | python3 -c '
import json, sys, statistics
rows = [json.loads(line) for line in sys.stdin if line.strip()]
print("p50 %.0f µs, p99 %.0f µs" % (statistics.median(r["p50_us"] for r in rows), statistics.median(r["p99_us"] for r in rows)))'
