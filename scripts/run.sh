#!/usr/bin/env bash
# Installs what is missing, builds a release logbookd and runs it on its defaults
# (socket ./logbook.sock, data ./logbook-data, --sync full). Extra arguments go to logbookd.
set -euo pipefail
export PATH="/opt/swift/usr/bin:$PATH"
"$(dirname "$0")/install-deps.sh"
exec swift run -c release logbookd "$@"
