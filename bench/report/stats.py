# SPDX-License-Identifier: GPL-2.0-only
"""Statistics of a sweep: medians over repetitions, the summary table's
rows, the host's rates and the takeover comparison (the ceilings and
the targets: compare.py)."""
import math
import statistics

from .load import ORDER


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def ratio(a, b):
    return a / b if b and not math.isnan(b) and not math.isnan(a) else float("nan")


def one_x_key(conf):
    """The overcommit 1x configuration with @conf's workload ("2x/long"
    -> "1x/long"): what the same policy is compared with (vs 1x) and,
    for native, the ceiling on the same two host CPUs."""
    _, slash, wl = conf.partition("/")
    return "1x" + slash + wl


def groups(runs):
    keys = sorted({(s, c) for s, c, _ in runs},
                  key=lambda k: (k[0] != "overcommit", k[0], len(k[1]), k[1]))
    return keys


def table(runs):
    """Rows of the summary and the medians the targets need."""
    tput, p99, rows = {}, {}, []
    for s, c, p in runs:
        rs = runs[s, c, p]
        tput[s, c, p] = med([r["ops_per_s"] for r in rs])
        p99[s, c, p] = med([r["lat_ns"]["p99"] for r in rs])
    for s, c in groups(runs):
        for p in ORDER:
            rs = runs.get((s, c, p))
            if not rs:
                continue
            ops = [r["ops_per_s"] for r in rs]
            secs = [r["elapsed_ns"] / 1e9 for r in rs]
            lhp = [r["host_lhp"] / t for r, t in zip(rs, secs) if r.get("host_lhp") is not None]
            lwp = [r["host_lwp"] / t for r, t in zip(rs, secs) if r.get("host_lwp") is not None]
            rows.append({
                "scenario": s, "config": c, "policy": p, "n": len(rs),
                "ops": tput[s, c, p], "min": min(ops), "max": max(ops),
                "vs_native": ratio(tput[s, c, p], tput.get((s, c, "native"))),
                "vs_1x": ratio(tput[s, c, p], tput.get(("overcommit", one_x_key(c), p))),
                "p99_us": p99[s, c, p] / 1e3,
                "fair": med([r["fairness"] for r in rs]),
                "lhp_s": med(lhp), "lwp_s": med(lwp),
                "violations": sum(r["violations"] for r in rs),
            })
    return rows, tput, p99


def host_rates(host):
    """Per (scenario, config): LHP/s, LWP/s, holder off-CPU ms/s, steal ms/s."""
    rates = {}
    for key, h in host.items():
        secs = h["secs"]
        if secs > 0:
            rates[key] = {"lhp_s": h["lhp"] / secs, "lwp_s": h["lwp"] / secs,
                          "lhp_off_ms_s": h["off_ns"] / 1e6 / secs,
                          "steal_ms_s": h["steal_ns"] / 1e6 / secs}
    return rates


def takeover_table(takeover):
    """Per (scenario, config, workload), from load_takeover(): the median
    value with the takeover off and on, the unit, the throughput with the
    takeover on relative to native (times invert: off / on; ops/s: on /
    off), the halts, the runs, and how the takeover's waiting split
    (medians over the runs that waited: the share of it on a host CPU,
    the waiter's cost, and the share halted; None where not recorded)."""
    if takeover is None:
        return {}
    t, halts, units, waits = takeover
    rows = {}
    for (s_, c, w, a) in list(t):
        if a != 0 or (s_, c, w, 1) not in t:
            continue
        off, on = med(t[(s_, c, w, 0)]), med(t[(s_, c, w, 1)])
        unit = units.get(w, "s")
        num, den = (off, on) if unit == "s" else (on, off)
        rows[(s_, c, w)] = {"off": off, "on": on, "unit": unit,
                            "ratio": num / den if den else float("nan"),
                            "halts": halts[(s_, c, w)], "n": len(t[(s_, c, w, 1)])}
        split = [x for x in waits.get((s_, c, w), []) if x[0] > 0]
        rows[(s_, c, w)]["oncpu"] = med([on / a for a, _, on in split]) if split else None
        rows[(s_, c, w)]["halted"] = (med([max(a - st - on, 0) / a for a, st, on in split])
                                      if split else None)
    return rows

