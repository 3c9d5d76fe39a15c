#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Summarise pvlock-bench results: JSON lines tagged with "config".

Usage: lock_summary.py RESULTS.jsonl [--markdown]

Per configuration and policy: median throughput (ops/s) with min-max over
the repetitions, median p99 and max acquire latency, fairness, halts, and
ratios against native and pvspin; then the issue's targets, each with the
measured figure and whether it was reached.
"""
import json
import statistics
import sys
from collections import defaultdict

ORDER = ["native", "mcs", "shfl", "pvspin", "shfl-pv", "shfl-quota"]


def load(path):
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if "error" in r:
                continue
            runs[(r["config"], r["policy"])].append(r)
    return runs


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = load(sys.argv[1])
    configs = sorted({c for c, _ in runs}, key=lambda c: (len(c), c))
    tput = {}
    p99 = {}
    print(f"{'config':7} {'policy':11} {'ops/s median':>13} {'min-max':>21} {'vs native':>9}"
          f" {'vs pvspin':>9} {'p99 us':>9} {'max ms':>8} {'fair':>6} {'halts':>7} {'n':>2}")
    for c in configs:
        for p in ORDER:
            rs = runs.get((c, p))
            if not rs:
                continue
            ops = [r["ops_per_s"] for r in rs]
            tput[c, p] = med(ops)
            p99[c, p] = med([r["lat_ns"]["p99"] for r in rs])
        for p in ORDER:
            rs = runs.get((c, p))
            if not rs:
                continue
            ops = [r["ops_per_s"] for r in rs]
            vs_n = tput[c, p] / tput[c, "native"] if tput.get((c, "native")) else float("nan")
            vs_pv = tput[c, p] / tput[c, "pvspin"] if tput.get((c, "pvspin")) else float("nan")
            print(f"{c:7} {p:11} {tput[c, p]:13.0f} {min(ops):>10.0f}-{max(ops):<10.0f}"
                  f" {vs_n:9.2f} {vs_pv:9.2f} {p99[c, p] / 1e3:9.1f}"
                  f" {med([r['lat_ns']['max'] for r in rs]) / 1e6:8.1f}"
                  f" {med([r['fairness'] for r in rs]):6.3f} {med([r['halts'] for r in rs]):7.0f}"
                  f" {len(rs):2}")
        print()

    def target(what, got, want, ok):
        verdict = "reached" if ok else "NOT reached"
        print(f"  {what:44} {got:>10}  (target {want}): {verdict}")

    print("targets:")
    for c in configs:
        if c.startswith("2x") and (c, "shfl-pv") in tput:
            r = tput[c, "shfl-pv"] / tput[c, "native"]
            target(f"{c}: shfl-pv / native throughput", f"{r:.2f}x", ">= 3x", r >= 3)
            r = tput[c, "shfl-pv"] / tput[c, "pvspin"]
            target(f"{c}: shfl-pv / pvspin throughput", f"{r:.2f}x", ">= 1.3x", r >= 1.3)
            r = p99[c, "shfl-pv"] / p99[c, "native"]
            target(f"{c}: shfl-pv p99 / native p99", f"{r:.2f}", "<= 0.1", r <= 0.1)
        if c.startswith("1x") and (c, "shfl-pv") in tput and (c, "shfl") in tput:
            r = tput[c, "shfl-pv"] / tput[c, "shfl"]
            target(f"{c}: shfl-pv / shfl throughput", f"{r:.3f}", ">= 0.97", r >= 0.97)


if __name__ == "__main__":
    main()
