#!/usr/bin/env bash
# Installs the system packages Logbook needs to build, test and regenerate its protocol code
# on Debian (run as root). Swift itself is expected at /opt/swift or on PATH.
#   --test   also what only the tests need: PostgreSQL 15, for the PostgreSQL store's tests;
#            tmux, a terminal for `logbook top`'s test; systemd, for systemd-analyze verify
set -euo pipefail
packages=(libprotobuf-c-dev libsqlite3-dev protobuf-c-compiler protobuf-compiler python3-protobuf python3-venv mypy-protobuf)
[ "${1:-}" = --test ] && packages+=(postgresql-15 tmux systemd)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
