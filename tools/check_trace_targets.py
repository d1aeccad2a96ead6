#!/usr/bin/env python3
"""Replays one trace family (examples/traces/families/) with `arbiter simulate`
and checks the placement targets of docs/cost.md ("Targets"), printing the
measured figures as one JSON line. Exit 0 when every target holds, 1 when one
misses (each miss is named), 2 on usage errors.

  check_trace_targets.py ARBITER FAMILY_DIR FAMILY

Targets (issue 14): default `cheapest` ≤ 3 % above the per-run oracle and,
once each asset had 10 runs, ≤ 1 % above the best single runtime; median
absolute error of the predicted cost after a pair's 5th run ≤ 10 %; on
`shift`, back on the cheapest runtime within 5 runs of the shift; on
`deadline` (cheapest_within), the deadline met on ≥ 90 % of runs and total
≤ 5 % above the deadline-constrained oracle.
"""
import collections
import json
import subprocess
import sys

DEADLINE = "2h"


def simulate(arbiter, directory, family, *extra):
    cmd = [arbiter, "-C", directory, "--json", "simulate", "--trace", f"{family}.jsonl", "--choices", *extra]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def shift_lag(report, key):
    """Per asset, runs after the half-way shift until `key` (the policy's
    choice, or its greedy choice: what it believes is cheapest, exploration
    aside) is the new cheapest runtime for 5 runs in a row."""
    by_asset = collections.defaultdict(list)
    for c in report["choices"]:
        by_asset[c["asset"]].append(c)
    lags = []
    for runs in by_asset.values():
        half = len(runs) // 2
        after = runs[half:]
        cheapest = collections.Counter(c["cheapest"] for c in after).most_common(1)[0][0]
        lag = len(after)
        for j in range(len(after) - 5):
            if all(c[key] == cheapest for c in after[j:j + 5]):
                lag = j
                break
        lags.append(lag)
    return lags


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    arbiter, directory, family = argv[1:]
    failures = []
    policy = ["--policy", f"cheapest_within:{DEADLINE}"] if family == "deadline" else []
    r = simulate(arbiter, directory, family, *policy)
    m = {
        "family": family,
        "records": r["records"],
        "regret_pct": round(r["regret_pct"], 2),
        "after10_vs_best_single_pct": r["after10_regret_vs_best_single_pct"],
        "vs_catalog_only_pct": r["regret_vs_catalog_only_pct"],
        "cost_error_median_pct": r["cost_error_median_pct"],
        "duration_error_median_pct": r["duration_error_median_pct"],
        "explored": r["explored"],
        "explore_extra_actual_usd": round(r["explore_extra_actual_usd"], 2),
        "changes": len(r["changes"]),
    }
    if family == "deadline":
        m["deadline_met_pct"] = round(r["deadline_met_pct"], 2)
        m["vs_deadline_oracle_pct"] = round(r["regret_vs_deadline_oracle_pct"], 2)
        if r["deadline_met_pct"] < 90:
            failures.append("deadline met on fewer than 90% of runs")
        if r["regret_vs_deadline_oracle_pct"] > 5:
            failures.append("more than 5% above the deadline-constrained oracle")
    else:
        if r["regret_pct"] > 3:
            failures.append("more than 3% above the per-run oracle")
        if r["after10_regret_vs_best_single_pct"] is not None and r["after10_regret_vs_best_single_pct"] > 1:
            failures.append("more than 1% above the best single runtime once each asset had 10 runs")
    if r["cost_error_median_pct"] is not None and r["cost_error_median_pct"] > 10:
        failures.append("median cost prediction error above 10% after 5 runs")
    if family == "shift":
        m["shift_lag_runs"] = shift_lag(r, "greedy")
        m["shift_lag_runs_incl_exploration"] = shift_lag(r, "chosen")
        if max(m["shift_lag_runs"]) > 5:
            failures.append("not back on the cheapest runtime within 5 runs of the shift")
    print(json.dumps(m))
    for f in failures:
        print(f"target missed on {family}: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
