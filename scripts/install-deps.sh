#!/usr/bin/env bash
# Installs the system packages Logbook needs to build, test and regenerate its protocol code
# on Debian (run as root). Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail
packages=(libprotobuf-c-dev libsqlite3-dev postgresql-15 protobuf-c-compiler protobuf-compiler python3-protobuf python3-venv mypy-protobuf)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
