#!/usr/bin/env bash
# Python environments for the Dagster interop tests and bench (tests/dagster), each pinned
# by version and hash and rebuilt only when its requirements file changes:
#   .venv-dagster/            real Dagster (requirements/dagster.txt), Python 3.11 from Debian
#   .venv-pipes/<version>/    one dagster-pipes release each (requirements/dagster-pipes-*.txt),
#                             installed as a plain directory a job selects with PYTHONPATH
# Called by scripts/setup.sh; safe to run on its own and to re-run.
#   scripts/setup-dagster.sh [all|create|install]
# create makes the (empty) virtualenv that needs rebuilding, so that cmake finds its
# interpreter; install fills it (downloads; setup.sh runs it in the background while C++
# builds); all (default) does both.
set -euo pipefail
cd "$(dirname "$0")/.."
phase="${1:-all}"

# Debian's interpreter, never whichever python3 is first on PATH.
PY=/usr/bin/python3
pip_flags=(-q --disable-pip-version-check --no-input --require-hashes --no-build-isolation)

# Dagster in its own virtualenv: its pins (pydantic, grpcio, sqlalchemy...) stay out of .venv.
if ! cat requirements/bootstrap.txt requirements/dagster.txt |
    cmp -s - .venv-dagster/.installed-requirements 2>/dev/null; then
  if [[ "$phase" != install ]]; then
    echo "setup-dagster: creating .venv-dagster from requirements/dagster.txt (pinned, hash-checked)"
    rm -rf .venv-dagster
    "$PY" -m venv .venv-dagster
  fi
  [[ "$phase" == create ]] && exit 0
  .venv-dagster/bin/python -m pip install "${pip_flags[@]}" -r requirements/bootstrap.txt
  .venv-dagster/bin/python -m pip install "${pip_flags[@]}" -r requirements/dagster.txt
  cat requirements/bootstrap.txt requirements/dagster.txt > .venv-dagster/.installed-requirements
fi

[[ "$phase" == create ]] && exit 0

# dagster-pipes is pure Python with no dependencies: each release goes into its own directory
# (no interpreter of its own), so one job can be run against every release.
mkdir -p .venv-pipes
for req in requirements/dagster-pipes-*.txt; do
  version="${req#requirements/dagster-pipes-}"
  version="${version%.txt}"
  dir=".venv-pipes/$version"
  if ! cmp -s "$req" "$dir/.installed-requirements" 2>/dev/null; then
    echo "setup-dagster: installing dagster-pipes $version into $dir"
    rm -rf "$dir"
    .venv-dagster/bin/python -m pip install "${pip_flags[@]}" --no-deps --target "$dir" -r "$req"
    cp "$req" "$dir/.installed-requirements"
  fi
done
# Releases whose requirements file was removed.
for dir in .venv-pipes/*/; do
  [[ -d "$dir" ]] || continue
  version="$(basename "$dir")"
  [[ -f "requirements/dagster-pipes-$version.txt" ]] || rm -rf "$dir"
done
