#!/usr/bin/env python3
"""Summary of whole-process wall times for bench/exit.sh and bench/delivery.sh.

    python3 bench/stats.py DIR BASELINE BUDGET_MS BUDGET_KEYS KEY...

DIR holds, per case KEY, KEY.label (one line: what the case is) and KEY.txt (one wall
time per line, in microseconds). Prints, per case: runs, mean, median, p95, min, max,
and the overhead over the BASELINE case (difference of the medians, of the p95s and
of the means; empty when BASELINE is "-" or missing). For the cases in BUDGET_KEYS
(comma-separated, may be empty) it then says whether the median and the p95 overhead
are within BUDGET_MS: a report, never an exit code.

p95 is the nearest-rank percentile: the ceil(0.95 * n)-th smallest time (with 40 runs,
the 38th; with 30, the 29th).
"""

import math
import os
import statistics
import sys


def load(d, key):
    with open(os.path.join(d, key + ".txt"), encoding="utf-8") as f:
        times = sorted(int(line) / 1000.0 for line in f if line.strip())
    label = key
    path = os.path.join(d, key + ".label")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            label = f.read().strip() or key
    return label, times


def summary(times):
    n = len(times)
    return {
        "n": n,
        "mean": statistics.fmean(times),
        "median": statistics.median(times),
        "p95": times[max(0, math.ceil(0.95 * n) - 1)],
        "min": times[0],
        "max": times[-1],
    }


def main():
    d, baseline, budget_ms, budget_keys = sys.argv[1:5]
    keys = sys.argv[5:]
    budget_ms = float(budget_ms)
    budget_keys = [k for k in budget_keys.split(",") if k]
    rows = {}
    for key in keys:
        if not os.path.exists(os.path.join(d, key + ".txt")):
            continue
        label, times = load(d, key)
        if times:
            rows[key] = (label, summary(times))
    base = rows.get(baseline, (None, None))[1]
    width = max([len(label) for label, _ in rows.values()] + [4])
    head = (f"{'case':<{width}}  {'runs':>4}  {'mean':>8}  {'median':>8}  {'p95':>8}  "
            f"{'min':>8}  {'max':>8}  {'+median':>8}  {'+p95':>8}  {'+mean':>8}")
    print(head)
    print("-" * len(head))
    for key, (label, s) in rows.items():
        line = (f"{label:<{width}}  {s['n']:>4}  {s['mean']:>8.2f}  {s['median']:>8.2f}  "
                f"{s['p95']:>8.2f}  {s['min']:>8.2f}  {s['max']:>8.2f}")
        if base is not None and key != baseline:
            line += (f"  {s['median'] - base['median']:>+8.2f}  {s['p95'] - base['p95']:>+8.2f}"
                     f"  {s['mean'] - base['mean']:>+8.2f}")
        print(line)
    if base is None:
        print("(milliseconds)")
    else:
        print(f"(milliseconds; + columns: over '{rows[baseline][0]}', measured in the same run)")
    if base is None or not budget_keys:
        return
    print()
    print(f"budget: at most {budget_ms:g} ms over '{rows[baseline][0]}'")
    for key in budget_keys:
        if key not in rows:
            continue
        label, s = rows[key]
        med = s["median"] - base["median"]
        p95 = s["p95"] - base["p95"]
        verdict = lambda v: "within" if v <= budget_ms else "OVER"
        print(f"  {label:<{width}}  median {med:+6.2f} ms: {verdict(med):<6}  "
              f"p95 {p95:+6.2f} ms: {verdict(p95)}")


if __name__ == "__main__":
    main()
