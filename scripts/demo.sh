#!/usr/bin/env bash
# README command one, from a fresh Debian 12 machine: installs what is missing,
# builds, then runs the Common Crawl example on the local runtime — several
# partitions of each asset (a backfill), then the runs, the materializations
# and the partition status. Run state stays in examples/commoncrawl/.arbiter/
# (git-ignored) for you to explore afterwards.
#   scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ci
source scripts/venv-env.sh
arbiter="$PWD/build/ci/src/arbiter/cli/arbiter"
example=examples/commoncrawl

step() {
  echo
  echo "\$ arbiter $*"
  "$arbiter" "$@"
}

step check "$example"
step -C "$example" assets
step -C "$example" plan commoncrawl/nodes
step -C "$example" materialize commoncrawl/nodes --runtime local \
  --from 'CC-MAIN-2024-10|seeds-a' --to 'CC-MAIN-2024-18|seeds-b' --concurrency 2
step -C "$example" materialize commoncrawl/edges --runtime local \
  --from 'CC-MAIN-2024-10|seeds-a' --to 'CC-MAIN-2024-18|seeds-b' --concurrency 2
step -C "$example" materialize commoncrawl/summary -p CC-MAIN-2024-10 -p CC-MAIN-2024-18
step -C "$example" runs --limit 10
step -C "$example" cost --by runtime
step -C "$example" materializations commoncrawl/nodes
step -C "$example" materializations commoncrawl/summary
step -C "$example" partitions commoncrawl/edges
last_run=$("$arbiter" -C "$example" --json runs --limit 1 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
step -C "$example" logs "$last_run"
