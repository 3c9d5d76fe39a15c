# SPDX-License-Identifier: GPL-2.0-only
"""Reading a sweep's results directory: the harness runs, the
ceiling runs, the host's pvlockstat intervals, the traced
pass and the takeover runs."""
import glob
import json
import os
import re
import sys
from collections import defaultdict


def policy_order():
    """The harness's policies in report order: the one list the benches,
    the tests and the guest tools read."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(top, "guest", "tools", "lock-policies")
    with open(path) as f:
        return [w for w in (line.strip() for line in f) if w and not w.startswith("#")]


ORDER = policy_order()


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


def rep_of(r, i):
    """The repetition run @r belongs to: its "rep", or (results from
    before runs carried it) its position @i, counted from 1."""
    return r.get("rep", i + 1)


def load_pause_loop_exit(out):
    """The emulated pause-loop exit the run's guests had, in ns (the
    file bench/vcpu_oversub.sh writes); 0 for none or an older run."""
    path = os.path.join(out, "pause-loop-exit")
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return 0
    if not re.fullmatch(r"[0-9]+", text):
        sys.exit(f"oversub_report: {path} should hold a number of ns, not {text!r}")
    return int(text)


def load_ceiling(out):
    """The ceiling runs (pvlock-sweep --ceiling-threads: native on as
    many threads as the guest has host CPUs) per (scenario, config); {}
    without ceiling.jsonl."""
    ceil = defaultdict(list)
    path = os.path.join(out, "ceiling.jsonl")
    if os.path.exists(path):
        for r in read_jsonl(path)[0]:
            if "error" not in r and "ops_per_s" in r:
                ceil[(r.get("scenario", "overcommit"), r["config"])].append(r)
    return ceil


def load_pvlockstat(out):
    """Per (scenario, config): seconds counted, LHP and LWP counts, holder
    off-CPU and steal ns, summed over the VM's vCPUs and intervals."""
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
        host[scen, conf] = {"secs": secs, "lhp": lhp, "lwp": lwp, "off_ns": off,
                            "steal_ns": steal}
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


def load_takeover(out):
    """The takeover part's values per (scenario, config, workload, takeover
    0/1), each workload's unit ("s": time for fixed work, "ops/s"), and
    the halts of the takeover-on runs per (scenario, config, workload),
    and their waiting per run as (wait_us, steal_us, oncpu_us) where the
    sweep recorded it; None without takeover.jsonl.  Lines of older
    sweeps, hackbench only, carry "hackbench_s" instead of workload,
    value and unit."""
    t = defaultdict(list)
    halts = defaultdict(int)
    waits = defaultdict(list)
    units = {}
    path = os.path.join(out, "takeover.jsonl")
    if not os.path.exists(path):
        return None
    for d in read_jsonl(path)[0]:
        if "workload" in d:
            w, v, u = d["workload"], d.get("value"), d.get("unit", "s")
        else:
            w, v, u = "hackbench", d.get("hackbench_s"), "s"
        if v is None:
            continue
        units[w] = u
        key = (d["scenario"], d["config"], w)
        t[key + (d["takeover"],)].append(v)
        halts[key] += d["halts"] if d["takeover"] else 0
        if d["takeover"] and "wait_us" in d:
            waits[key].append((d["wait_us"], d.get("steal_us", 0), d.get("oncpu_us", 0)))
    return t, halts, units, waits
