# SPDX-License-Identifier: GPL-2.0-only
"""The report's tables: results.csv, summary.txt and summary.md."""
import csv
import math
import os

from .load import ORDER, rep_of


def write_csv(out, runs):
    cols = ["scenario", "config", "policy", "rep", "vcpus", "cs_ns", "ncs_ns", "duration_ms",
            "locks", "ops_per_s", "fairness", "p50_ns", "p99_ns", "p999_ns", "max_ns",
            "halts", "kicks", "shuffles", "holder_preempted", "host_lhp", "host_lwp",
            "violations", "max_bypass", "stolen", "queued", "quota_waits"]
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for (s, c, p), rs in sorted(runs.items()):
            for i, r in enumerate(rs):
                lat = r["lat_ns"]
                w.writerow([s, c, p, rep_of(r, i), r["vcpus"], r["cs_ns"], r["ncs_ns"],
                            r["duration_ms"], r["locks"], r["ops_per_s"], r["fairness"],
                            lat["p50"], lat["p99"], lat["p999"], lat["max"], r["halts"],
                            r["kicks"], r["shuffles"], r["holder_preempted"],
                            r.get("host_lhp"), r.get("host_lwp"), r["violations"],
                            r.get("max_bypass"), r.get("stolen"), r.get("queued"),
                            r.get("quota_waits")])


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


def tk_value(x, unit):
    return f"{x:.3f} s" if unit == "s" else f"{x:.0f} ops/s"


def takeover_order(tk):
    """Scenario and config as the sweep ran them, workloads as measured."""
    return sorted(tk, key=lambda k: (k[0], k[1]))


def tk_share(x):
    """A share of the takeover's waiting, as a percentage; - if not recorded."""
    return "-" if x is None else f"{100 * x:.0f}%"


def takeover_lines(tk):
    return [f"{s:10} {c:6} {w:10} native {tk_value(r['off'], r['unit']):>14}  "
            f"takeover {tk_value(r['on'], r['unit']):>14}  "
            f"throughput takeover/native {r['ratio']:5.2f}  halts {r['halts']}  "
            f"waiting on-cpu {tk_share(r.get('oncpu')):>4} halted/blocked {tk_share(r.get('halted')):>4}  "
            f"(n={r['n']})"
            for s, c, w in takeover_order(tk) for r in [tk[(s, c, w)]]]


def fmt(x, spec):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


HEAD = ["scenario", "config", "policy", "ops/s median", "min-max", "vs native", "vs 1x",
        "p99 us", "Jain", "LHP/s", "LWP/s", "n"]


def cells(r):
    return [r["scenario"], r["config"], r["policy"], fmt(r["ops"], ".0f"),
            f"{r['min']:.0f}-{r['max']:.0f}", fmt(r["vs_native"], ".2f"), fmt(r["vs_1x"], ".2f"),
            fmt(r["p99_us"], ".1f"), fmt(r["fair"], ".3f"), fmt(r["lhp_s"], ".1f"),
            fmt(r["lwp_s"], ".1f"), str(r["n"])]


# ---- the lock part against its ceiling (compare.py) ---------------------------

LOCK_HEAD = ["scenario", "config", "policy", "vs ceiling", "p99.9 us", "max ms", "min share",
             "max share", "max bypass", "steals/k", "queued/k", "halts/k", "kicks/k",
             "shuffles/k"]
LOCK_WIDTHS = [10, 7, 10, 10, 9, 8, 9, 9, 10, 8, 8, 7, 7, 10]
LOCK_ABOUT = ("medians over repetitions; share: a thread's acquisitions over the fair share; "
              "max bypass: the most acquisitions by others while one thread waited; "
              "events per 1000 acquisitions, '-' for a lock that counts none")
CEILING_ABOUT = ("an overcommitted guest measures its own, interleaved with the reps: native "
                 "on as many threads as it has host CPUs, its other vCPUs idle (2x, 8x2: 2 "
                 "threads, the 1x figure of host CPUs 0-1; 4x: one thread): the figure is the "
                 "policy's median over their median, and each rep (K of N) is held against "
                 "its own; noisy and capped: native's median at overcommit 1x "
                 "(2 vCPUs on host CPUs 0-1)")


def lock_cells(d):
    return [d["scenario"], d["config"], d["policy"], fmt(d["vs_ceiling"], ".2f"),
            fmt(d["p999_us"], ".1f"), fmt(d["max_ms"], ".2f"), fmt(d["min_share"], ".2f"),
            fmt(d["max_share"], ".2f"), fmt(d["max_bypass"], ".0f")] + \
        [fmt(d[e + "_k"], ".1f") for e in ("stolen", "queued", "halts", "kicks", "shuffles")]


def native_1x_note(c):
    """A same-guest ceiling's note on the 1x guest's native median, or ""."""
    if math.isnan(c.get("native_1x", math.nan)):
        return ""
    return f"(the 1x guest's native: {c['native_1x']:.0f})"


def ceiling_text(c):
    if math.isnan(c["ops"]):
        return "not measured in this run (needs overcommit 1x with native)"
    note = native_1x_note(c)
    return f"{c['kind']:10} {c['ops']:9.0f} ops/s  (n={c['n']})" + (f"  {note}" if note else "")


def aligned(cells, widths):
    """The text tables' row: three names left, the figures right."""
    return "  ".join(c.rjust(w) if i > 2 else c.ljust(w)
                     for i, (c, w) in enumerate(zip(cells, widths)))


def lock_text(ceil, lock):
    lines = ["", "ceilings: " + CEILING_ABOUT]
    lines += [f"  {s:10} {c:6} {ceiling_text(x)}" for (s, c), x in ceil.items()]
    lines += ["", "against the ceiling (" + LOCK_ABOUT + "):", aligned(LOCK_HEAD, LOCK_WIDTHS)]
    last = None
    for d in lock:
        if last and last != (d["scenario"], d["config"]):
            lines.append("")
        last = (d["scenario"], d["config"])
        lines.append(aligned(lock_cells(d), LOCK_WIDTHS))
    return lines


def lock_md(ceil, lock):
    md = ["", "## Ceilings and the lock part against them", "",
          "Ceiling: " + CEILING_ABOUT + ". Figures: " + LOCK_ABOUT + ".", "",
          "| scenario | config | ceiling | ops/s | n |", "|---|---|---|---|---|"]
    md += [f"| {s} | {c} | {x['kind']} | {' '.join(filter(None, [fmt(x['ops'], '.0f'), native_1x_note(x)]))}"
           f" | {x['n']} |" for (s, c), x in ceil.items()]
    md += ["", "| " + " | ".join(LOCK_HEAD) + " |", "|" + "---|" * len(LOCK_HEAD)]
    md += ["| " + " | ".join(lock_cells(d)) + " |" for d in lock]
    return md


def targets_text(tgts, notes):
    lines = ["", "targets (medians of this run, side by side):"]
    for what, got, want, verdict in tgts:
        lines.append(f"  {what:50} {got:>6}  (target {want}): {verdict}")
    return lines + ["  " + n for n in notes]


def write_text(rows, tgts, host, bad, split, tk, ceil, lock, notes):
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
    lines += lock_text(ceil, lock)
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
        lines += ["", "kernel-spinlock takeover (pvlockinfo.ko takeover=1) on Debian's workloads "
                  "(pvli-workload; s: time for fixed work, ops/s: throughput):"]
        lines += ["  " + x for x in takeover_lines(tk)]
    lines += targets_text(tgts, notes)
    viol = sum(r["violations"] for r in rows)
    lines.append("")
    lines.append(f"mutual-exclusion violations in all runs: {viol}")
    if bad:
        lines.append(f"warning: {bad} unparsable result lines were skipped")
    return "\n".join(lines) + "\n"


def write_md(rows, tgts, host, split, tk, ceil, lock, notes):
    md = ["# vCPU oversubscription sweep", "",
          "Medians over repetitions; `vs 1x` is the same policy's throughput in the "
          "overcommit 1x run (2 vCPUs on 2 host CPUs) with the same workload; `Jain` is "
          "Jain's fairness index of the per-thread acquisitions. LHP/LWP per second are the "
          "host's counts for the vCPUs of the measured VM during each run.", "",
          "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    md += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    md += lock_md(ceil, lock)
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
        md += ["", "## Kernel spinlocks: takeover off and on (Debian's workloads)", "",
               "Unmodified workloads that stress kernel spinlocks (the guest tool "
               "`pvli-workload`: `hackbench -g 4 -l 100`, stress-ng's `msg` stressor, "
               "`perf bench futex hash`, ...) in the same VM, alternating between the "
               "kernel's own spinlock functions (native: takeover removed) and the takeover "
               "applied and on (`pvli-takeover apply`); medians, in seconds for a fixed "
               "amount of work or in operations per second. `on-cpu` and `halted/blocked`: "
               "the share of the takeover's waiting its waiters spent on a host CPU (what a "
               "wait costs the guest) and off one without being preempted: halted, or "
               "blocked in the host (not 0 where nobody halts: under TCG a vCPU thread "
               "also blocks on QEMU's global lock, a likely reason); the rest of it they "
               "were preempted.", "",
               "| scenario | config | workload | native | takeover | throughput takeover/native "
               "| halts | on-cpu | halted/blocked | n |",
               "|---|---|---|---|---|---|---|---|---|---|"]
        md += [f"| {s} | {c} | {w} | {tk_value(r['off'], r['unit'])} | "
               f"{tk_value(r['on'], r['unit'])} | {r['ratio']:.2f} | {r['halts']} | "
               f"{tk_share(r.get('oncpu'))} | {tk_share(r.get('halted'))} | {r['n']} |"
               for s, c, w in takeover_order(tk) for r in [tk[(s, c, w)]]]
    md += ["", "## Targets", "", "| target | measured | wanted | verdict |", "|---|---|---|---|"]
    md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in tgts]
    md += [""] + notes if notes else []
    md += ["", "Plots: throughput.png, latency_cdf.png, lhp_rate.png.", ""]
    return "\n".join(md)
