#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan, UBSan) and runs each for a bounded
# time from its seed corpus in fuzz/corpus/<name>/. New inputs found go to a
# scratch copy, not the repository; a crash leaves its reproducer in
# build/fuzz/crashes/ and fails the script.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
cmake --preset fuzz >/dev/null
# Only the fuzz targets and what they link: the CLI, runtimes and benchmarks are not
# needed here and would double the clang build.
targets=$(ninja -C build/fuzz -t targets all | sed -n 's/^\(arbiter_[a-z0-9_]*_fuzz\): .*/\1/p' | sort -u)
cmake --build --preset fuzz --target $targets
mkdir -p build/fuzz/crashes
# Targets run side by side, one per core (ARBITER_FUZZ_JOBS, default nproc): each still gets
# SECONDS of one core's time, and the whole run takes 1/cores of the wall time.
jobs_max="${ARBITER_FUZZ_JOBS:-$(nproc)}"
fuzz_one() {  # name bin: runs one target; its summary goes to build/fuzz/<name>.summary
  local name=$1 bin=$2 seeds work
  seeds=$(find . -path ./build -prune -o -type d -path "*fuzz/corpus/$name" -print | head -1)
  work="build/fuzz/corpus/$name"
  rm -rf "$work" && mkdir -p "$work"
  [[ -n "$seeds" ]] && cp -r "$seeds"/. "$work"/
  {
    echo "fuzz: $name for ${seconds}s (seeds: ${seeds:-none})"
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="build/fuzz/crashes/$name-" "$work" 2>"build/fuzz/$name.log"; then
      echo "fuzz: $name FAILED; log: build/fuzz/$name.log, reproducer in build/fuzz/crashes/"
      tail -40 "build/fuzz/$name.log"
      return 1
    fi
    grep -E "stat::number_of_executed_units|cov:" "build/fuzz/$name.log" | tail -2 | sed 's/^/  /' || true
  } > "build/fuzz/$name.summary"
}
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
status=0
running=()  # "pid:name"
finish_one() {  # waits for the oldest running target and prints its summary
  local job=${running[0]}
  running=("${running[@]:1}")
  wait "${job%%:*}" || status=1
  cat "build/fuzz/${job#*:}.summary"
}
for bin in $(find build/fuzz -name 'arbiter_*_fuzz' -type f -perm -u+x | sort); do
  name=$(basename "$bin" _fuzz); name=${name#arbiter_}
  ((${#running[@]} < jobs_max)) || finish_one
  fuzz_one "$name" "$bin" &
  running+=("$!:$name")
done
while ((${#running[@]})); do finish_one; done
exit $status
