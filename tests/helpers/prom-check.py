#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check pvlockstat's Prometheus exposition the way a scraper sees it.

    prom-check.py URL --vm NAME --vcpus N [--gap SECS] [--want-lhp]
    prom-check.py --file FILE --vm NAME --vcpus N [--dashboard JSON]

With a URL: scrape twice, GAP seconds apart.  Each scrape must be clean
under `promtool check metrics` (Debian's prometheus package), carry every
family for each vCPU of VM NAME, and have consistent histograms
(cumulative buckets, +Inf equal to _count).  Between the scrapes no
counter may go down, and the VM's preemptions, run time and steal must
grow (the test keeps it busy on one host CPU).  --want-lhp: the second
scrape counts lock-holder preemptions and holder off-CPU times.

--dashboard: every metric the Grafana dashboard's queries name is in the
exposition (the dashboard cannot drift from the exporter silently).

Exit 0 when all holds, 1 with the reasons.  Notes go to stdout as "# ".
"""
import argparse
import re
import subprocess
import sys
import time
import urllib.request

CONTENT_TYPE = "text/plain; version=0.0.4"
COUNTERS = ["pvlock_vcpu_preemptions_total",
            "pvlock_vcpu_lock_holder_preemptions_total",
            "pvlock_vcpu_lock_waiter_preemptions_total",
            "pvlock_vcpu_kernel_lock_holder_preemptions_total",
            "pvlock_vcpu_kernel_lock_waiter_preemptions_total",
            "pvlock_vcpu_lock_waiter_offcpu_seconds_total",
            "pvlock_vcpu_steal_seconds_total",
            "pvlock_vcpu_run_seconds_total"]
HIST = "pvlock_vcpu_lock_holder_offcpu_seconds"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

problems = []


def problem(msg):
    problems.append(msg)


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        ctype = r.headers.get("Content-Type", "")
        if not ctype.startswith(CONTENT_TYPE):
            problem(f"Content-Type '{ctype}', want '{CONTENT_TYPE}...'")
        return r.read().decode()


def promtool(text, what):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    out = (p.stdout + p.stderr).strip()
    if p.returncode != 0 or out:
        problem(f"promtool check metrics on {what}: exit {p.returncode}: {out}")
    else:
        print(f"# promtool check metrics on {what}: clean")


def parse(text):
    """{(name, frozenset(labels)): value}"""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            problem(f"cannot parse sample line: {line}")
            continue
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def check_one(samples, vm, nvcpus, what):
    for c in range(nvcpus):
        for fam in COUNTERS + [HIST + "_count", HIST + "_sum"]:
            if value(samples, fam, vm=vm, vcpu=str(c)) is None:
                problem(f"{what}: no {fam} for vm {vm} vCPU {c}")
        buckets = sorted(((float(dict(l)["le"]), v) for (n, l), v in samples.items()
                          if n == HIST + "_bucket" and dict(l).get("vm") == vm
                          and dict(l).get("vcpu") == str(c)))
        counts = [v for _, v in buckets]
        if not buckets or buckets[-1][0] != float("inf"):
            problem(f"{what}: vm {vm} vCPU {c}: no +Inf bucket")
            continue
        if counts != sorted(counts):
            problem(f"{what}: vm {vm} vCPU {c}: buckets not cumulative: {buckets}")
        if counts[-1] != value(samples, HIST + "_count", vm=vm, vcpu=str(c)):
            problem(f"{what}: vm {vm} vCPU {c}: +Inf bucket {counts[-1]} != _count")
    if value(samples, "pvlock_vm_vcpus", vm=vm) != nvcpus:
        problem(f"{what}: pvlock_vm_vcpus of {vm} is "
                f"{value(samples, 'pvlock_vm_vcpus', vm=vm)}, want {nvcpus}")


def check_dashboard(samples, path):
    """Every pvlock_* name in the dashboard's queries is a sample name."""
    import json
    names = {n for n, _ in samples}
    exprs = []

    def walk(o):
        if isinstance(o, dict):
            if isinstance(o.get("expr"), str):
                exprs.append(o["expr"])
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(json.load(open(path)))
    wanted = {m for e in exprs for m in re.findall(r"pvlock_[a-z_]+", e)}
    if not exprs:
        problem(f"{path}: no queries")
    for m in sorted(wanted - names):
        problem(f"{path} queries {m}, which the exporter does not export")
    print(f"# dashboard: {len(exprs)} queries, {len(wanted)} metrics, all exported"
          if wanted <= names else "# dashboard: names metrics not exported")


def total(samples, name, vm):
    return sum(v for (n, l), v in samples.items() if n == name and dict(l).get("vm") == vm)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url", nargs="?")
    ap.add_argument("--file")
    ap.add_argument("--vm", required=True)
    ap.add_argument("--vcpus", type=int, required=True)
    ap.add_argument("--gap", type=float, default=5)
    ap.add_argument("--want-lhp", action="store_true")
    ap.add_argument("--dashboard")
    a = ap.parse_args()

    if a.file:
        text = open(a.file).read()
        promtool(text, a.file)
        check_one(parse(text), a.vm, a.vcpus, a.file)
        if a.dashboard:
            check_dashboard(parse(text), a.dashboard)
    else:
        t1 = scrape(a.url)
        time.sleep(a.gap)
        t2 = scrape(a.url)
        promtool(t1, "scrape 1")
        promtool(t2, "scrape 2")
        s1, s2 = parse(t1), parse(t2)
        check_one(s1, a.vm, a.vcpus, "scrape 1")
        check_one(s2, a.vm, a.vcpus, "scrape 2")
        down = [(k, s1[k], s2[k]) for k in s1.keys() & s2.keys()
                if k[0].endswith(("_total", "_bucket", "_count", "_sum")) and s2[k] < s1[k]]
        for (n, l), v1, v2 in down:
            problem(f"counter {n}{dict(l)} went down: {v1} -> {v2}")
        print(f"# {len(s1.keys() & s2.keys())} series in both scrapes, "
              f"{len(down)} counters went down")
        for fam in ("pvlock_vcpu_preemptions_total", "pvlock_vcpu_run_seconds_total",
                    "pvlock_vcpu_steal_seconds_total"):
            d = total(s2, fam, a.vm) - total(s1, fam, a.vm)
            print(f"# {fam} of {a.vm} grew by {d:g} in {a.gap:g} s")
            if d <= 0:
                problem(f"{fam} of {a.vm} did not grow between the scrapes")
        if a.want_lhp:
            lhp = total(s2, "pvlock_vcpu_lock_holder_preemptions_total", a.vm)
            hist = total(s2, HIST + "_count", a.vm)
            print(f"# {a.vm}: {lhp:g} lock-holder preemptions, {hist:g} holder "
                  "off-CPU times in the histogram")
            if lhp <= 0 or hist <= 0:
                problem(f"{a.vm}: no lock-holder preemptions counted ({lhp:g}, "
                        f"histogram {hist:g})")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
