#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds with warnings as errors, runs every test, then runs each
# fuzz target for a bounded time (ARBITER_FUZZ_SECONDS, default 30; 0 skips).
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh ci
# Every process the tests start carries this marker; none may outlive them.
export ARBITER_TEST_RUN="$$-$start"
ctest --preset ci
if ! .venv/bin/python scripts/lib/leftover_processes.py "$ARBITER_TEST_RUN" --kill; then
  echo "test.sh: the tests left the processes above running (killed now); a test or" \
       "fixture must stop every process it starts, also when it fails" >&2
  exit 1
fi
unset ARBITER_TEST_RUN
fuzz_seconds="${ARBITER_FUZZ_SECONDS:-30}"
if [[ "$fuzz_seconds" != 0 ]]; then scripts/fuzz.sh "$fuzz_seconds"; fi
echo "test.sh: all tests passed in $(( $(date +%s) - start ))s"
