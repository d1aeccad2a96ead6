#!/usr/bin/env bash
# The service on the Common Crawl example: starts `arbiter serve` on a copy of the
# project (with one extra schedule that fires every minute), creates a backfill of
# two dependent assets for two crawls, shows its progress until it completes, waits
# for a tick of the schedule to materialize the other crawls' nodes, then stops the
# service with SIGTERM. Takes three to four minutes.
#   scripts/demo-service.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ci
source scripts/venv-env.sh
arbiter="$PWD/build/ci/src/arbiter/cli/arbiter"
work=$(mktemp -d /tmp/arbiter-service-demo-XXXXXX)
cp -r examples/commoncrawl "$work/project"
rm -rf "$work/project/.arbiter"
project="$work/project"
# A schedule that fires within a minute, so the demo shows ticks: each one runs the
# partitions of commoncrawl/nodes not materialized yet (the backfill covers two crawls).
cat >> "$project/arbiter.yaml" <<'YAML'
  every-minute:
    cron: "* * * * *"
    assets: [commoncrawl/nodes]
    partitions: all_missing
YAML

step() {
  echo
  echo "\$ arbiter $*"
  "$arbiter" -C "$project" "$@"
}

echo "\$ arbiter serve   (in the background; its log: $work/serve.log)"
"$arbiter" -C "$project" serve 2>"$work/serve.log" &
serve=$!
trap 'kill -TERM $serve 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q service.started "$work/serve.log" && break; sleep 0.1; done
step schedules
step backfill commoncrawl/nodes commoncrawl/edges --runtime local \
  --from 'CC-MAIN-2024-10|seeds-a' --to 'CC-MAIN-2024-18|seeds-b'
until "$arbiter" -C "$project" --json backfills --all 2>/dev/null |
  python3 -c 'import json,sys; b=json.load(sys.stdin); sys.exit(0 if b and b[0]["status"]=="COMPLETED" else 1)'; do
  step backfills
  sleep 5
done
step backfills --all
echo
echo "waiting for a tick of the every-minute schedule to run the missing nodes ..."
until "$arbiter" -C "$project" --json schedules every-minute 2>/dev/null |
  python3 -c 'import json,sys; t=json.load(sys.stdin); sys.exit(0 if any(x["status"]=="launched" for x in t) else 1)'; do
  sleep 2
done
until [ "$("$arbiter" -C "$project" --json runs --status queued 2>/dev/null)" = "[]" ] &&
      [ "$("$arbiter" -C "$project" --json runs --status running 2>/dev/null)" = "[]" ]; do
  sleep 2
done
step schedules every-minute
step runs --limit 12
echo
echo "\$ kill -TERM $serve"
kill -TERM "$serve"
wait "$serve" || true
trap - EXIT
echo
echo "service log (one JSON line per event; on a terminal it is text):"
tail -n 8 "$work/serve.log"
echo
echo "the project copy and its storage stay in $project"
