#!/usr/bin/env bash
# Runs the Swift test suite under a sanitizer (issue 14): thread (ThreadSanitizer) or
# address (AddressSanitizer), each in a build directory of its own (.build/tsan,
# .build/asan), so the ordinary build is left alone.
#
#   scripts/sanitize.sh thread|address [swift test arguments, e.g. --filter LogbookServerTests]
#
# The end-to-end suites start logbookd from the same build, so the daemon runs sanitized
# too; its reports go to its log, which the tests print when they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

sanitizer="${1:?say thread or address}"; shift
# LOGBOOK_TSAN: `Mutex` becomes a lock ThreadSanitizer can see (Sources/LogbookLocks); its
# methods are then found through the module's typealias without each file importing
# LogbookLocks, which MemberImportVisibility would demand.
case "$sanitizer" in
  thread) scratch=.build/tsan; flags=(-Xswiftc -DLOGBOOK_TSAN -Xswiftc -disable-upcoming-feature -Xswiftc MemberImportVisibility) ;;
  address) scratch=.build/asan; flags=() ;;
  *) echo "sanitize.sh: thread or address, not $sanitizer" >&2; exit 64 ;;
esac

# Reports fail the run: a finding is a test failure, not a line in a log.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=0 suppressions=$PWD/scripts/asan-suppressions.txt ${ASAN_OPTIONS:-}"

echo "== build with --sanitize=$sanitizer into $scratch"
swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" "${flags[@]}" 2>&1 \
  | grep -v -e "^\[" -e "swift-distributed-tracing" -e "CMakeLists.txt" -e "Cannot export local symbol"
echo "== tests under $sanitizer"
LOGBOOK_BIN_DIR="$(swift build --scratch-path "$scratch" --show-bin-path)" \
  swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "${flags[@]}" "$@"
