# SPDX-License-Identifier: GPL-2.0-only
"""The report's tables: results.csv, summary.txt and summary.md."""
import csv
import math
import os

from .load import ORDER


def write_csv(out, runs):
    cols = ["scenario", "config", "policy", "rep", "vcpus", "cs_ns", "ncs_ns", "duration_ms",
            "locks", "ops_per_s", "fairness", "p50_ns", "p99_ns", "p999_ns", "max_ns",
            "halts", "kicks", "shuffles", "holder_preempted", "host_lhp", "host_lwp",
            "violations"]
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for (s, c, p), rs in sorted(runs.items()):
            for i, r in enumerate(rs):
                lat = r["lat_ns"]
                w.writerow([s, c, p, i + 1, r["vcpus"], r["cs_ns"], r["ncs_ns"],
                            r["duration_ms"], r["locks"], r["ops_per_s"], r["fairness"],
                            lat["p50"], lat["p99"], lat["p999"], lat["max"], r["halts"],
                            r["kicks"], r["shuffles"], r["holder_preempted"],
                            r.get("host_lhp"), r.get("host_lwp"), r["violations"]])


SPLIT_HEAD = ["scenario", "config", "policy", "waits", "wait ms", "holder run %",
              "holder preempted %", "hand-over %", "self preempted %", "halts", "kicks",
              "vs harness"]


def split_cells(key, p):
    w = max(p["wait_ns"], 1)
    hw = p.get("harness_waits_ns")
    return [key[0], key[1], key[2], str(p["waits"]), f"{p['wait_ns'] / 1e6:.1f}",
            f"{100 * p['holder_running_ns'] / w:.1f}",
            f"{100 * p['holder_preempted_ns'] / w:.1f}",
            f"{100 * p['handoff_ns'] / w:.1f}",
            f"{100 * p['waiter_preempted_ns'] / w:.1f}", str(p["halts"]), str(p["kicks"]),
            f"{p['wait_ns'] / hw:.3f}" if hw else "-"]


def split_order(split):
    return sorted(split, key=lambda k: (k[0], k[1], ORDER.index(k[2]) if k[2] in ORDER else 99))


def takeover_lines(tk):
    return [f"{s:10} {c:6} hackbench native {r['off']:7.3f} s  takeover {r['on']:7.3f} s  "
            f"throughput takeover/native {r['ratio']:5.2f}  halts {r['halts']}  (n={r['n']})"
            for (s, c), r in sorted(tk.items())]


def fmt(x, spec):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


HEAD = ["scenario", "config", "policy", "ops/s median", "min-max", "vs native", "vs 1x",
        "p99 us", "fairness", "LHP/s", "LWP/s", "n"]


def cells(r):
    return [r["scenario"], r["config"], r["policy"], fmt(r["ops"], ".0f"),
            f"{r['min']:.0f}-{r['max']:.0f}", fmt(r["vs_native"], ".2f"), fmt(r["vs_1x"], ".2f"),
            fmt(r["p99_us"], ".1f"), fmt(r["fair"], ".3f"), fmt(r["lhp_s"], ".1f"),
            fmt(r["lwp_s"], ".1f"), str(r["n"])]


def write_text(rows, tgts, host, bad, split, tk):
    widths = [10, 7, 10, 12, 21, 9, 6, 9, 8, 8, 8, 2]
    lines = ["  ".join(h.rjust(w) if i > 2 else h.ljust(w)
                       for i, (h, w) in enumerate(zip(HEAD, widths)))]
    last = None
    for r in rows:
        if last and last != (r["scenario"], r["config"]):
            lines.append("")
        last = (r["scenario"], r["config"])
        lines.append("  ".join(c.rjust(w) if i > 2 else c.ljust(w)
                               for i, (c, w) in enumerate(zip(cells(r), widths))))
    if host:
        lines += ["", "host pvlockstat, whole VM run (all policies):"]
        for (s, c), h in sorted(host.items()):
            lines.append(f"  {s:10} {c:6} LHP/s {h['lhp_s']:8.1f}  LWP/s {h['lwp_s']:8.1f}"
                         f"  preempted-holder off-CPU {h['lhp_off_ms_s']:7.1f} ms/s"
                         f"  steal {h['steal_ms_s']:7.1f} ms/s")
    if split:
        lines += ["", "guest pvlocktrace, one traced run per policy: where wait time went"]
        widths = [10, 7, 10, 6, 9, 12, 18, 11, 16, 6, 6, 10]
        lines.append("  ".join(h.rjust(w) if i > 2 else h.ljust(w)
                               for i, (h, w) in enumerate(zip(SPLIT_HEAD, widths))))
        for key in split_order(split):
            lines.append("  ".join(c.rjust(w) if i > 2 else c.ljust(w) for i, (c, w) in
                                   enumerate(zip(split_cells(key, split[key]), widths))))
    if tk:
        lines += ["", "kernel-spinlock takeover (pvlockinfo.ko takeover=1), Debian's hackbench -g 4 -l 100:"]
        lines += ["  " + x for x in takeover_lines(tk)]
    lines += ["", "targets:"]
    for what, got, want, verdict in tgts:
        lines.append(f"  {what:42} {got:>9}  (target {want}): {verdict}")
    viol = sum(r["violations"] for r in rows)
    lines.append("")
    lines.append(f"mutual-exclusion violations in all runs: {viol}")
    if bad:
        lines.append(f"warning: {bad} unparsable result lines were skipped")
    return "\n".join(lines) + "\n"


def write_md(rows, tgts, host, split, tk):
    md = ["# vCPU oversubscription sweep", "",
          "Medians over repetitions; `vs 1x` is the same policy's throughput in the "
          "overcommit 1x run (2 vCPUs on 2 host CPUs). LHP/LWP per second are the "
          "host's counts for the vCPUs of the measured VM during each run.", "",
          "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    md += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    if host:
        md += ["", "## Host pvlockstat (whole VM run)", "",
               "| scenario | config | LHP/s | LWP/s | preempted-holder off-CPU ms/s | steal ms/s |",
               "|---|---|---|---|---|---|"]
        for (s, c), h in sorted(host.items()):
            md.append(f"| {s} | {c} | {h['lhp_s']:.1f} | {h['lwp_s']:.1f} | "
                      f"{h['lhp_off_ms_s']:.1f} | {h['steal_ms_s']:.1f} |")
    if split:
        md += ["", "## Where wait time went (guest pvlocktrace)", "",
               "One extra run per policy with pvlocktrace attached (not in the throughput "
               "figures: tracing costs throughput). Waits are acquisitions whose fast path "
               "failed; their time splits into holder running, holder's vCPU preempted "
               "by the host, and hand-over (the lock between holders, typically to a "
               "waiter whose vCPU is not running). `self preempted` is the waiters' own "
               "steal during their waits. `vs harness`: pvlocktrace's total wait over "
               "the harness's own timing of the same waits.", "",
               "| " + " | ".join(SPLIT_HEAD) + " |", "|" + "---|" * len(SPLIT_HEAD)]
        md += ["| " + " | ".join(split_cells(k, split[k])) + " |" for k in split_order(split)]
    if tk:
        md += ["", "## Kernel spinlocks: takeover off and on (hackbench)", "",
               "Debian's `hackbench -g 4 -l 100` in the same VM, alternating between the "
               "kernel's own spinlock functions (native: livepatch removed) and the takeover "
               "applied and on (`pvli-takeover apply`); median seconds.", "",
               "| scenario | config | native s | takeover s | throughput takeover/native | halts | n |",
               "|---|---|---|---|---|---|---|"]
        md += [f"| {s} | {c} | {r['off']:.3f} | {r['on']:.3f} | {r['ratio']:.2f} | "
               f"{r['halts']} | {r['n']} |" for (s, c), r in sorted(tk.items())]
    md += ["", "## Targets", "", "| target | measured | wanted | verdict |", "|---|---|---|---|"]
    md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in tgts]
    md += ["", "Plots: throughput.png, latency_cdf.png, lhp_rate.png.", ""]
    return "\n".join(md)
