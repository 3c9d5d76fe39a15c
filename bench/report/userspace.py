# SPDX-License-Identifier: GPL-2.0-only
"""libpvlock's bench (bench/userspace_locks.sh): medians, ratios, targets.

Reads OUT/userspace.jsonl, one object per run with config (1x, 2x, 4x,
8v), workload (micro, sysbench-threads, sysbench-mutex), variant (glibc,
adaptive, guest, both) and ops_per_s.
"""
import os
import statistics
from collections import defaultdict

from .load import read_jsonl

CONFIGS = ["1x", "2x", "4x", "8v"]
CONFIG_TEXT = {"1x": "1x (2 vCPUs on 2 CPUs)", "2x": "2x (4 vCPUs on 2 CPUs)",
               "4x": "4x (4 vCPUs on 1 CPU)", "8v": "4x (8 vCPUs on 2 CPUs)"}
WORKLOADS = ["micro", "micro-spin", "sysbench-threads", "sysbench-mutex"]
REAL = ["sysbench-threads", "sysbench-mutex"]
VARIANTS = ["glibc", "adaptive", "guest", "both", "one"]
# Configurations on one host CPU: there one thread alone ("one") is a
# ceiling no lock can beat, and a target above it cannot be met.
ONE_CPU = ["4x"]


def load(out):
    """(runs, violations, reps) or None without userspace.jsonl: runs maps
    (config, workload, variant) to its ops_per_s values, reps to them by
    repetition ({rep: ops_per_s})."""
    path = os.path.join(out, "userspace.jsonl")
    if not os.path.exists(path):
        return None
    runs = defaultdict(list)
    reps = defaultdict(dict)
    viol = 0
    for d in read_jsonl(path)[0]:
        mb = d.get("mutexbench") or {}
        viol += mb.get("violations", 0) + abs(mb.get("lost_updates", 0))
        if d.get("ops_per_s") is None:
            continue
        runs[d["config"], d["workload"], d["variant"]].append(d["ops_per_s"])
        if d.get("rep") is not None:
            reps[d["config"], d["workload"], d["variant"]][d["rep"]] = d["ops_per_s"]
    return runs, viol, reps


def paired(reps, c, w, a, b):
    """The ratios a / b of the repetitions that ran both, in rep order:
    the variants of one rep ran in one pass in one guest, so drift
    between reps (the host's other load, its own host's) cancels in
    them, where it does not between medians."""
    x, y = reps.get((c, w, a), {}), reps.get((c, w, b), {})
    return [x[r] / y[r] for r in sorted(set(x) & set(y)) if y[r]]


def order(keys, known):
    return sorted(keys, key=lambda k: known.index(k) if k in known else len(known))


def table(runs):
    """Rows per (config, workload, variant): median, min, max, n, and the
    ratios to glibc's default mutex, (both) to guest-only and, on one host
    CPU, to the one-thread ceiling."""
    med = {k: statistics.median(v) for k, v in runs.items()}
    rows = []
    for c in order({k[0] for k in runs}, CONFIGS):
        for w in order({k[1] for k in runs if k[0] == c}, WORKLOADS):
            base = med.get((c, w, "glibc"))
            for v in order({k[2] for k in runs if k[:2] == (c, w)}, VARIANTS):
                m = med[c, w, v]
                guest = med.get((c, w, "guest"))
                one = med.get((c, w, "one")) if c in ONE_CPU else None
                rows.append({"config": c, "workload": w, "variant": v, "ops": m,
                             "min": min(runs[c, w, v]), "max": max(runs[c, w, v]),
                             "n": len(runs[c, w, v]),
                             "vs_glibc": m / base if base else None,
                             "vs_guest": m / guest if guest and v == "both" else None,
                             "vs_one": m / one if one and v != "one" else None})
    return rows, med


def targets(med, viol, reps=None):
    """(what, measured, wanted, verdict) for the issue's targets.  With
    @reps (load()'s), a verdict also says in how many repetitions the
    paired ratio (paired()) meets the target: on as noisy a host as ours
    a median that meets it in 2 of 8 reps is not the same finding as one
    that meets it in 8 of 8."""
    out = []

    def ratio(c, w, a, b):
        x, y = med.get((c, w, a)), med.get((c, w, b))
        return x / y if x and y else None

    def add(what, key, want, ok, ceiling=None, if_measured=False):
        got = ratio(*key)
        if got is None and if_measured:
            return
        verdict = "not measured" if got is None else ("met" if ok(got) else "MISSED")
        each = paired(reps, *key) if reps else []
        if got is not None and len(each) > 1:
            verdict += f" ({sum(1 for r in each if ok(r))} of {len(each)} reps meet it)"
        if verdict.startswith("MISSED") and ceiling is not None and not ok(ceiling):
            verdict += f" (above the ceiling: one thread does {ceiling:.2f}x)"
        out.append((what, "-" if got is None else f"{got:.2f}x", want, verdict))

    for c in ("2x", "4x", "8v"):
        def ceil(w):
            return ratio(c, w, "one", "glibc") if c in ONE_CPU else None
        add(f"{CONFIG_TEXT[c]}: both / glibc, micro", (c, "micro", "both", "glibc"),
            ">= 1.5x", lambda g: g >= 1.5, ceil("micro"))
        for w in REAL:
            add(f"{CONFIG_TEXT[c]}: both / glibc, {w}", (c, w, "both", "glibc"),
                ">= 1.2x", lambda g: g >= 1.2, ceil(w))
    add(f"{CONFIG_TEXT['2x']}: both / guest-only, micro", ("2x", "micro", "both", "guest"),
        ">= 1.2x", lambda g: g >= 1.2)
    for w in WORKLOADS:
        # The spinlock is not among the workloads: held to the
        # same 1x bound when it ran, not listed as unmeasured otherwise.
        add(f"{CONFIG_TEXT['1x']}: both / glibc, {w}", ("1x", w, "both", "glibc"),
            ">= 0.97x (<= 3% loss)", lambda g: g >= 0.97, if_measured=w == "micro-spin")
    out.append(("mutual-exclusion violations (micro, micro-spin)", str(viol), "0",
                "met" if viol == 0 else "MISSED"))
    return out


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


HEAD = ["config", "workload", "variant", "ops/s median", "min-max", "vs glibc",
        "both vs guest", "vs one", "n"]


def cells(r):
    return [r["config"], r["workload"], r["variant"], f"{r['ops']:.0f}",
            f"{r['min']:.0f}-{r['max']:.0f}", fmt(r["vs_glibc"], ".2f"),
            fmt(r["vs_guest"], ".2f"), fmt(r["vs_one"], ".2f"), str(r["n"])]


def text(rows, tgts):
    widths = [6, 16, 8, 12, 21, 8, 13, 6, 2]
    lines = ["libpvlock (user-space locks), one guest per config, one thread per vCPU:",
             "  " + "  ".join(h.rjust(w) if i > 2 else h.ljust(w)
                              for i, (h, w) in enumerate(zip(HEAD, widths)))]
    last = None
    for r in rows:
        if last and last != (r["config"], r["workload"]):
            lines.append("")
        last = (r["config"], r["workload"])
        lines.append("  " + "  ".join(c.rjust(w) if i > 2 else c.ljust(w)
                                      for i, (c, w) in enumerate(zip(cells(r), widths))))
    lines += ["", "libpvlock targets:"]
    lines += [f"  {a:52} {b:>7}  (target {c}): {d}" for a, b, c, d in tgts]
    return "\n".join(lines) + "\n"


def markdown(rows, tgts):
    md = ["## User-space locks: libpvlock and glibc", "",
          "One guest per configuration (1x: 2 vCPUs on host CPUs 0-1; 2x: 4 vCPUs on 0-1; "
          "4x: 4 vCPUs on CPU 0; 8v: 8 vCPUs on 0-1), one thread per vCPU, the variants "
          "interleaved. `glibc`: the default mutex; `adaptive`: glibc's adaptive mutex; "
          "`guest`: libpvlock with guest-only knowledge (FlexGuard's); `both`: libpvlock "
          "with the host page too; `one` (4x only): glibc on one thread doing the same "
          "work, the ceiling on one host CPU (`vs one`). Workloads: `micro` (pvlock-mutexbench, 1 us sections), "
          "`micro-spin` (the same with a pthread spinlock, when asked for), "
          "`sysbench-threads` (`--thread-locks=1 --thread-yields=100`), `sysbench-mutex` "
          "(`--mutex-num=1`); medians of ops (events, lock acquisitions) per second.", "",
          "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    md += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    md += ["", "### libpvlock targets", "", "| target | measured | wanted | verdict |",
           "|---|---|---|---|"]
    md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in tgts]
    return "\n".join(md) + "\n"


def report(out):
    """(text, markdown) for OUT, or None without results."""
    got = load(out)
    if not got or not got[0]:
        return None
    runs, viol, reps = got
    rows, med = table(runs)
    tgts = targets(med, viol, reps)
    return text(rows, tgts), markdown(rows, tgts)
