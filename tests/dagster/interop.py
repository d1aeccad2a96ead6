"""Shared helpers of the Dagster interop tests (stdlib only, so the Arbiter-side tests run on
any Python and the Dagster-side ones inside .venv-dagster)."""
import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Jobs run on Debian's interpreter, never on whichever python3 is first on PATH.
JOB_PYTHON = "/usr/bin/python3"
SKIP_EXIT = 77  # ctest's SKIP_RETURN_CODE for these tests


def on_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition, what):
    """A missing dependency fails on CI (CI=true) and skips, loudly, elsewhere."""
    if condition:
        return
    message = f"missing dependency: {what} (run scripts/setup-dagster.sh)"
    if on_ci():
        raise unittest.TestCase.failureException(message)
    print("SKIP: " + message, file=sys.stderr)
    sys.exit(SKIP_EXIT)


def arbiter_binary():
    """The arbiter CLI: ARBITER_BIN (CMake passes $<TARGET_FILE:arbiter>), else the ci build."""
    path = os.environ.get("ARBITER_BIN") or str(REPO / "build/ci/src/arbiter/cli/arbiter")
    require(os.access(path, os.X_OK), f"arbiter binary at {path} (set ARBITER_BIN)")
    return path


def pipes_dir(version):
    path = REPO / ".venv-pipes" / version
    require((path / "dagster_pipes" / "__init__.py").is_file(), f"dagster-pipes {version} in {path}")
    return path


def arbiter(binary, project, *args, env=None, check=True):
    """Runs `arbiter -C project --json ARGS`; returns (exit code, parsed JSON or None, stderr)."""
    proc = subprocess.run([binary, "-C", str(project), "--json", *args], capture_output=True,
                          text=True, env=env, timeout=120)
    if check and proc.returncode not in (0, 1):
        raise AssertionError(f"arbiter {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError as e:
        raise AssertionError(f"arbiter {' '.join(args)} printed no JSON ({e}): {proc.stdout!r}")
    return proc.returncode, data, proc.stderr


def clean_env(**extra):
    """The caller's environment without Python or pipes settings that would leak into jobs."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DAGSTER_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(extra)
    return env
