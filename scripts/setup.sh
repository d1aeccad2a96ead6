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
  python3 clang-14 libclang-rt-14-dev
  python3-boto3 python3-botocore
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

preset="${1:-ci}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
