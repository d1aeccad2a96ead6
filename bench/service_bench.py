"""`arbiter serve` against the targets of issue 18 that a single machine can measure.

  backfill   `arbiter backfill` of 100,000 hourly partitions, then `arbiter backfills`
             listing it (target: submitted and visible within 1 s, SQLite).
  ticks      a schedule firing every minute: how late each tick's runs were queued
             (the service log's late_ms; target <= 1 s), over N ticks.
  idle       CPU of a service with 1,000 schedules (none due in the window), measured
             from /proc over a window (target <= 1 % of a core).
  rss        the service's resident memory with 1,000,000 finished runs in storage,
             after it placed and ran a small backfill (target <= 100 MB).

    python3 bench/service_bench.py [backfill|ticks|idle|rss ...] [--arbiter PATH]
        [--ticks N] [--window SECONDS]

Results go to bench/README.md (service_bench) by hand, with the date and machine.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")

BASE = """\
project: bench
runtimes:
  local: {type: local}
partitions:
  hours:
    time: {cadence: hourly, start: "2010-01-01", end: "2021-05-29T16:00"}
assets:
  trivial:
    partitions: hours
    runtimes: [local]
    placement: {fixed: local}
    job: {kind: command, command: [/bin/true]}
  single:
    runtimes: [local]
    placement: {fixed: local}
    job: {kind: command, command: [/bin/true]}
"""


def project(extra=""):
    d = Path(tempfile.mkdtemp(prefix="arbiter-service-bench-"))
    (d / "arbiter.yaml").write_text(BASE + extra)
    return d


def run(arbiter, d, *args):
    start = time.perf_counter()
    p = subprocess.run([arbiter, "-C", str(d), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"arbiter {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return elapsed, p.stdout


def serve(arbiter, d):
    log = open(d / "serve.log", "w")
    p = subprocess.Popen([arbiter, "-C", str(d), "serve"], stderr=log, stdout=subprocess.DEVNULL)
    for _ in range(300):
        if "service.started" in (d / "serve.log").read_text():
            return p
        time.sleep(0.05)
    p.kill()
    sys.exit("the service did not start:\n" + (d / "serve.log").read_text()[-2000:])


def stop(p):
    p.terminate()
    p.wait(timeout=60)


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_mb(pid, field="VmRSS"):
    """Resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_backfill(arbiter, _):
    d = project()
    run(arbiter, d, "runs")  # creates the storage
    created, out = run(arbiter, d, "--json", "backfill", "trivial", "--from", "2010-01-01-00:00",
                       "--to", "2021-05-29-15:00")
    b = json.loads(out)
    listed, out = run(arbiter, d, "backfills")
    assert b["backfill_id"] in out
    print(f"backfill: {b['partitions']} partitions created in {created * 1000:.0f} ms "
          f"(wall, whole process), listed in {listed * 1000:.0f} ms; "
          f"total {(created + listed) * 1000:.0f} ms (target <= 1000 ms)")


def bench_ticks(arbiter, opts):
    d = project("schedules:\n  minutely: {cron: '* * * * *', assets: [single]}\n")
    p = serve(arbiter, d)
    want = opts["ticks"]
    lates = []
    try:
        deadline = time.time() + 70 * want
        while len(lates) < want and time.time() < deadline:
            time.sleep(1)
            lates = [json.loads(l)["late_ms"] for l in (d / "serve.log").read_text().splitlines()
                     if '"tick.launched"' in l]
    finally:
        stop(p)
    lates.sort()
    print(f"ticks: {len(lates)} ticks, late_ms min {lates[0]} median {lates[len(lates) // 2]} "
          f"max {lates[-1]} (target <= 1000)")


def bench_idle(arbiter, opts):
    # 1,000 schedules at 03:00 on days that are not today or tomorrow: none due in the window.
    day = (time.gmtime().tm_mday + 10) % 28 + 1
    lines = ["schedules:"]
    for i in range(1000):
        lines.append(f"  s{i}: {{cron: '{i % 60} 3 {day} * *', assets: [single]}}")
    d = project("\n".join(lines) + "\n")
    p = serve(arbiter, d)
    try:
        time.sleep(3)  # past start-up
        c0, t0 = cpu_seconds(p.pid), time.time()
        time.sleep(opts["window"])
        c1, t1 = cpu_seconds(p.pid), time.time()
    finally:
        stop(p)
    share = (c1 - c0) / (t1 - t0) * 100
    print(f"idle: 1000 schedules, {c1 - c0:.2f} s CPU over {t1 - t0:.0f} s = {share:.2f} % "
          f"of a core (target <= 1 %)")


def bench_rss(arbiter, _):
    d = project()
    run(arbiter, d, "runs")  # creates the storage at the current schema
    db = sqlite3.connect(d / ".arbiter" / "arbiter.db")
    cols = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
    t0 = 1_600_000_000
    rows = ((f"{i:016x}", "trivial", None, "local", "SUCCESS", t0 + i, t0 + i, t0 + i + 1, i + 1)
            for i in range(1_000_000))
    db.executemany("INSERT INTO runs (run_id, asset_key, partition_key, runtime, status, "
                   "created_at, started_at, ended_at, seq) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    assert "seq" in cols
    p = serve(arbiter, d)
    try:
        # A small backfill: the service opens the cost engine over the stored history
        # (its newest 100,000 runs) to place it, and follows its runs.
        run(arbiter, d, "backfill", "trivial", "--from", "2010-01-01-00:00", "--to",
            "2010-01-01-03:00")
        for _ in range(600):
            _, out = run(arbiter, d, "--json", "backfills", "--all")
            if json.loads(out)[0]["status"] == "COMPLETED":
                break
            time.sleep(0.1)
        now, peak = rss_mb(p.pid), rss_mb(p.pid, "VmHWM")
    finally:
        stop(p)
    print(f"rss: 1,000,000 runs stored, service RSS {now:.1f} MB, peak {peak:.1f} MB "
          f"(target <= 100 MB)")


def main():
    args = sys.argv[1:]
    opts = {"arbiter": str(REPO / "build/ci/src/arbiter/cli/arbiter"), "ticks": 3, "window": 60}
    for flag, key, conv in (("--arbiter", "arbiter", str), ("--ticks", "ticks", int),
                            ("--window", "window", float)):
        if flag in args:
            i = args.index(flag)
            opts[key] = conv(args[i + 1])
            del args[i:i + 2]
    benches = {"backfill": bench_backfill, "ticks": bench_ticks, "idle": bench_idle,
               "rss": bench_rss}
    for name in args or list(benches):
        benches[name](opts["arbiter"], opts)


if __name__ == "__main__":
    main()
