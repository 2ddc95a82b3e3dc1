#!/usr/bin/env bash
# Fuzzes the daemon's input handling with libFuzzer (issue 14): `frames` (bytes → frames →
# the Status of the server's request checks) and `connection` (random frame sequences
# through a connection's state machine, against a model). Builds `logbook-fuzz` with
# -sanitize=fuzzer,address into .build/fuzz, then runs each target for SECONDS from the
# committed seed corpus in Tests/Fuzz/corpus/TARGET (new inputs go to a scratch copy).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 30 s, both targets
#   scripts/fuzz.sh --runs N [TARGET...]       N executions each instead of a time
#   scripts/fuzz.sh --release ...              an optimised build in .build/fuzz-release,
#                                              several times the executions per second
#
# Exits non-zero on a finding; the crashing input is kept in .build/fuzz/findings (.build/fuzz-release/findings).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

scratch=.build/fuzz
config=(-c debug)
if [[ "${1:-}" == "--release" ]]; then
  scratch=.build/fuzz-release; config=(-c release); shift
fi
limit=(-max_total_time=30)
if [[ "${1:-}" == "--runs" ]]; then
  limit=(-runs="$2"); shift 2
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  limit=(-max_total_time="$1"); shift
fi
targets=("${@:-frames connection}")
read -r -a targets <<< "${targets[*]}"

echo "== fuzz: build (${config[*]}, -sanitize=fuzzer,address)"
swift build "${config[@]}" --scratch-path "$scratch" --product logbook-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link,address 2>&1 \
  | grep -v -e "Cannot export local symbol" -e "^\[" -e "swift-distributed-tracing" -e "CMakeLists.txt"
binary="$(swift build "${config[@]}" --scratch-path "$scratch" --show-bin-path)/logbook-fuzz"

mkdir -p "$scratch/findings"
for target in "${targets[@]}"; do
  work="$(mktemp -d)"
  cp -r "Tests/Fuzz/corpus/$target/." "$work/"
  echo "== fuzz: $target (${limit[*]})"
  set +e
  LOGBOOK_FUZZ_TARGET="$target" "$binary" "$work" "${limit[@]}" -max_len=4096 -rss_limit_mb=2048 \
    -artifact_prefix="$scratch/findings/$target-" -print_final_stats=1 > "$work.log" 2>&1
  status=$?
  set -e
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$work.log" || true
  if [[ $status -ne 0 ]]; then
    tail -40 "$work.log" >&2
    echo "fuzz: $target found a crash (exit $status); the input is in $scratch/findings" >&2
    rm -rf "$work" "$work.log"
    exit 1
  fi
  rm -rf "$work" "$work.log"
done
