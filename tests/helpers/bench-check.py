#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check pvlock-bench JSON lines (one object per policy) read from stdin.

Usage: bench-check.py --policies=a,b,... [--channel=yes|no] [--zero=f1,f2]
                      [--positive=f1,f2] [--min-ms=N]

Fails (exit 1, with the reason) unless every listed policy has exactly one
result, ran for at least --min-ms, has 0 violations, and every thread got
the lock; with --channel, the page's liveness must match; every field in
--zero must be 0 and every field in --positive above 0.  Prints one
summary line per policy.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--policies", required=True)
    ap.add_argument("--channel", choices=["yes", "no"])
    ap.add_argument("--zero", default="")
    ap.add_argument("--positive", default="")
    ap.add_argument("--min-ms", type=int, default=0)
    args = ap.parse_args()

    results = {}
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"bad JSON from the harness ({e}): {line[:200]}")
        if "error" in r:
            sys.exit(f"harness error: {r['error']}")
        if r["policy"] in results:
            sys.exit(f"two results for {r['policy']}")
        results[r["policy"]] = r

    bad = []
    for p in args.policies.split(","):
        r = results.get(p)
        if r is None:
            bad.append(f"{p}: no result")
            continue
        print(f"{p:11} acq {r['acquisitions']:>9}  per-thread min {min(r['per_thread']):>7}"
              f"  max wait {r['lat_ns']['max'] / 1e6:8.2f} ms  halts {r['halts']}"
              f"  kicks {r['kicks']}  violations {r['violations']}")
        if r["violations"] != 0:
            bad.append(f"{p}: {r['violations']} mutual-exclusion violations")
        if min(r["per_thread"]) == 0:
            bad.append(f"{p}: a thread never got the lock: {r['per_thread']}")
        if r["elapsed_ns"] < args.min_ms * 1_000_000:
            bad.append(f"{p}: ran {r['elapsed_ns'] / 1e6:.0f} ms < {args.min_ms} ms")
        if args.channel and r["channel"] != (args.channel == "yes"):
            bad.append(f"{p}: channel {r['channel']}, expected {args.channel}")
        for f in filter(None, args.zero.split(",")):
            if r[f] != 0:
                bad.append(f"{p}: {f} = {r[f]}, expected 0")
        for f in filter(None, args.positive.split(",")):
            if not r.get(f, 0) > 0:
                bad.append(f"{p}: {f} = {r.get(f)}, expected > 0")
    if bad:
        sys.exit("\n".join(bad))


if __name__ == "__main__":
    main()
