#!/usr/bin/env bash
# scripts/lib/servers.sh leaves nothing running: a script that starts two
# servers (one with a child that ignores SIGTERM) and then fails, and one that
# ends normally, both stop every server they started.
set -euo pipefail
lib="$(cd "$(dirname "$0")/.." && pwd)/lib/servers.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fake_server='(trap "" TERM; exec sleep 1000) & echo $! >> "$0.children"; echo $$ >> "$0.children"
echo "listening on http://127.0.0.1:$1 up"; wait'
for ending in "false" "true"; do
  : >"$work/s.children"
  cat >"$work/script.sh" <<SCRIPT
set -euo pipefail
source "$lib"
start_server a first "$work/a.log" sh -c '$fake_server' "$work/s" 4001
start_server b second "$work/b.log" sh -c '$fake_server' "$work/s" 4002
[[ \$a == 4001 && \$b == 4002 ]] || { echo "ports \$a \$b" >&2; exit 3; }
$ending
SCRIPT
  set +e
  bash "$work/script.sh"
  code=$?
  set -e
  [[ $ending == true && $code == 0 || $ending == false && $code == 1 ]] ||
    { echo "servers_test: script ending with '$ending' exited $code" >&2; exit 1; }
  [[ $(wc -l <"$work/s.children") == 4 ]] || { echo "servers_test: servers did not start" >&2; exit 1; }
  while read -r pid; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "servers_test: pid $pid left running (script ending with '$ending')" >&2
      kill -KILL "$pid" 2>/dev/null || true
      exit 1
    fi
  done <"$work/s.children"
done
echo "servers_test: nothing left running"
