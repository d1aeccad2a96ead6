"""Side-by-side: Dagster and Arbiter running the same trivial dagster-pipes job.

    .venv-dagster/bin/python bench/dagster_vs_arbiter.py [ARBITER_BIN] [--runs N]

Measures, in one process, one after the other:
  1. one partition, cold, as a user types it: `dagster asset materialize -f defs.py --select
     trivial --partition KEY` (Dagster 1.13.28, PipesSubprocessClient) and `arbiter materialize
     trivial -p KEY` (local runtime); median wall time of 3 each;
  2. N partitions (default 100), one run per partition: Dagster's in-process materialize()
     in a loop against one persistent sqlite instance (no CLI or import cost per run, the most
     favourable way to drive Dagster), and one `arbiter materialize trivial --from A --to B`
     (concurrency 1); per-run overhead = wall time / N minus the job alone.
The job (one import, one materialization) runs on /usr/bin/python3 with dagster-pipes
1.13.28 (.venv-pipes/1.13.28) on both sides; "job alone" is its wall time without any
orchestrator, given a bootstrap made by the script (median of 10: 5 before, 5 after). Results go to stdout as a markdown table.
"""
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIPES = REPO / ".venv-pipes" / "1.13.28"
JOB_PYTHON = "/usr/bin/python3"
DAGSTER_BIN = REPO / ".venv-dagster" / "bin" / "dagster"

JOB = """\
from dagster_pipes import open_dagster_pipes
with open_dagster_pipes() as pipes:
    pipes.report_asset_materialization(metadata={"rows": 1})
"""

DEFS = f"""\
import dagster as dg
DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2025-01-01")

@dg.asset(partitions_def=DAYS)
def trivial(context: dg.AssetExecutionContext, pipes: dg.PipesSubprocessClient):
    return pipes.run(command=[{JOB_PYTHON!r}, "job.py"], context=context, cwd=here,
                     env={{"PYTHONPATH": {str(PIPES)!r}}}).get_materialize_result()

defs = dg.Definitions(assets=[trivial], resources={{"pipes": dg.PipesSubprocessClient()}})
"""

ARBITER_YAML = f"""\
project: bench
runtimes:
  local: {{type: local, python: {JOB_PYTHON}}}
partitions:
  days:
    time: {{cadence: daily, start: 2024-01-01, end: 2025-01-01}}
assets:
  trivial:
    partitions: days
    runtimes: [local]
    job: {{kind: python, script: job.py}}
"""


def timed(argv, env, cwd):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed


def day(i):
    return (datetime.date(2024, 1, 1) + datetime.timedelta(days=i)).isoformat()


def main():
    args = sys.argv[1:]
    runs = 100
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    arbiter = args[0] if args else str(REPO / "build/ci/src/arbiter/cli/arbiter")
    for path in (arbiter, DAGSTER_BIN, PIPES):
        if not Path(path).exists():
            sys.exit(f"missing {path} (scripts/setup.sh, scripts/setup-dagster.sh)")

    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-dagster-"))
    (tmp / "job.py").write_text(JOB)
    (tmp / "defs.py").write_text("here = " + repr(str(tmp)) + "\n" + DEFS)
    (tmp / "arbiter.yaml").write_text(ARBITER_YAML)
    home = tmp / "dagster_home"
    home.mkdir()
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DAGSTER_", "PYTHON", "VIRTUAL_ENV"))}
    denv = dict(base, DAGSTER_HOME=str(home))
    aenv = dict(base, PYTHONPATH=str(PIPES))  # the job's dagster-pipes, through arbiter's env

    # The job with no orchestrator, but with its pipes I/O: a bootstrap made here (context
    # inline, messages to a file), so it does the same work as under either orchestrator.
    from dagster_pipes import encode_env_var
    context = {"asset_keys": ["trivial"], "code_version_by_asset_key": None,
               "provenance_by_asset_key": None, "partition_key": day(0),
               "partition_key_range": {"start": day(0), "end": day(0)},
               "partition_time_window": None, "run_id": "bench", "job_name": None,
               "retry_number": 0, "extras": {}}
    jenv = dict(base, PYTHONPATH=str(PIPES),
                DAGSTER_PIPES_CONTEXT=encode_env_var({"data": context}),
                DAGSTER_PIPES_MESSAGES=encode_env_var({"path": str(tmp / "messages.jsonl")}))
    alone_times = [timed([JOB_PYTHON, "job.py"], jenv, tmp) for _ in range(5)]

    # 1. One partition, cold CLI, alternating so both see the same machine load.
    d1, a1 = [], []
    for rep in range(3):
        d1.append(timed([DAGSTER_BIN, "asset", "materialize", "-f", "defs.py", "--select",
                         "trivial", "--partition", day(rep)], denv, tmp))
        a1.append(timed([arbiter, "-C", str(tmp), "materialize", "trivial", "-p", day(rep)],
                        aenv, tmp))
    d1, a1 = statistics.median(d1), statistics.median(a1)

    # 2. N partitions.
    sys.path.insert(0, str(tmp))
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg
    import defs as bench_defs
    instance = dg.DagsterInstance.get()
    resources = {"pipes": dg.PipesSubprocessClient()}
    start = time.perf_counter()
    for i in range(runs):
        result = dg.materialize([bench_defs.trivial], instance=instance, resources=resources,
                                partition_key=day(10 + i))
        assert result.success
    dn = time.perf_counter() - start
    an = timed([arbiter, "-C", str(tmp), "materialize", "trivial", "--from", day(10),
                "--to", day(10 + runs - 1), "--concurrency", "1"], aenv, tmp)
    out = subprocess.run([arbiter, "-C", str(tmp), "--json", "runs", "--status", "SUCCESS",
                          "--limit", "1000"], capture_output=True, text=True).stdout
    assert out.count('"run_id"') == runs + 3, "arbiter did not run every partition"
    # Again after the loops, so a change in machine load shows in both halves.
    alone_times += [timed([JOB_PYTHON, "job.py"], jenv, tmp) for _ in range(5)]
    alone = statistics.median(alone_times)

    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; "
          f"1-min load average at start {load_start:.1f}, at end {os.getloadavg()[0]:.1f}")
    print()
    print("| what | Dagster 1.13.28 | Arbiter |")
    print("|---|---|---|")
    print(f"| job alone (no orchestrator), median of 10 | {alone * 1000:.0f} ms | {alone * 1000:.0f} ms |")
    print(f"| one partition, cold CLI, median of 3 | {d1:.2f} s | {a1:.2f} s |")
    print(f"| {runs} partitions, wall | {dn:.1f} s (in-process loop) | {an:.1f} s (one backfill) |")
    print(f"| per run | {dn / runs * 1000:.0f} ms | {an / runs * 1000:.0f} ms |")
    print(f"| per-run overhead (per run − job alone) | {(dn / runs - alone) * 1000:.0f} ms "
          f"| {(an / runs - alone) * 1000:.0f} ms |")
    instance.dispose()


if __name__ == "__main__":
    main()
