"""What a one-partition `arbiter materialize` adds to the job it runs.

Runs a trivial job (`/bin/true`, local runtime) alone and through `arbiter -C DIR
materialize trivial -p DAY` (a new partition each time, one storage that grows as a
user's does), N times each, and prints the medians and the difference. Given several
arbiter binaries (before and after a change) it alternates between them, so a machine
shared with other work loads them alike.

    python3 bench/cli_overhead.py [ARBITER...] [--runs N]

ARBITER defaults to build/ci/src/arbiter/cli/arbiter. See bench/README.md (cli_overhead).
"""
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROJECT = """\
project: bench
runtimes:
  local: {type: local}
partitions:
  days:
    time: {cadence: daily, start: 2024-01-01, end: 2025-01-01}
assets:
  trivial:
    partitions: days
    runtimes: [local]
    job: {kind: command, command: [/bin/true]}
"""


def timed(argv, cwd):
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def day(i):
    return (datetime.date(2024, 1, 1) + datetime.timedelta(days=i)).isoformat()


def main():
    args = sys.argv[1:]
    runs = 30
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    arbiters = args or [str(REPO / "build/ci/src/arbiter/cli/arbiter")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-cli-overhead-"))
    try:
        dirs = []
        for n, arbiter in enumerate(arbiters):
            d = tmp / str(n)
            d.mkdir()
            (d / "arbiter.yaml").write_text(PROJECT)
            timed([arbiter, "-C", str(d), "materialize", "trivial", "-p", day(364)], d)
            dirs.append(d)
        job, mat = [], [[] for _ in arbiters]
        for i in range(runs):
            job.append(timed(["/bin/true"], tmp))
            for n, arbiter in enumerate(arbiters):
                d = str(dirs[n])
                mat[n].append(timed([arbiter, "-C", d, "materialize", "trivial", "-p", day(i)], d))
        ms = lambda xs: statistics.median(xs) * 1000
        print(f"job alone: {ms(job):.1f} ms (median of {runs})")
        for arbiter, times in zip(arbiters, mat):
            times.sort()
            print(f"{arbiter}\n  materialize, 1 partition: {ms(times):.1f} ms (p10 "
                  f"{times[runs // 10] * 1000:.1f}, p90 {times[9 * runs // 10] * 1000:.1f}); "
                  f"overhead {ms(times) - ms(job):.1f} ms")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
