#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Report of a bench/vcpu_oversub.sh sweep.

Usage: oversub_report.py OUT-DIR

Reads OUT-DIR/results.jsonl (pvlock-bench objects tagged with "scenario"
and "config"), OUT-DIR/ceiling.jsonl (the ceiling runs the overcommitted guests
measured themselves), OUT-DIR/pvlockstat-*.jsonl (host pvlockstat intervals,
one file per scenario/config) and, if the sweep had a traced pass,
OUT-DIR/trace.jsonl and traced_runs.jsonl (guest pvlocktrace totals and
the harness's figures for the same runs) and takeover.jsonl (hackbench with
the kernel-spinlock takeover off and on) and userspace.jsonl (the
user-space locks part, bench/userspace_locks.sh), and writes:

  results.csv     one row per harness run
  summary.md      the table (medians over repetitions, min-max, throughput
                  relative to native and to the same policy at 1x, p99
                  latency, host LHP/LWP per second), each configuration's
                  ceiling and the lock part's figures against it (p99.9
                  and max wait, per-thread shares, longest bypass, lock
                  events per 1000 acquisitions), the wait-time split
                  from pvlocktrace, and the targets
  summary.txt     the same as plain text (also printed)
  throughput.png  throughput vs oversubscription per policy (overcommit)
  latency_cdf.png acquire latency CDF per policy, one panel per config
  lhp_rate.png    host-counted lock-holder preemptions per second

Plots need gnuplot; without it the report says so and writes the rest.
"""
# The entry point; the work is done by the package bench/report/ (load,
# stats, render, plots).
import os
import sys

from report import compare, load, plots, render, stats, userspace


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    out = sys.argv[1]
    path = os.path.join(out, "results.jsonl")
    if not os.path.exists(path):
        sys.exit(f"oversub_report: {path} does not exist: nothing was measured")
    ple = load.load_pause_loop_exit(out)    # before anything is written
    runs, bad = load.load_runs(path)
    if not runs:
        sys.exit(f"oversub_report: {path} holds no harness result")
    host = stats.host_rates(load.load_pvlockstat(out))
    split = load.load_split(out)
    tk = stats.takeover_table(load.load_takeover(out))
    rows, tput, p99 = stats.table(runs)
    ceil = compare.ceilings(runs, load.load_ceiling(out))
    lock = compare.details(runs, rows, ceil)
    tgts = compare.targets(lock, ceil)
    notes = compare.quota_note(lock)
    render.write_csv(out, runs)
    text = render.write_text(rows, tgts, host, bad, split, tk, ceil, lock, notes)
    md = render.write_md(rows, tgts, host, split, tk, ceil, lock, notes)
    if ple:
        head = (f"guests ran with an emulated pause-loop exit after {ple} ns"
                " (--pause-loop-exit); the targets were set without one\n\n")
        text, md = head + text, "> " + head + md
    us = userspace.report(out)
    if us:
        text += "\n" + us[0]
        md += "\n" + us[1]
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(md)
    print(text, end="")
    print(plots.plots(out, runs, rows, tput))


if __name__ == "__main__":
    main()
