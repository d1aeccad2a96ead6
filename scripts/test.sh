#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds with warnings as errors, runs every test, then runs each
# fuzz target for a bounded time (ARBITER_FUZZ_SECONDS, default 30; 0 skips).
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh ci
ctest --preset ci
fuzz_seconds="${ARBITER_FUZZ_SECONDS:-30}"
if [[ "$fuzz_seconds" != 0 ]]; then scripts/fuzz.sh "$fuzz_seconds"; fi
echo "test.sh: all tests passed in $(( $(date +%s) - start ))s"
