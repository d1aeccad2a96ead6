# Sourced by the scripts that run jobs: puts the project virtualenv (.venv, built by
# scripts/setup.sh from requirements/dev.txt) first on PATH, so python3, spark-submit and
# the emulators use its pinned packages, and JAVA_HOME at the JDK setup chose for Spark.
# shellcheck shell=bash
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$repo_root/.venv/bin:$PATH"
export VIRTUAL_ENV="$repo_root/.venv"
if [[ -s "$repo_root/.venv/java-home" ]]; then
  JAVA_HOME="$(cat "$repo_root/.venv/java-home")"
  export JAVA_HOME
fi
