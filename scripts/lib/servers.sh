# Background servers for scripts (s3rver, the emulators), sourced by demo-cloud.sh.
# Each server leads its own process group (setsid), so stopping it stops what it
# started too; stop_servers runs however the script ends (error, Ctrl-C, success).
#   source scripts/lib/servers.sh    # sets the EXIT trap
#   start_server VAR NAME LOGFILE COMMAND...
server_pids=()

stop_servers() {
  local p
  for p in "${server_pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  for p in "${server_pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

# Runs COMMAND in the background and sets VAR to its port, read from its
# "listening on ...:PORT" line (bounded wait). Call it directly, never in $(...):
# a subshell's pids would never reach stop_servers.
start_server() {
  local var=$1 name=$2 log=$3 port
  shift 3
  setsid "$@" >"$log" 2>&1 &
  server_pids+=($!)
  for _ in $(seq 1 300); do
    if port=$(grep -o 'listening on [^ ]*:[0-9]*' "$log" 2>/dev/null | grep -o '[0-9]*$'); then
      printf -v "$var" '%s' "$port"
      return
    fi
    sleep 0.1
  done
  echo "$name did not start; its output:" >&2
  cat "$log" >&2
  exit 1
}
