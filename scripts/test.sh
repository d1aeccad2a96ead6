#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds with warnings as errors, runs every test.
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh ci
ctest --preset ci
echo "test.sh: all tests passed in $(( $(date +%s) - start ))s"
