#!/usr/bin/env python3
"""Replays one trace family (examples/traces/families/) with `arbiter simulate`
and checks the placement targets of docs/cost.md ("Targets"), printing the
measured figures as one JSON line. Exit 0 when every target holds, 1 when one
misses (each miss is named), 2 on usage errors.

  check_trace_targets.py ARBITER FAMILY_DIR FAMILY [--known-miss NAME,...]

--known-miss names targets docs/cost.md records as not met on this family
(oracle3, single1, error10, shift5, deadline90, deadline5): their misses are
printed with the measured figure but do not fail; a listed target that is
now met is reported so the list can shrink.

Targets (issue 14): default `cheapest` ≤ 3 % above the per-run oracle and,
once each asset had 10 runs, ≤ 1 % above the best single runtime; median
absolute error of the predicted cost after a pair's 5th run ≤ 10 %; on
`shift`, back on the cheapest runtime within 5 runs of the shift (the
greedy choice is the new cheapest; how long until it stays there is printed
too); on
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


def shift_lags(report):
    """Per asset, runs after the half-way shift until the policy's greedy
    choice (what it believes is cheapest, exploration aside) is first the new
    cheapest runtime ("back"), and until it stays there 5 runs in a row
    ("stable")."""
    by_asset = collections.defaultdict(list)
    for c in report["choices"]:
        by_asset[c["asset"]].append(c)
    back, stable = [], []
    for runs in by_asset.values():
        after = runs[len(runs) // 2:]
        cheapest = collections.Counter(c["cheapest"] for c in after).most_common(1)[0][0]
        greedy = [c["greedy"] == cheapest for c in after]
        back.append(greedy.index(True) if True in greedy else len(after))
        stable.append(next((j for j in range(len(after) - 5) if all(greedy[j:j + 5])), len(after)))
    return back, stable


def main(argv):
    known = set()
    if len(argv) == 6 and argv[4] == "--known-miss":
        known = set(argv[5].split(","))
        argv = argv[:4]
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    arbiter, directory, family = argv[1:]
    failures = []
    missed = []

    def check(name, ok, what):
        if not ok:
            missed.append(name)
            (print if name in known else failures.append)(
                f"known miss on {family}: {what}" if name in known else what)
        elif name in known:
            print(f"{family}: {name} is now met; remove it from --known-miss")
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
        check("deadline90", r["deadline_met_pct"] >= 90, "deadline met on fewer than 90% of runs")
        check("deadline5", r["regret_vs_deadline_oracle_pct"] <= 5,
              "more than 5% above the deadline-constrained oracle")
    else:
        check("oracle3", r["regret_pct"] <= 3, "more than 3% above the per-run oracle")
        after10 = r["after10_regret_vs_best_single_pct"]
        check("single1", after10 is None or after10 <= 1,
              "more than 1% above the best single runtime once each asset had 10 runs")
    err = r["cost_error_median_pct"]
    check("error10", err is None or err <= 10, "median cost prediction error above 10% after 5 runs")
    if family == "shift":
        m["shift_back_runs"], m["shift_stable_runs"] = shift_lags(r)
        check("shift5", max(m["shift_back_runs"]) <= 5,
              "not back on the cheapest runtime within 5 runs of the shift")
    m["missed"] = missed
    print(json.dumps(m))
    for f in failures:
        print(f"target missed on {family}: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
