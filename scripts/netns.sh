#!/usr/bin/env bash
# Network namespaces that stand in for separate hosts (root only), for the multi-host test.
#
#   scripts/netns.sh up NAME HOSTS    namespaces NAME-db and NAME-h1 … NAME-hHOSTS; host k
#                                     reaches NAME-db at 10.231.k.1 over a veth pair of its
#                                     own (it is 10.231.k.2), and nothing else
#   scripts/netns.sh down NAME HOSTS  deletes them (and the veth pairs with them)
#
# Run a cluster in NAME-db with NETNS=NAME-db LISTEN='*' scripts/postgres.sh start DIR,
# and a daemon on host k with ip netns exec NAME-hk logbookd --store
# postgresql://postgres@10.231.k.1:5432/DB. Unix sockets are files, so the test process
# still reaches each daemon's socket and the cluster's from the root namespace.
set -euo pipefail
command=${1:?usage: netns.sh up|down NAME HOSTS}
name=${2:?usage: netns.sh up|down NAME HOSTS}
hosts=${3:?usage: netns.sh up|down NAME HOSTS}

case "$command" in
up)
  ip netns add "$name-db"
  ip -n "$name-db" link set lo up
  for k in $(seq 1 "$hosts"); do
    ip netns add "$name-h$k"
    ip -n "$name-h$k" link set lo up
    ip link add "$name-a$k" type veth peer name "$name-b$k"
    ip link set "$name-a$k" netns "$name-db"
    ip link set "$name-b$k" netns "$name-h$k"
    ip -n "$name-db" addr add "10.231.$k.1/24" dev "$name-a$k"
    ip -n "$name-db" link set "$name-a$k" up
    ip -n "$name-h$k" addr add "10.231.$k.2/24" dev "$name-b$k"
    ip -n "$name-h$k" link set "$name-b$k" up
  done
  ;;
down)
  for k in $(seq 1 "$hosts"); do ip netns del "$name-h$k" 2>/dev/null || true; done
  ip netns del "$name-db" 2>/dev/null || true
  ;;
*)
  echo "usage: netns.sh up|down NAME HOSTS" >&2
  exit 2
  ;;
esac
