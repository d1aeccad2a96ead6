#!/usr/bin/env bash
# Builds only the pipes libFuzzer targets (message parser, params decoder) with clang, ASan and
# UBSan in their own build dir (build/fuzz-pipes), then runs each for a bounded time from the
# seed corpus kept in the repo. scripts/fuzz.sh (the `fuzz` preset) also picks these targets up.
#   scripts/fuzz_pipes.sh [SECONDS_PER_TARGET]      (default 30)
# Exits non-zero if a target crashes, leaks or times out; the reproducer is written to
# build/fuzz-pipes/artifacts/. Needs clang++ and libclang-rt-14-dev (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
build=build/fuzz-pipes
jobs="${FUZZ_BUILD_JOBS:-2}"
sanitizers="address,undefined"
cxx="${CXX_FUZZ:-}"
if [[ -z "$cxx" ]]; then
  cxx=$(command -v clang++-14 || command -v clang++ || true)
fi
[[ -n "$cxx" ]] || { echo "fuzz_pipes: clang++ not found (scripts/setup.sh installs clang-14)" >&2; exit 2; }

cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="-fsanitize=${sanitizers},fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DARBITER_BUILD_FUZZ=ON -DARBITER_BUILD_TESTS=OFF -DARBITER_BUILD_BENCH=OFF \
  -DARBITER_WERROR=ON >/dev/null
cmake --build "$build" -j "$jobs" --target arbiter_pipes_message_fuzz arbiter_pipes_params_fuzz

mkdir -p "$build/artifacts"
status=0
for target in pipes_message pipes_params; do
  corpus="src/arbiter/pipes/fuzz/corpus/$target"
  scratch="$build/corpus-$target"  # new inputs land here; the checked-in corpus is read-only
  mkdir -p "$scratch"
  echo "fuzz_pipes: running $target for ${seconds}s"
  if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/src/arbiter/pipes/arbiter_${target}_fuzz" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/${target}-" \
      "$scratch" "$corpus" 2>"$build/$target.log"; then
    echo "fuzz_pipes: $target FAILED; see $build/$target.log and $build/artifacts/" >&2
    tail -n 40 "$build/$target.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+ +DONE" "$build/$target.log" || true
  fi
done
exit "$status"
