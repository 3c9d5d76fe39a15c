# SPDX-License-Identifier: GPL-2.0-only
"""The report's gnuplot plots: throughput.png, latency_cdf.png,
lhp_rate.png (data and script in OUT-DIR/plotdata)."""
import math
import os
import shutil
import subprocess
from collections import defaultdict

from .load import ORDER
from .stats import groups

# overcommit's configurations, in the order of the throughput plot
LEVELS = ["1x", "2x", "4x", "8x2"]


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
            # a config may hold a slash ("1x/long"): not a directory here
            name = os.path.join(data, f"cdf_{s}_{c.replace('/', '-')}_{p}.dat")
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
               'set xlabel "vCPUs per host CPU (8x2: 8 vCPUs on 2)"; set xtics (' +
               ", ".join(f'"{lv}" {i}' for i, lv in enumerate(LEVELS)) + ")",
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
