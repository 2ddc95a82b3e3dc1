#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and benchmarks, Unix socket only.
#
# With LISTEN='*' it listens on TCP port 5432 too (any client trusted), and with
# NETNS=NAME it runs in that network namespace (scripts/netns.sh): the multi-host test.
#
#   scripts/postgres.sh start DIR   initdb into DIR/data, start it, print its URL
#   scripts/postgres.sh stop DIR    stop it (the directory stays; remove it yourself)
#   scripts/postgres.sh restart DIR stop it fast (open connections are cut) and start it again
#
# PostgreSQL refuses to run as root, so the cluster runs as the `postgres` user that
# Debian's package creates (scripts/install-deps.sh --test installs it). The URL names the
# socket directory: postgresql:///postgres?host=DIR&user=postgres
set -euo pipefail
command=${1:?usage: postgres.sh start|stop|restart DIR}
dir=${2:?usage: postgres.sh start|stop|restart DIR}
bin=/usr/lib/postgresql/15/bin
# The server outlives this script: it must not inherit a descriptor its caller waits on
# (a pipe, or the one Foundation's Process watches to learn that this script exited).
for fd in $(ls /proc/$$/fd); do
  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
as_postgres=()
[ -n "${NETNS:-}" ] && as_postgres=(ip netns exec "$NETNS")
[ "$(id -u)" = 0 ] && as_postgres+=(runuser -u postgres --)
listen=${LISTEN:-}

case "$command" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  "${as_postgres[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log"
  [ -n "$listen" ] && echo "host all all 0.0.0.0/0 trust" >>"$dir/data/pg_hba.conf"
  # fsync stays on: the store's promises are about what survives.
  "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses='$listen' -c unix_socket_directories='$dir' -c max_connections=500" start >/dev/null
  echo "postgresql:///postgres?host=$dir&user=postgres"
  ;;
stop)
  "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
restart)
  "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w restart >/dev/null
  ;;
*)
  echo "usage: postgres.sh start|stop|restart DIR" >&2
  exit 2
  ;;
esac
