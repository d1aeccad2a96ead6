#!/usr/bin/env bash
# Installs what Arbiter needs to build and test on Debian 12, then configures and builds.
# Idempotent: installs only missing packages; re-running just rebuilds.
#   scripts/setup.sh [PRESET]   (default preset: ci)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libyaml-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libhowardhinnant-date-dev tzdata
  libsqlite3-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-venv clang-14 libclang-rt-14-dev procps
)
# Node and npm run the test-only S3 server. A machine that already has them (for
# example Node 20 from NodeSource, whose nodejs package bundles npm and conflicts with
# Debian's npm) keeps its own; otherwise Debian's are installed.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test-only node tools (s3rver, an S3 implementation the S3 and pipes-over-S3 tests run
# against), pinned in third_party/node/package-lock.json.
if [[ ! -x third_party/node/node_modules/.bin/s3rver ]]; then
  echo "setup: installing test tools from npm (third_party/node)"
  npm ci --prefix third_party/node --no-audit --no-fund
fi

# Java for Spark (pyspark's spark-submit): the machine's JDK 17 or 21 when it has one,
# else Debian's openjdk-17-jre-headless. The choice is written to .venv/java-home.
find_java_home() {
  local candidates=("${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/java-21-openjdk-*)
  for home in "${candidates[@]}"; do
    [[ -n "$home" && -x "$home/bin/java" ]] || continue
    local v
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
    if [[ "$v" == 17 || "$v" == 21 ]]; then echo "$home"; return 0; fi
  done
  return 1
}
if ! java_home=$(find_java_home); then
  echo "setup: installing openjdk-17-jre-headless (Spark needs Java 17 or 21)"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    openjdk-17-jre-headless
  java_home=$(find_java_home)
fi

# Python tools, tests, emulators and the demo's Spark run from one project virtualenv
# built on Debian's interpreter (never whichever python3 is first on PATH), with every
# package pinned by version and hash in requirements/dev.txt. Rebuilt when that file
# changes. requirements/bootstrap.txt pins pip, setuptools and wheel first, so that the
# one source-only package (pyspark) is built into a wheel with them (no unpinned build
# environment) and pip's cache makes the next clone's install quick.
#
# The virtualenvs are created now (cmake looks for their interpreters) and filled in the
# background while the C++ build runs: on a fresh machine both take minutes, one waiting on
# downloads, the other on the CPU. Their output goes to build/setup-*.log, shown on failure.
main_venv_current() {
  cat requirements/bootstrap.txt requirements/dev.txt | cmp -s - .venv/.installed-requirements 2>/dev/null
}
install_main_venv() {
  local pip_install=(.venv/bin/python -m pip install -q --disable-pip-version-check --no-input
    --require-hashes --no-build-isolation)
  "${pip_install[@]}" -r requirements/bootstrap.txt
  "${pip_install[@]}" -r requirements/dev.txt
  cat requirements/bootstrap.txt requirements/dev.txt > .venv/.installed-requirements
}
fill_main_venv=0
if ! main_venv_current; then
  echo "setup: creating .venv from requirements/dev.txt (pinned, hash-checked)"
  rm -rf .venv
  /usr/bin/python3 -m venv .venv
  fill_main_venv=1
fi
echo "$java_home" > .venv/java-home
# Dagster and the dagster-pipes releases the interop tests run (tests/dagster).
scripts/setup-dagster.sh create

mkdir -p build
background=()  # "pid:name" of each background install
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # none outlives this script
if ((fill_main_venv)); then
  install_main_venv > build/setup-venv.log 2>&1 &
  background+=("$!:venv")
fi
scripts/setup-dagster.sh install > build/setup-dagster.log 2>&1 &
background+=("$!:dagster")

preset="${1:-ci}"
build_status=0
cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" || build_status=$?

failed=0
for job in "${background[@]}"; do
  if ! wait "${job%%:*}"; then
    echo "setup: installing the ${job#*:} Python environment failed:" >&2
    cat "build/setup-${job#*:}.log" >&2
    failed=1
  else
    cat "build/setup-${job#*:}.log"
  fi
done
((failed == 0)) || exit 1
exit "$build_status"
