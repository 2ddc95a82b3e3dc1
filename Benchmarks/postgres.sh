#!/usr/bin/env bash
# The PostgreSQL store against its peers on one throwaway PostgreSQL 15 cluster
# (synchronous_commit on, fsync on), in one run:
#   - appends, 50 clients on each of 3 logbookd sharing one database (at once), and on one;
#   - a Message DB-style stored-function append (Benchmarks/postgres/message_db.sql) with
#     50 pgbench clients;
#   - append → delivery on another daemon (bench subscribe --appenders-socket);
#   - a group drained by consumers on three daemons and on one (bench drain --consumers-socket);
#   - the `eventsourcing` library's performance cases, Logbook's persistence module on a
#     daemon on PostgreSQL against the library's own PostgreSQL recorder.
#
#   Benchmarks/postgres.sh [RUNS]      (default 3)    BIN=DIR: release binaries (default .build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
bin=${BIN:-.build/release}
events=${EVENTS:-20000}

work=$(mktemp -d /tmp/lbpg.XXXX)
chmod 755 "$work"
url=$(scripts/postgres.sh start "$work/pg")
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; scripts/postgres.sh stop "$work/pg" || true; rm -rf "$work"' EXIT
sql() { psql "$url" -qAtc "$1"; }
sql "CREATE DATABASE logbook" && sql "CREATE DATABASE messagedb" && sql "CREATE DATABASE es"
store=${url/\/\/\/postgres?/\/\/\/logbook?}

for i in 1 2 3; do
  "$bin/logbookd" --socket "$work/d$i.sock" --store "$store" --log-level warning &
done
for i in 1 2 3; do
  for _ in $(seq 100); do [ -S "$work/d$i.sock" ] && break; sleep 0.1; done
done

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rate() { python3 -c 'import json,sys; print(round(json.load(sys.stdin)["events_per_second"]))'; }

echo "== appends, 50 clients × 1 event, 200 bytes"
three=() one=()
for run in $(seq "$runs"); do
  for i in 1 2 3; do
    LOGBOOK_SOCKET="$work/d$i.sock" "$bin/logbook" bench append --clients 50 --events "$events" --size 200 --json >"$work/r$i" &
  done
  wait $(jobs -p | tail -3) 2>/dev/null || true
  sum=0; for i in 1 2 3; do sum=$((sum + $(rate <"$work/r$i"))); done
  three+=("$sum")
  one+=("$(LOGBOOK_SOCKET="$work/d1.sock" "$bin/logbook" bench append --clients 50 --events "$events" --size 200 --json | rate)")
  echo "run $run: 3 daemons × 50 clients $sum/s; 1 daemon × 50 clients ${one[-1]}/s"
done

echo "== Message DB-style write_message, 50 pgbench clients"
psql "${url/\/\/\/postgres?/\/\/\/messagedb?}" -q -f Benchmarks/postgres/message_db.sql
mdb=()
for run in $(seq "$runs"); do
  tps=$(pgbench -n -c 50 -j 2 -T 10 -f Benchmarks/postgres/message_db_append.pgbench \
    -h "$work/pg" -U postgres messagedb 2>/dev/null | awk '/^tps/ { print int($3) }')
  mdb+=("$tps")
  echo "run $run: $tps appends/s"
done

echo "== append → delivery on another daemon (subscriber on daemon 1, 50 appenders on daemon 2)"
for run in $(seq "$runs"); do
  LOGBOOK_SOCKET="$work/d1.sock" "$bin/logbook" bench subscribe --clients 1 --events 5000 \
    --appenders-socket "$work/d2.sock" | sed -n '2,4p'
done

echo "== a group draining a backlog of $events events: 3 consumers on 3 daemons, and on one daemon"
for run in $(seq "$runs"); do
  spread=$(LOGBOOK_SOCKET="$work/d1.sock" "$bin/logbook" bench drain --clients 3 --events "$events" \
    --consumers-socket "$work/d2.sock" --consumers-socket "$work/d3.sock" --json | rate)
  single=$(LOGBOOK_SOCKET="$work/d1.sock" "$bin/logbook" bench drain --clients 3 --events "$events" --json | rate)
  echo "run $run: 3 daemons $spread events/s; 1 daemon $single events/s"
done

three_median=$(printf '%s\n' "${three[@]}" | median)
one_median=$(printf '%s\n' "${one[@]}" | median)
mdb_median=$(printf '%s\n' "${mdb[@]}" | median)
echo
echo "| appends/s, medians of $runs | Logbook, 3 daemons × 50 clients | Logbook, 1 daemon × 50 clients | Message DB-style, 50 clients | 3 daemons ÷ Message DB |"
echo "| --- | --- | --- | --- | --- |"
echo "| | $three_median | $one_median | $mdb_median | $(python3 -c "print(round($three_median / $mdb_median, 2))") |"

echo "== the eventsourcing library's performance cases"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "./Clients/python[test]" "eventsourcing[postgres]"
"$work/venv/bin/python" Benchmarks/postgres_cases.py "$work/d1.sock" "$work/pg" es "$runs"
