#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check pvlocktrace's figures against the lock harness's own.

Reads a guest's output: the harness's JSON lines ({"policy": ...}) and
pvlocktrace -j's totals ({"interval_s": ...}).  For every policy:
  - pvlocktrace saw exactly as many waits as the harness counted
    (acquisitions whose fast path failed);
  - its parts (holder running, holder preempted, hand-over, unplaced)
    add up to its wait time;
  - its wait time is within --tolerance of the harness's, which times
    the same waits independently (local_clock() around the lock call),
    give or take one host descheduling: the harness's clock and the
    tracer's are read a few calls apart, and a vCPU the host deschedules
    (or TCG stops) between the two reads moves that one wait by up to a
    host slice in one total and not the other.  That is a few per cent of
    a 3 s run's waits; the check allows it once per policy, bounded by
    the harness's longest wait (which contains any such pause at the
    start of a wait);
  - unplaced time is at most --tolerance of the waits.
And kicks: the lock core's count equals the kick events seen.  And the
kernel's own spinlocks (the harness's native policy is a spinlock_t, so
its waits go through the qspinlock slow path): pvlocktrace timed some,
and with pvlockinfo.ko loaded and its page live it read the waiter's own
steal at both ends of nearly every one (no_steal at most --tolerance of
the waits: the kfunc answers unknown while the host keeps rewriting
the record or has not yet reported the vCPU back on a host CPU).
Exit 0 when all hold, 1 otherwise; prints one line per policy.
"""
import argparse
import json
import sys

PARTS = ("holder_running_ns", "holder_preempted_ns", "handoff_ns", "unplaced_ns")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tolerance", type=float, default=0.05)
    ap.add_argument("--min-waits", type=int, default=100,
                    help="each policy must have waited at least this often")
    args = ap.parse_args()

    harness, traced = {}, None
    for line in sys.stdin:
        line = line.strip()
        if line.startswith('{"policy"'):
            d = json.loads(line)
            harness[d["policy"]] = d
        elif line.startswith('{"interval_s"'):
            traced = {p["policy"]: p for p in json.loads(line)["policies"]}
    if not harness:
        print("FAIL: no harness results in the input")
        return 1
    if traced is None:
        print("FAIL: no pvlocktrace JSON in the input")
        return 1

    ok = True
    kicks_traced = 0
    for name, t in traced.items():
        kicks_traced += t["kicks"]
    for name, h in harness.items():
        t = traced.get(name)
        if t is None:
            print(f"FAIL {name}: pvlocktrace saw nothing of it")
            ok = False
            continue
        parts = sum(t[k] for k in PARTS)
        ratio = t["wait_ns"] / h["waits_ns"] if h["waits_ns"] else 0.0
        split = " ".join(f"{k[:-3]}={100.0 * t[k] / max(t['wait_ns'], 1):.1f}%"
                         for k in PARTS)
        print(f"{name}: waits harness={h['waits']} traced={t['waits']} "
              f"wait_ms harness={h['waits_ns'] / 1e6:.2f} traced={t['wait_ns'] / 1e6:.2f} "
              f"ratio={ratio:.3f} longest_ms={h['lat_ns']['max'] / 1e6:.2f} {split} holder_unknown={t['holder_unknown']}")
        if h["waits"] < args.min_waits:
            print(f"FAIL {name}: only {h['waits']} waits; the run shows nothing")
            ok = False
        if t["waits"] != h["waits"]:
            print(f"FAIL {name}: pvlocktrace counted {t['waits']} waits, the harness {h['waits']}")
            ok = False
        if parts != t["wait_ns"]:
            print(f"FAIL {name}: parts add up to {parts} ns, not {t['wait_ns']}")
            ok = False
        # One host descheduling between the two clocks' reads, at most.
        pause = h["lat_ns"]["max"]
        slack = args.tolerance * h["waits_ns"] + pause
        if abs(t["wait_ns"] - h["waits_ns"]) > slack:
            print(f"FAIL {name}: traced wait time is {ratio:.3f} of the harness's "
                  f"(tolerance {args.tolerance} plus one pause of at most "
                  f"{pause / 1e6:.2f} ms, the longest wait)")
            ok = False
        if t["unplaced_ns"] > args.tolerance * t["wait_ns"]:
            print(f"FAIL {name}: {t['unplaced_ns']} ns of {t['wait_ns']} could not be placed")
            ok = False
    k = traced.get("kernel")
    if k is None or not k["waits"]:
        print("FAIL kernel: pvlocktrace timed no qspinlock slow-path wait")
        ok = False
    else:
        print(f"kernel: waits={k['waits']} wait_ms={k['wait_ns'] / 1e6:.2f} "
              f"self_preempted_ms={k['waiter_preempted_ns'] / 1e6:.2f} no_steal={k['no_steal']}")
        if k["no_steal"] > args.tolerance * k["waits"]:
            print(f"FAIL kernel: the waiter's steal was unknown in {k['no_steal']} of "
                  f"{k['waits']} waits (pvlockinfo.ko's kfunc pvli_own_steal_ns)")
            ok = False
    kicks = next(iter(harness.values()))["kicks"]
    print(f"kicks: lock core {kicks}, traced {kicks_traced}")
    if kicks != kicks_traced:
        print("FAIL: kick events differ from the lock core's count")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
