#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Report of a bench/vcpu_oversub.sh sweep.

Usage: oversub_report.py OUT-DIR

Reads OUT-DIR/results.jsonl (pvlock-bench objects tagged with "scenario"
and "config"), OUT-DIR/pvlockstat-*.jsonl (host pvlockstat intervals,
one file per scenario/config) and, if the sweep had a traced pass,
OUT-DIR/trace.jsonl and traced_runs.jsonl (guest pvlocktrace totals and
the harness's figures for the same runs) and takeover.jsonl (hackbench with
the kernel-spinlock takeover off and on), and writes:

  results.csv     one row per harness run
  summary.md      the table (medians over repetitions, min-max, throughput
                  relative to native and to the same policy at 1x, p99
                  latency, host LHP/LWP per second), the wait-time split
                  from pvlocktrace, and the targets
  summary.txt     the same as plain text (also printed)
  throughput.png  throughput vs oversubscription per policy (overcommit)
  latency_cdf.png acquire latency CDF per policy, one panel per config
  lhp_rate.png    host-counted lock-holder preemptions per second

Plots need gnuplot; without it the report says so and writes the rest.
"""
import csv
import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict


def policy_order():
    """The harness's policies in report order: the one list the benches,
    the tests and the guest tools read."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                        "guest", "tools", "lock-policies")
    with open(path) as f:
        return [w for w in (line.strip() for line in f) if w and not w.startswith("#")]


ORDER = policy_order()
LEVELS = ["1x", "2x", "4x"]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def ratio(a, b):
    return a / b if b and not math.isnan(b) and not math.isnan(a) else float("nan")


def read_jsonl(path):
    """The JSON objects of a JSON-lines file, and how many of its lines
    that looked like one did not parse.  Other lines are skipped."""
    objs, bad = [], 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                objs.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return objs, bad


def load_runs(path):
    runs = defaultdict(list)
    objs, bad = read_jsonl(path)
    for r in objs:
        if "error" in r or "policy" not in r:
            continue
        runs[(r.get("scenario", "overcommit"), r["config"], r["policy"])].append(r)
    return runs, bad


def load_pvlockstat(out):
    """Per (scenario, config): LHP/s, LWP/s, holder off-CPU ms/s, steal ms/s."""
    host = {}
    for path in glob.glob(os.path.join(out, "pvlockstat-*.jsonl")):
        key = os.path.basename(path)[len("pvlockstat-"):-len(".jsonl")]
        scen, _, conf = key.partition("_")
        secs = lhp = lwp = off = steal = 0.0
        for iv in read_jsonl(path)[0]:
            secs += iv.get("interval_s", 0)
            # vcpu_oversub.sh runs pvlockstat --vm: only the measured VM
            for vm in iv.get("vms", []):
                for v in vm["vcpus"]:
                    lhp += v["lhp"]
                    lwp += v["lwp"]
                    off += v["lhp_offcpu_ns"]
                    steal += v["steal_ns"]
        if secs > 0:
            host[scen, conf] = {"lhp_s": lhp / secs, "lwp_s": lwp / secs,
                                "lhp_off_ms_s": off / 1e6 / secs,
                                "steal_ms_s": steal / 1e6 / secs}
    return host


def load_split(out):
    """Wait-time split per (scenario, config, policy) from the traced pass."""
    split = {}
    harness = {}
    for name in ("trace.jsonl", "traced_runs.jsonl"):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            return {}
        for d in read_jsonl(path)[0]:
            key = (d.get("scenario"), d.get("config"))
            if name == "traced_runs.jsonl":
                harness[key + (d.get("policy"),)] = d
                continue
            pol = d.get("traced_policy")
            for p in d.get("policies", []):
                if p["policy"] == pol:
                    split[key + (pol,)] = p
    for key, p in split.items():
        h = harness.get(key, {})
        p["harness_waits_ns"] = h.get("waits_ns")
    return split


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


def load_takeover(out):
    """hackbench seconds per (scenario, config) and takeover 0/1."""
    t = defaultdict(list)
    halts = defaultdict(int)
    path = os.path.join(out, "takeover.jsonl")
    if not os.path.exists(path):
        return {}
    for d in read_jsonl(path)[0]:
        if d.get("hackbench_s") is None:
            continue
        key = (d["scenario"], d["config"])
        t[key + (d["takeover"],)].append(d["hackbench_s"])
        halts[key] += d["halts"] if d["takeover"] else 0
    rows = {}
    for (s_, c, a) in list(t):
        if a != 0 or (s_, c, 1) not in t:
            continue
        off, on = med(t[(s_, c, 0)]), med(t[(s_, c, 1)])
        rows[(s_, c)] = {"off": off, "on": on, "ratio": off / on if on else float("nan"),
                         "halts": halts[(s_, c)], "n": len(t[(s_, c, 1)])}
    return rows


def takeover_lines(tk):
    return [f"{s:10} {c:6} hackbench native {r['off']:7.3f} s  takeover {r['on']:7.3f} s  "
            f"throughput takeover/native {r['ratio']:5.2f}  halts {r['halts']}  (n={r['n']})"
            for (s, c), r in sorted(tk.items())]


def groups(runs):
    keys = sorted({(s, c) for s, c, _ in runs},
                  key=lambda k: (k[0] != "overcommit", k[0], len(k[1]), k[1]))
    return keys


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
                "vs_1x": ratio(tput[s, c, p], tput.get(("overcommit", "1x", p))),
                "p99_us": p99[s, c, p] / 1e3,
                "fair": med([r["fairness"] for r in rs]),
                "lhp_s": med(lhp), "lwp_s": med(lwp),
                "violations": sum(r["violations"] for r in rs),
            })
    return rows, tput, p99


def targets(tput, p99):
    def t(s, c, p):
        return tput.get((s, c, p), float("nan"))

    out = []

    def add(what, got, want, ok):
        if "nan" in got:  # a policy or configuration it needs was not run
            return
        out.append((what, got, want, "reached" if ok else "NOT reached"))

    if ("overcommit", "2x", "shfl-pv") in tput:
        r = ratio(t("overcommit", "2x", "shfl-pv"), t("overcommit", "2x", "native"))
        add("2x: shfl-pv / native throughput", f"{r:.2f}x", ">= 3x", r >= 3)
        r = ratio(t("overcommit", "2x", "shfl-pv"), t("overcommit", "2x", "pvspin"))
        add("2x: shfl-pv / pvspin throughput", f"{r:.2f}x", ">= 1.3x", r >= 1.3)
        r = ratio(t("overcommit", "2x", "shfl-pv"), t("overcommit", "1x", "shfl-pv"))
        add("shfl-pv efficiency, 2x / 1x throughput", f"{r:.2f}", ">= 0.8", r >= 0.8)
        r = ratio(p99.get(("overcommit", "2x", "shfl-pv"), float("nan")),
                  p99.get(("overcommit", "2x", "native"), float("nan")))
        add("2x: shfl-pv p99 / native p99", f"{r:.3f}", "<= 0.1", r <= 0.1)
    if ("capped", "1cpu", "shfl-quota") in tput:
        r = ratio(t("capped", "1cpu", "shfl-quota"), t("capped", "1cpu", "shfl-pv"))
        add("capped: shfl-quota / shfl-pv throughput", f"{r:.2f}x", ">= 1.2x", r >= 1.2)
    if ("overcommit", "1x", "shfl-pv") in tput:
        r = ratio(t("overcommit", "1x", "shfl-pv"), t("overcommit", "1x", "shfl"))
        add("1x: shfl-pv / shfl throughput", f"{r:.3f}", ">= 0.97", r >= 0.97)
    return out


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


def nan_row(vals, spec):
    return " ".join("NaN" if math.isnan(v) else format(v, spec) for v in vals)


def write_bars(path, runs, rows, pols, key, spec):
    """One line per scenario/config: row[key] of every policy (NaN where not run)."""
    with open(path, "w") as f:
        f.write("# config " + " ".join(pols) + "\n")
        for s, c in groups(runs):
            by = {r["policy"]: r[key] for r in rows if (r["scenario"], r["config"]) == (s, c)}
            f.write(f"{s}-{c} " + nan_row([by.get(p, float("nan")) for p in pols], spec) + "\n")


def bars_plot(datafile, pols):
    """gnuplot commands for a clustered bar chart of a write_bars() file."""
    return ("set style data histograms; set style histogram clustered; set style fill solid 0.8\n"
            f'plot "{datafile}" using 2:xtic(1) title "{pols[0]}"' +
            "".join(f', "" using {i + 2} title "{p}"' for i, p in enumerate(pols) if i))


def plots(out, runs, rows, tput):
    if not shutil.which("gnuplot"):
        return "gnuplot not found: no plots (install gnuplot-nox)"
    data = os.path.join(out, "plotdata")
    os.makedirs(data, exist_ok=True)
    pols = [p for p in ORDER if any(k[2] == p for k in runs)]
    # throughput vs oversubscription; without overcommit runs, per config
    have_levels = any(k[0] == "overcommit" for k in runs)
    write_bars(os.path.join(data, "tput_bars.dat"), runs, rows, pols, "ops", ".0f")
    with open(os.path.join(data, "throughput.dat"), "w") as f:
        f.write("# level " + " ".join(pols) + "\n")
        for i, lv in enumerate(LEVELS):
            vals = [tput.get(("overcommit", lv, p), float("nan")) for p in pols]
            if all(math.isnan(v) for v in vals):
                continue
            f.write(f"{i} {lv} " + nan_row(vals, ".0f") + "\n")
    # latency CDF per config and policy, from the harness histograms
    cdf_panels = []
    for s, c in groups(runs):
        files = []
        for p in pols:
            hist = defaultdict(int)
            for r in runs.get((s, c, p), []):
                for ns, n in r.get("lat_hist", []):
                    hist[ns] += n
            total = sum(hist.values())
            if not total:
                continue
            name = os.path.join(data, f"cdf_{s}_{c}_{p}.dat")
            seen = 0
            with open(name, "w") as f:
                for ns in sorted(hist):
                    seen += hist[ns]
                    f.write(f"{max(ns, 1) / 1e3} {seen / total}\n")
            files.append((p, name))
        if files:
            cdf_panels.append((f"{s} {c}", files))
    # LHP rate per config and policy
    write_bars(os.path.join(data, "lhp.dat"), runs, rows, pols, "lhp_s", ".2f")
    gp = [f'set terminal pngcairo size 900,560 noenhanced font ",10"',
          f'set output "{out}/throughput.png"',
          'set logscale y; set key outside right; set grid; set ylabel "acquisitions/s (median)"']
    if have_levels:
        gp += ['set title "lock harness throughput vs vCPU oversubscription (overcommit)"',
               'set xlabel "vCPUs per host CPU"; set xtics ("1x" 0, "2x" 1, "4x" 2)',
               "plot " + ", ".join(f'"{data}/throughput.dat" using 1:{i + 3} with linespoints '
                                   f'lw 2 title "{p}"' for i, p in enumerate(pols))]
    else:
        gp += ['set title "lock harness throughput per configuration"',
               bars_plot(f"{data}/tput_bars.dat", pols)]
    gp += ["unset logscale; unset xtics; set xtics auto; set style data points"]
    if cdf_panels:
        n = len(cdf_panels)
        gp += [f'set output "{out}/latency_cdf.png"',
               f"set terminal pngcairo size 900,{300 * n + 100} noenhanced font \",10\"",
               f"set multiplot layout {n},1",
               'set logscale x; set xlabel "acquire latency (us)"; set ylabel "fraction"',
               "set yrange [0:1.02]; set key outside right"]
        for title, files in cdf_panels:
            gp.append(f'set title "acquire latency CDF, {title}"')
            gp.append("plot " + ", ".join(f'"{fn}" using 1:2 with steps lw 2 title "{p}"'
                                          for p, fn in files))
        gp += ["unset multiplot", "unset logscale; set autoscale y"]
    gp += ['set terminal pngcairo size 900,560 noenhanced font ",10"',
           f'set output "{out}/lhp_rate.png"',
           'set title "host-counted lock-holder preemptions per second (median per run)"',
           'set ylabel "LHP/s"; set yrange [0:*]; set xlabel ""; set xtics rotate by -30; set key outside right',
           bars_plot(f"{data}/lhp.dat", pols)]
    script = os.path.join(data, "plots.gp")
    with open(script, "w") as f:
        f.write("\n".join(gp) + "\n")
    res = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    if res.returncode:
        return f"gnuplot failed: {res.stderr.strip()[:400]}"
    return "plots: " + ", ".join(os.path.join(out, p) for p in
                                 ("throughput.png", "latency_cdf.png", "lhp_rate.png")
                                 if os.path.exists(os.path.join(out, p)))


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    out = sys.argv[1]
    path = os.path.join(out, "results.jsonl")
    if not os.path.exists(path):
        sys.exit(f"oversub_report: {path} does not exist: nothing was measured")
    runs, bad = load_runs(path)
    if not runs:
        sys.exit(f"oversub_report: {path} holds no harness result")
    host = load_pvlockstat(out)
    split = load_split(out)
    tk = load_takeover(out)
    rows, tput, p99 = table(runs)
    tgts = targets(tput, p99)
    write_csv(out, runs)
    text = write_text(rows, tgts, host, bad, split, tk)
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(write_md(rows, tgts, host, split, tk))
    print(text, end="")
    print(plots(out, runs, rows, tput))


if __name__ == "__main__":
    main()
