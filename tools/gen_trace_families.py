#!/usr/bin/env python3
"""Generates the trace families that `arbiter simulate` is tested on
(examples/traces/families/, format: docs/cost.md, "Simulation and traces").

The generator has its own cost model, built from published figures, and
never calls Arbiter or uses its catalog: the traces can disagree with what
Arbiter's catalog predicts, which is what calibration must find out.

Per run of asset a on runtime R (all figures for one 8 vCPU / 32 GiB node):

  work_s   = seconds_per_gb(a) × input_gb × run_factor / workers(a)
             (run_factor: log-normal 0.15, the same on every runtime — it is
             the data, not the platform)
  duration = boot(R) + work_s × speed(a, R) × noise_R       noise_R: log-normal 0.05
  list $   = billed nodes × duration_h × LIST_RATE[R]        (60 s minimum)
  cost     = list $ × actual_over_list(family, a, R) × bill_noise   (log-normal 0.03)

LIST_RATE: per-node-hour on-demand list prices of m5.2xlarge-class nodes
from the reference's table (pricing-and-cost-model.md §2.4): EMR (EC2 +
fee) 0.480, Databricks Jobs 0.590 (with Photon 0.980), EMR Serverless at
the same vCPU/GB 0.606. Speeds: Databricks 1.75× faster than EMR on the
paper's dominant (edges) step with Photon (arXiv 2408.11635 appendix: 9.99 h
vs 5.71 h), 1.15× without; EMR Serverless 1.1× slower (shared capacity;
AWS's benchmark assumed equal speed and found it 17 % dearer). Boot:
reference §2.6 — EMR 5–10 min, Databricks classic 2–5 min, EMR Serverless
15–60 s. Actual/list ratios: the paper's Databricks cost 3.3× EMR's per
hour where list prices say 1.23× (ratio ≈ 2.7 relative), negotiated
discounts of ~50 %, EMR clusters billed for idle and EBS (×1.5–2) — each
family picks its own, between 0.5× and 3×.

Families (one file each, 150–200 runs per asset, assets interleaved):
  mislead     list prices mislead: actual/list ≈ 0.5 on Databricks, 1.8 on
              EMR, 2.6 on EMR Serverless (± 10 % per asset)
  crossover   per-asset winners at list price: Photon SQL jobs (Databricks),
              shuffle-heavy jobs (EMR), tiny jobs where boot dominates (EMR
              Serverless)
  shift       EMR (spot task nodes, actual/list 0.6) is cheapest until,
              half way through, its spot prices double (ratio 1.2)
  growing     input sizes grow ×20 over the trace: tiny jobs become big jobs
  deadline    EMR is cheapest but slowest; replayed with cheapest_within: 2h
              (DEADLINE; tools/check_trace_targets.py), so large runs need the
              faster Databricks
  version     as crossover, but one asset's code_version changes half way
              and makes it 2.5× slower on EMR only

Writes FAMILY.jsonl files and arbiter.yaml (every family's assets) into the
output directory. Standard library only; the same --seed gives the same files.
"""
import argparse
import json
import math
import os
import random

LIST_RATE = {"databricks": 0.590, "databricks+photon": 0.980, "emr": 0.480, "emr-serverless": 0.606}
BOOT_S = {"databricks": (120, 300), "emr": (300, 600), "emr-serverless": (15, 60)}
RUNTIMES = ["databricks", "emr", "emr-serverless"]
DEADLINE = "2h"
DEADLINE_S = 7200

SIM_JOB = '''"""Placeholder Spark job of a generated trace project: `arbiter simulate`
replays the trace and never runs it."""
import sys

sys.exit("simulation only: this asset exists to be replayed by arbiter simulate")
'''


class Asset:
    def __init__(self, name, workers, gb, sec_per_gb, speed, photon=False, ratio=None):
        self.name = name
        self.workers = workers
        self.gb = gb                  # typical input GB
        self.sec_per_gb = sec_per_gb  # node-seconds of work per GB on EMR
        self.speed = speed            # runtime -> relative time (EMR = 1)
        self.photon = photon
        self.ratio = ratio or {}      # runtime -> actual/list


def outcome(rng, a, rt, gb, run_factor, ratio, speed_mul=1.0):
    work = a.sec_per_gb * gb * run_factor / a.workers
    lo, hi = BOOT_S[rt]
    dur = rng.uniform(lo, hi) + work * a.speed[rt] * speed_mul * math.exp(rng.gauss(0, 0.05))
    billed_h = max(dur, 60) / 3600
    nodes = a.workers + 1  # driver / primary, or EMR Serverless's driver worker
    rate = LIST_RATE["databricks+photon" if rt == "databricks" and a.photon else rt]
    cost = nodes * billed_h * rate * ratio * math.exp(rng.gauss(0, 0.03))
    return {"duration_s": round(dur, 1), "cost_usd": round(cost, 4)}


def speeds(photon=False, emr_s=1.1):
    return {"databricks": 1 / 1.75 if photon else 1 / 1.15, "emr": 1.0, "emr-serverless": emr_s}


def family_assets(rng, family):
    out = []
    if family == "mislead":
        for i in range(12):
            ratio = {"databricks": 0.5, "emr": 1.8, "emr-serverless": 2.6}
            ratio = {k: v * math.exp(rng.gauss(0, 0.1)) for k, v in ratio.items()}
            out.append(Asset(f"mislead/etl{i:02d}", rng.choice([2, 4, 8]), rng.uniform(5, 80),
                             rng.uniform(200, 800), speeds(), ratio=ratio))
    elif family in ("crossover", "version"):
        for i in range(3):  # Photon SQL jobs: Databricks with Photon wins
            out.append(Asset(f"{family}/sql{i}", 4, rng.uniform(20, 60), rng.uniform(400, 700),
                             {"databricks": 1 / 2.6, "emr": 1.0, "emr-serverless": 1.1}, photon=True))
        for i in range(3):  # shuffle-heavy: EMR's tuned shuffle, serverless pays for remote shuffle
            out.append(Asset(f"{family}/shuffle{i}", 8, rng.uniform(50, 150), rng.uniform(500, 900),
                             {"databricks": 1 / 1.05, "emr": 1.0, "emr-serverless": 1.6}))
        for i in range(3):  # tiny jobs: a minute of work, boot time dominates
            out.append(Asset(f"{family}/tiny{i}", 2, rng.uniform(0.2, 1), rng.uniform(60, 120),
                             speeds()))
    elif family == "shift":
        for i in range(6):
            ratio = {"databricks": 1.0, "emr": 0.6, "emr-serverless": 1.0}
            out.append(Asset(f"shift/job{i}", rng.choice([4, 8]), rng.uniform(20, 80),
                             rng.uniform(300, 700), speeds(), ratio=ratio))
    elif family == "growing":
        for i in range(8):
            out.append(Asset(f"growing/job{i}", 4, rng.uniform(0.2, 0.6), rng.uniform(200, 500),
                             speeds()))
    elif family == "deadline":
        for i in range(6):
            out.append(Asset(f"deadline/job{i}", 4, rng.uniform(30, 60), rng.uniform(500, 700),
                             {"databricks": 1 / 1.75, "emr": 1.0, "emr-serverless": 1.3}, photon=False,
                             ratio={"databricks": 1.0, "emr": 0.6, "emr-serverless": 1.0}))
    return out


def generate(family, seed, runs):
    rng = random.Random(f"{family}/{seed}")
    assets = family_assets(rng, family)
    lines = []
    for n in range(runs):
        for a in assets:
            gb = a.gb * math.exp(rng.gauss(0, 0.2))
            if family == "growing":
                gb *= 1 + 19 * n / max(1, runs - 1)
            if family == "deadline":
                gb *= math.exp(rng.gauss(0, 0.35))  # some runs are big enough to need the fast runtime
            run_factor = math.exp(rng.gauss(0, 0.15))
            rec = {"asset": a.name, "partition": f"p{n:04d}", "input_bytes": int(gb * 1e9), "outcomes": {}}
            version = "v1"
            for rt in RUNTIMES:
                ratio = a.ratio.get(rt, 1.0)
                speed_mul = 1.0
                if family == "shift" and rt == "emr" and n >= runs // 2:
                    ratio *= 2  # spot prices double on EMR's task nodes
                if family == "version" and a.name.endswith("shuffle0") and n >= runs // 2:
                    version = "v2"
                    if rt == "emr":
                        speed_mul = 2.5  # the new code hits an EMR-only slow path
                rec["outcomes"][rt] = outcome(rng, a, rt, gb, run_factor, ratio, speed_mul)
            if family == "version":
                rec["code_version"] = version
            lines.append(json.dumps(rec, separators=(",", ":")))
    return assets, lines


def project_yaml(all_assets):
    out = ["# Generated by tools/gen_trace_families.py for `arbiter simulate`: the",
           "# assets' compute shapes are what Arbiter's catalog prices; the traces'",
           "# cost_usd is what the runs actually cost (the generator's own model).",
           "project: trace-families", "",
           "placement: {explore_budget: 0.05, seed: 0}", "",
           "runtimes:",
           "  databricks: {type: databricks, host: https://dbc-00000000-0000.cloud.databricks.com,",
           "               token: '${env:DATABRICKS_TOKEN}', spark_version: 15.4.x-scala2.12,",
           "               staging: dbfs:/arbiter/staging, region: us-east-1}",
           "  emr: {type: emr, region: us-east-1, release_label: emr-7.2.0,",
           "        staging: s3://example-bucket/staging, subnets: [subnet-0123456789abcdef0]}",
           "  emr-serverless: {type: emr-serverless, region: us-east-1, application_id: 00fabcd1234efg09,",
           "                   execution_role_arn: 'arn:aws:iam::123456789012:role/arbiter',",
           "                   staging: s3://example-bucket/staging}", "", "assets:"]
    for a in all_assets:
        out.append(f"  {a.name}:")
        out.append("    job: {kind: pyspark, script: jobs/sim.py}")
        out.append("    runtimes: [databricks, emr, emr-serverless]")
        photon = ", photon: true" if a.photon else ""
        out.append(f"    compute: {{workers: {a.workers}, worker: {{vcpu: 8, memory_gib: 32}}, "
                   f"instance_families: [m5], spot: false{photon}}}")
    return "\n".join(out) + "\n"


FAMILIES = {"mislead": 150, "crossover": 150, "shift": 200, "growing": 150, "deadline": 150,
            "version": 150}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="examples/traces/families")
    ap.add_argument("--runs", type=int, default=0, help="runs per asset (0: each family's default)")
    args = ap.parse_args(argv)
    os.makedirs(os.path.join(args.out, "jobs"), exist_ok=True)
    all_assets = []
    for family, runs in FAMILIES.items():
        assets, lines = generate(family, args.seed, args.runs or runs)
        all_assets += [a for a in assets if a.name not in {x.name for x in all_assets}]
        with open(os.path.join(args.out, f"{family}.jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "arbiter.yaml"), "w") as f:
        f.write(project_yaml(all_assets))
    with open(os.path.join(args.out, "jobs", "sim.py"), "w") as f:
        f.write(SIM_JOB)


if __name__ == "__main__":
    main()
