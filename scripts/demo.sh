#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what is missing,
# builds, then validates the Common Crawl example project and lists its assets
# and the partitions of one of them.
#   scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ci
arbiter=build/ci/src/arbiter/cli/arbiter
example=examples/commoncrawl
echo
echo "\$ arbiter check $example"
"$arbiter" check "$example"
echo
echo "\$ arbiter -C $example assets"
"$arbiter" -C "$example" assets
echo
echo "\$ arbiter -C $example partitions commoncrawl/edges --limit 4"
"$arbiter" -C "$example" partitions commoncrawl/edges --limit 4
